// Feature: lockdown runs its first actions in parallel and a roll call per classroom, finishing when every class has reported.
import assert from "node:assert/strict";
import type { EmbeddedProcessEngine } from "../../../lib/process";
import { describeEachStore } from "../../support/stores";
import { engineWithFixtures, eventually, incidentId } from "./support";

describeEachStore("Feature: lockdown roll call", (ctx) => {
  let engine: EmbeddedProcessEngine;
  beforeEach(async function () {
    engine = await engineWithFixtures(ctx.store);
    engine.registerWorker("send-cap-alert", async (job) => job.complete({ capSent: true }));
    engine.registerWorker("lock-doors", async (job) => job.complete({ doorsLocked: true }));
  });
  afterEach(() => engine.close());

  it("Scenario: Given a lockdown over three classes, When each teacher reports, Then the roll call finishes only after the last one and collects every report", async function () {
    const id = incidentId("LOCKDOWN");
    const classes = ["g1-c1", "g1-c2", "g2-c1"];
    const { instanceId } = await engine.startInstance({ bpmnProcessId: "lockdown", businessKey: id, variables: { incidentId: id, classes } });

    const tasks = await engine.listUserTasks({ businessKey: id, candidateGroups: ["teachers"] });
    assert.deepEqual(tasks.map((task) => task.variables.classId).sort(), [...classes].sort());
    assert.ok(tasks.every((task) => task.formId === "roll-call" && task.elementId === "roll-call"));
    await eventually(() => engine.getInstance(instanceId), (snapshot) => snapshot?.variables.capSent === true && snapshot.variables.doorsLocked === true);

    const statuses: Record<string, string> = { "g1-c1": "safe", "g1-c2": "missing", "g2-c1": "injured" };
    for (const task of tasks.slice(0, 2)) {
      await engine.completeUserTask(task.key, { status: statuses[String(task.variables.classId)] }, `teacher-of-${task.variables.classId}`);
      const snapshot = await engine.getInstance(instanceId);
      assert.ok(snapshot?.waitingAt.includes("roll-call") && !snapshot.waitingAt.includes("all-clear"), "still waiting for the other classes");
    }
    const last = tasks[2];
    await engine.completeUserTask(last.key, { status: statuses[String(last.variables.classId)] });

    const snapshot = await engine.getInstance(instanceId);
    assert.deepEqual(snapshot?.waitingAt, ["all-clear"]);
    const rollCall = snapshot?.variables.rollCall as Array<{ classId: string; status: string }>;
    assert.deepEqual(
      rollCall.map((report) => [report.classId, report.status]),
      classes.map((classId) => [classId, statuses[classId]]),
      "reports land at their class's index",
    );

    const signaled = await engine.broadcastSignal({ name: "all-clear" });
    assert.ok(signaled.signaledInstanceIds.includes(instanceId));
    assert.equal((await engine.getInstance(instanceId))?.status, "completed");
  });

  it("Scenario: Given a roll call nobody finishes, When the reminder is due, Then teachers are reminded and the roll call tasks stay open", async function () {
    const id = incidentId("LOCKDOWN");
    const reminders: string[] = [];
    engine.registerWorker("notify", async (job) => {
      if (job.businessKey === id) reminders.push(job.customHeaders.audience);
      return job.complete();
    });
    const { instanceId } = await engine.startInstance({
      bpmnProcessId: "lockdown",
      businessKey: id,
      variables: { incidentId: id, classes: ["g3-c1"], rollCallWithin: "PT0.5S" },
    });
    await eventually(async () => reminders, (list) => list.length === 1, 4000);
    assert.deepEqual(reminders, ["teachers"]);
    assert.equal((await engine.listUserTasks({ businessKey: id })).length, 1);
    assert.ok((await engine.getInstance(instanceId))?.waitingAt.includes("roll-call"));
  });
});
