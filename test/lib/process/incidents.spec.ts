// Feature: a job whose retries run out becomes an incident that stays visible until it is resolved, then the process continues.
import assert from "node:assert/strict";
import type { EmbeddedProcessEngine } from "../../../lib/process";
import { describeEachStore } from "../../support/stores";
import { engineWithFixtures, eventually, incidentId } from "./support";

describeEachStore("Feature: retries and incidents", (ctx) => {
  let engine: EmbeddedProcessEngine;
  beforeEach(async function () {
    engine = await engineWithFixtures(ctx.store);
  });
  afterEach(() => engine.close());

  it("Scenario: Given a hand-over job with 2 retries, When the worker fails twice, Then an incident is raised; When it is resolved and the worker succeeds, Then the instance completes", async function () {
    const id = incidentId("INC");
    let healthy = false;
    const attempts: number[] = [];
    engine.registerWorker("hand-over", async (job) => {
      attempts.push(job.retries);
      if (!healthy) return job.fail(job.retries - 1, 10, "police radio gateway unreachable");
      return job.complete({ handedOver: true });
    });
    const { instanceId } = await engine.startInstance({ bpmnProcessId: "police-arrival", businessKey: id, variables: { incidentId: id } });
    await engine.publishMessage({ name: "police-arrived", correlationKey: id, variables: { officer: "Officer Li" } });

    const [incident] = await eventually(() => engine.listIncidents({ instanceId, unresolvedOnly: true }), (list) => list.length === 1);
    assert.deepEqual(attempts, [2, 1]);
    assert.equal(incident.kind, "job-no-retries");
    assert.equal(incident.elementId, "hand-over");
    assert.equal(incident.message, "police radio gateway unreachable");
    const stuck = await engine.getInstance(instanceId);
    assert.equal(stuck?.status, "active");
    assert.deepEqual(stuck?.waitingAt, ["hand-over"]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(attempts, [2, 1], "a job in an incident is not offered again");

    healthy = true;
    await engine.resolveIncident(incident.key, 1);

    const done = await eventually(() => engine.getInstance(instanceId), (snapshot) => snapshot?.status === "completed");
    assert.equal(done?.variables.handedOver, true);
    assert.equal((await engine.listIncidents({ instanceId, unresolvedOnly: true })).length, 0);
    assert.ok((await engine.listIncidents({ instanceId }))[0].resolvedAt);
    const actions = (await engine.history(instanceId)).map((entry) => entry.action);
    assert.ok(actions.includes("incident") && actions.includes("incident-resolved"));
  });

  it("Scenario: Given a worker that throws, When its retries run out, Then the thrown message is the incident's", async function () {
    const id = incidentId("INC");
    engine.registerWorker("hand-over", async () => {
      throw new Error("radio exploded");
    });
    const { instanceId } = await engine.startInstance({ bpmnProcessId: "police-arrival", businessKey: id, variables: { incidentId: id } });
    await engine.publishMessage({ name: "police-arrived", correlationKey: id });
    const [incident] = await eventually(() => engine.listIncidents({ instanceId, unresolvedOnly: true }), (list) => list.length === 1);
    assert.equal(incident.message, "radio exploded");
  });

  it("Scenario: Given a worker that never answers, When its timeout passes, Then the job is offered again with its retries unchanged", async function () {
    const id = incidentId("INC");
    const seen: number[] = [];
    engine.registerWorker(
      "hand-over",
      async (job) => {
        seen.push(job.retries);
        if (seen.length === 1) return new Promise<never>(() => undefined);
        return job.complete();
      },
      { timeoutMs: 200 },
    );
    const { instanceId } = await engine.startInstance({ bpmnProcessId: "police-arrival", businessKey: id, variables: { incidentId: id } });
    await engine.publishMessage({ name: "police-arrived", correlationKey: id });
    await eventually(() => engine.getInstance(instanceId), (snapshot) => snapshot?.status === "completed");
    assert.deepEqual(seen, [2, 2]);
  });
});
