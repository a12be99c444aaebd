// Feature: a message boundary turns a hold into an evacuation, which runs as a called process.
import assert from "node:assert/strict";
import type { EmbeddedProcessEngine } from "../../../lib/process";
import { describeEachStore } from "../../support/stores";
import { engineWithFixtures, eventually, incidentId } from "./support";

describeEachStore("Feature: hold escalated to evacuation", (ctx) => {
  let engine: EmbeddedProcessEngine;
  beforeEach(async function () {
    engine = await engineWithFixtures(ctx.store);
    engine.registerWorker("unlock-exits", async (job) => job.complete({ exitsOpen: true, unlockedFor: job.businessKey }));
  });
  afterEach(() => engine.close());

  it("Scenario: Given a hold with roll call open, When escalate-to-evacuation arrives for it, Then the roll call is interrupted, evacuate runs as a child with the business key, and the hold ends with its variables", async function () {
    const id = incidentId("HOLD");
    const { instanceId } = await engine.startInstance({ bpmnProcessId: "hold", businessKey: id, variables: { incidentId: id } });
    assert.equal((await engine.listUserTasks({ businessKey: id, candidateGroups: ["teachers"] })).length, 1);

    const published = await engine.publishMessage({ name: "escalate-to-evacuation", correlationKey: id, variables: { reason: "gas leak" } });
    assert.deepEqual(published.correlatedInstanceIds, [instanceId]);

    const done = await eventually(() => engine.getInstance(instanceId), (snapshot) => snapshot?.status === "completed");
    assert.equal(done?.variables.exitsOpen, true);
    assert.equal(done?.variables.unlockedFor, id, "the child ran with the parent's business key");
    assert.deepEqual(await engine.listUserTasks({ businessKey: id, bpmnProcessId: "hold" }), [], "the roll call was interrupted");
  });
});
