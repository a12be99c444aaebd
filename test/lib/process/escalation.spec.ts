// Feature: alarm triage escalates when nobody verifies the alarm in time.
import assert from "node:assert/strict";
import type { EmbeddedProcessEngine, Job } from "../../../lib/process";
import { describeEachStore } from "../../support/stores";
import { engineWithFixtures, eventually, incidentId } from "./support";

describeEachStore("Feature: alarm triage escalation", (ctx) => {
  let engine: EmbeddedProcessEngine;
  const notified: Job[] = [];

  beforeEach(async function () {
    notified.length = 0;
    engine = await engineWithFixtures(ctx.store);
    engine.registerWorker("notify", async (job) => {
      notified.push(job);
      return job.complete({ principalNotified: true });
    });
  });
  afterEach(() => engine.close());

  it("Scenario: Given an alarm in triage, When nobody verifies it within verifyWithin, Then the timer interrupts verification and the principal is notified", async function () {
    const id = incidentId("INC");
    const { instanceId } = await engine.startInstance({ bpmnProcessId: "alarm-triage", businessKey: id, variables: { incidentId: id, verifyWithin: "PT1S" } });
    const [task] = await engine.listUserTasks({ businessKey: id, candidateGroups: ["duty-room"] });
    assert.equal(task.elementId, "verify-alarm");
    assert.equal(task.formId, "verify-alarm");

    const done = await eventually(() => engine.getInstance(instanceId), (snapshot) => snapshot?.status === "completed", 6000);
    assert.equal(done?.variables.principalNotified, true);
    const escalation = notified.find((job) => job.businessKey === id);
    assert.ok(escalation, "the notify worker received the escalation job");
    assert.equal(escalation.customHeaders.audience, "principal");
    assert.equal(escalation.variables.text, `alarm not verified: ${id}`);
    assert.deepEqual(await engine.listUserTasks({ businessKey: id }), [], "the verification task is gone from the task list");
    const history = await engine.history(instanceId);
    assert.ok(history.some((entry) => entry.elementId === "treated-as-real" && entry.action === "completed"));
  });

  it("Scenario: Given an alarm in triage, When the duty room verifies it as false in time, Then nobody is escalated to", async function () {
    const id = incidentId("INC");
    const { instanceId } = await engine.startInstance({ bpmnProcessId: "alarm-triage", businessKey: id, variables: { incidentId: id, verifyWithin: "PT1S" } });
    const [task] = await engine.listUserTasks({ businessKey: id });
    await engine.claimUserTask(task.key, "duty-officer-wang");
    await engine.completeUserTask(task.key, { verdict: "false" });
    const snapshot = await engine.getInstance(instanceId);
    assert.equal(snapshot?.status, "completed");
    await new Promise((resolve) => setTimeout(resolve, 1300));
    assert.equal(notified.filter((job) => job.businessKey === id).length, 0);
    const [completed] = await engine.listUserTasks({ businessKey: id, status: "completed" });
    assert.equal(completed.completedBy, "duty-officer-wang");
    assert.ok((await engine.history(instanceId)).some((entry) => entry.elementId === "false-alarm"));
  });
});
