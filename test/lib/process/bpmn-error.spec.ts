// Feature: a worker's BPMN error is caught by the error boundary event with its code.
import assert from "node:assert/strict";
import type { EmbeddedProcessEngine } from "../../../lib/process";
import { describeEachStore } from "../../support/stores";
import { engineWithFixtures, eventually, incidentId } from "./support";

describeEachStore("Feature: BPMN errors from workers", (ctx) => {
  let engine: EmbeddedProcessEngine;
  beforeEach(async function () {
    engine = await engineWithFixtures(ctx.store);
  });
  afterEach(() => engine.close());

  it("Scenario: Given an evacuation, When unlocking the exits throws DOORS_JAMMED, Then the guards get a task to open them by hand and the evacuation completes after it", async function () {
    const id = incidentId("EVAC");
    engine.registerWorker("unlock-exits", async (job) => job.bpmnError("DOORS_JAMMED", "north exit does not open", { jammedExit: "north" }));
    const { instanceId } = await engine.startInstance({ bpmnProcessId: "evacuate", businessKey: id });

    const [task] = await eventually(() => engine.listUserTasks({ businessKey: id, candidateGroups: ["guards"] }), (list) => list.length === 1);
    assert.equal(task.elementId, "open-exits-by-hand");
    assert.equal(task.variables.jammedExit, "north");
    assert.deepEqual((await engine.getInstance(instanceId))?.waitingAt, ["open-exits-by-hand"]);

    await engine.completeUserTask(task.key, {}, "guard-chen");
    assert.equal((await engine.getInstance(instanceId))?.status, "completed");
    assert.equal((await engine.listIncidents({ instanceId })).length, 0);
  });

  it("Scenario: Given an evacuation, When unlocking succeeds, Then no task is created", async function () {
    const id = incidentId("EVAC");
    engine.registerWorker("unlock-exits", async (job) => job.complete({ exitsOpen: true }));
    const { instanceId } = await engine.startInstance({ bpmnProcessId: "evacuate", businessKey: id });
    await eventually(() => engine.getInstance(instanceId), (snapshot) => snapshot?.status === "completed");
    assert.deepEqual(await engine.listUserTasks({ businessKey: id }), []);
  });
});
