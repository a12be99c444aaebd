// Feature: instances live in the store, not in the engine: closing it and opening a new one on the same store resumes them.
import assert from "node:assert/strict";
import { EmbeddedProcessEngine } from "../../../lib/process";
import { describeEachStore } from "../../support/stores";
import { engineWithFixtures, eventually, incidentId } from "./support";

describeEachStore("Feature: restart mid-process", (ctx) => {
  it("Scenario: Given a lockdown with roll call tasks open, When the engine restarts, Then the tasks are still listed and completing them continues the process", async function () {
    const id = incidentId("LOCKDOWN");
    const first = await engineWithFixtures(ctx.store);
    first.registerWorker("send-cap-alert", async (job) => job.complete({ capSent: true }));
    first.registerWorker("lock-doors", async (job) => job.complete());
    const { instanceId } = await first.startInstance({ bpmnProcessId: "lockdown", businessKey: id, variables: { incidentId: id, classes: ["a", "b"] } });
    await eventually(() => first.getInstance(instanceId), (snapshot) => snapshot?.variables.capSent === true);
    const [firstTask] = await first.listUserTasks({ businessKey: id });
    await first.completeUserTask(firstTask.key, { status: "safe" });
    await first.close();

    const second = await EmbeddedProcessEngine.open({ store: ctx.store });
    try {
      const open = await second.listUserTasks({ businessKey: id });
      assert.deepEqual(open.map((task) => task.variables.classId), ["b"]);
      await second.completeUserTask(open[0].key, { status: "safe" });
      const snapshot = await second.getInstance(instanceId);
      assert.deepEqual(snapshot?.waitingAt, ["all-clear"]);
      assert.deepEqual(
        (snapshot?.variables.rollCall as Array<{ classId: string }>).map((report) => report.classId),
        ["a", "b"],
      );
    } finally {
      await second.close();
    }
  });

  it("Scenario: Given an escalation timer pending, When the engine is down past its due time, Then it fires when the engine opens again", async function () {
    const id = incidentId("INC");
    const first = await engineWithFixtures(ctx.store);
    const { instanceId } = await first.startInstance({ bpmnProcessId: "alarm-triage", businessKey: id, variables: { incidentId: id, verifyWithin: "PT0.5S" } });
    await first.close();
    await new Promise((resolve) => setTimeout(resolve, 800));

    const second = await EmbeddedProcessEngine.open({ store: ctx.store });
    try {
      const audiences: string[] = [];
      second.registerWorker("notify", async (job) => {
        if (job.businessKey === id) audiences.push(job.customHeaders.audience);
        return job.complete();
      });
      await eventually(() => second.getInstance(instanceId), (snapshot) => snapshot?.status === "completed");
      assert.deepEqual(audiences, ["principal"]);
    } finally {
      await second.close();
    }
  });

  it("Scenario: Given a waiting instance, When it is saved, Then its state is compact and holds no copy of the process model", async function () {
    const id = incidentId("INC");
    const engine = await engineWithFixtures(ctx.store);
    try {
      const { instanceId } = await engine.startInstance({ bpmnProcessId: "alarm-triage", businessKey: id, variables: { incidentId: id } });
      const row = await ctx.store.processes.instance(instanceId);
      assert.ok(row?.state, "state saved");
      assert.ok(!row.state.includes("<bpmn:"), "no BPMN XML in the state");
      assert.ok(!row.state.includes('"source"'), "no serialized model in the state");
      assert.ok(row.state.length < 20000, `state is ${row.state.length} bytes`);
      await engine.cancelInstance(instanceId);
      const canceled = await engine.getInstance(instanceId);
      assert.equal(canceled?.status, "canceled");
      assert.deepEqual(await engine.listUserTasks({ businessKey: id }), []);
    } finally {
      await engine.close();
    }
  });
});
