// Feature: a signal thrown by one process reaches the other instances of the school that wait for it, after the
// throwing step is saved, and a crash between the two delays the signal without losing it.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { EmbeddedProcessEngine } from "../../../lib/process";
import { describeEachStore } from "../../support/stores";
import { engineWithFixtures, eventually, incidentId } from "./support";

describeEachStore("Feature: signals thrown by a process", (ctx) => {
  let engine: EmbeddedProcessEngine;
  const announced: string[] = [];
  const register = (target: EmbeddedProcessEngine) =>
    target.registerWorker("announce", async (job) => {
      announced.push(`${job.businessKey ?? ""}:${String(job.variables.warning)}`);
      return job.complete();
    });

  beforeEach(async function () {
    announced.length = 0;
    engine = await engineWithFixtures(ctx.store);
    register(engine);
  });
  afterEach(() => engine.close());

  it("Scenario: Given two shelters in place, When a weather alert process throws weather-warning, Then both announce the warning it carries and the alert process ends", async function () {
    const first = incidentId("SHELTER");
    const second = incidentId("SHELTER");
    await engine.startInstance({ bpmnProcessId: "shelter", businessKey: first, variables: { incidentId: first } });
    await engine.startInstance({ bpmnProcessId: "shelter", businessKey: second, variables: { incidentId: second } });

    const { instanceId } = await engine.startInstance({ bpmnProcessId: "weather-alert", businessKey: "ALERT-1", variables: { warning: "tornado" } });
    assert.equal((await engine.getInstance(instanceId))?.status, "completed");
    const ours = () => announced.filter((entry) => entry.startsWith(first) || entry.startsWith(second)).sort();
    await eventually(async () => ours(), (list) => list.length === 2);
    assert.deepEqual(ours(), [`${first}:tornado`, `${second}:tornado`].sort());
    assert.ok((await engine.history(instanceId)).some((entry) => entry.action === "signal-thrown" && entry.elementId === "warn-schools"));
    assert.deepEqual(await ctx.store.processes.thrownSignals("default"), [], "a delivered signal leaves the outbox");
  });

  it("Scenario: Given a thrown signal saved but not delivered when the engine stopped, When an engine opens the store, Then the waiting shelter gets it", async function () {
    const id = incidentId("SHELTER");
    await engine.startInstance({ bpmnProcessId: "shelter", businessKey: id, variables: { incidentId: id } });
    await engine.close();
    await ctx.store.knex("process_signal_outbox").insert({
      id: crypto.randomBytes(8).toString("hex"),
      school_id: "default",
      name: "weather-warning",
      source_instance_id: "crashed-alert",
      variables: JSON.stringify({ warning: "flood" }),
      thrown_at: Date.now(),
    });

    engine = await EmbeddedProcessEngine.open({ store: ctx.store });
    register(engine);
    await eventually(async () => announced.filter((entry) => entry.startsWith(id)), (list) => list.length === 1);
    assert.deepEqual(announced.filter((entry) => entry.startsWith(id)), [`${id}:flood`]);
    await eventually(() => ctx.store.processes.thrownSignals("default"), (rows) => rows.length === 0);
  });
});
