// Feature: messages reach the instance waiting with their correlation key, and wait for it within their time to live.
import assert from "node:assert/strict";
import type { EmbeddedProcessEngine } from "../../../lib/process";
import { describeEachStore } from "../../support/stores";
import { engineWithFixtures, incidentId } from "./support";

describeEachStore("Feature: message correlation", (ctx) => {
  let engine: EmbeddedProcessEngine;
  beforeEach(async function () {
    engine = await engineWithFixtures(ctx.store);
  });
  afterEach(() => engine.close());

  it("Scenario: Given two incidents waiting for the police, When police-arrived is published for one, Then that instance moves on and the other still waits", async function () {
    const first = incidentId("INC");
    const second = incidentId("INC");
    const a = await engine.startInstance({ bpmnProcessId: "police-arrival", businessKey: first, variables: { incidentId: first } });
    const b = await engine.startInstance({ bpmnProcessId: "police-arrival", businessKey: second, variables: { incidentId: second } });

    const published = await engine.publishMessage({ name: "police-arrived", correlationKey: first, variables: { officer: "Officer Li" } });

    assert.deepEqual(published, { correlatedInstanceIds: [a.instanceId], buffered: false });
    const moved = await engine.getInstance(a.instanceId);
    assert.deepEqual(moved?.waitingAt, ["hand-over"]);
    assert.equal(moved?.variables.officerOnSite, "Officer Li", "the output mapping took the message variable");
    assert.deepEqual((await engine.getInstance(b.instanceId))?.waitingAt, ["police-on-site"]);
  });

  it("Scenario: Given no instance waits yet, When the message is published with a TTL and the instance starts within it, Then the buffered message is delivered", async function () {
    const id = incidentId("INC");
    const published = await engine.publishMessage({ name: "police-arrived", correlationKey: id, variables: { officer: "Officer Zhao" }, timeToLiveMs: 5000 });
    assert.deepEqual(published, { correlatedInstanceIds: [], buffered: true });

    const started = await engine.startInstance({ bpmnProcessId: "police-arrival", businessKey: id, variables: { incidentId: id } });

    const snapshot = await waitFor(() => engine.getInstance(started.instanceId), (s) => s?.waitingAt.includes("hand-over") ?? false);
    assert.equal(snapshot?.variables.officerOnSite, "Officer Zhao");
    const second = await engine.startInstance({ bpmnProcessId: "police-arrival", businessKey: `${id}-again`, variables: { incidentId: id } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual((await engine.getInstance(second.instanceId))?.waitingAt, ["police-on-site"], "a buffered message is delivered once");
  });

  it("Scenario: Given a message published with a short TTL, When the instance starts after the TTL, Then the message is dropped and the instance waits", async function () {
    const id = incidentId("INC");
    await engine.publishMessage({ name: "police-arrived", correlationKey: id, timeToLiveMs: 150 });
    await new Promise((resolve) => setTimeout(resolve, 300));

    const started = await engine.startInstance({ bpmnProcessId: "police-arrival", businessKey: id, variables: { incidentId: id } });
    await new Promise((resolve) => setTimeout(resolve, 100));

    assert.deepEqual((await engine.getInstance(started.instanceId))?.waitingAt, ["police-on-site"]);
  });

  it("Scenario: Given nobody waits, When a message without TTL is published, Then it is neither delivered nor kept", async function () {
    const id = incidentId("INC");
    assert.deepEqual(await engine.publishMessage({ name: "police-arrived", correlationKey: id }), { correlatedInstanceIds: [], buffered: false });
    const started = await engine.startInstance({ bpmnProcessId: "police-arrival", businessKey: id, variables: { incidentId: id } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual((await engine.getInstance(started.instanceId))?.waitingAt, ["police-on-site"]);
  });
});

async function waitFor<T>(probe: () => Promise<T>, accept: (value: T) => boolean): Promise<T> {
  // Up to 5 s: the buffered message is delivered in the background after the instance's first save.
  for (let i = 0; i < 250; i += 1) {
    const value = await probe();
    if (accept(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return probe();
}
