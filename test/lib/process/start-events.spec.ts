// Feature: processes that start by a message or a signal — a fire alarm or the district's order starts a campus
// evacuation at its own start event, beside the plain start the duty room uses.
import assert from "node:assert/strict";
import { EmbeddedProcessEngine } from "../../../lib/process";
import { describeEachStore } from "../../support/stores";
import { engineWithFixtures, eventually, incidentId } from "./support";

const ALARM_ONLY = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="alarm-only" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:message id="smoke-message" name="smoke-detected" />
  <bpmn:process id="smoke-check" isExecutable="true">
    <bpmn:startEvent id="smoke"><bpmn:messageEventDefinition messageRef="smoke-message" /></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="smoke" targetRef="check" />
    <bpmn:userTask id="check"><bpmn:extensionElements><zeebe:userTask /></bpmn:extensionElements></bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="done" />
    <bpmn:endEvent id="done" />
  </bpmn:process>
</bpmn:definitions>`;

describeEachStore("Feature: message and signal start events", (ctx) => {
  let engine: EmbeddedProcessEngine;
  beforeEach(async function () {
    engine = await engineWithFixtures(ctx.store);
  });
  afterEach(() => engine.close());

  const evacuations = async (businessKey?: string) =>
    (await ctx.store.processes.instances({ schoolId: "default", status: "active", ...(businessKey ? { businessKey } : {}) })).filter(
      (instance) => instance.bpmnProcessId === "campus-evacuation",
    );

  it("Scenario: Given the duty room starts an evacuation, When it starts, Then it begins at the plain start event and waits for nothing but its task", async function () {
    const { instanceId } = await engine.startInstance({ bpmnProcessId: "campus-evacuation", businessKey: incidentId("EVAC") });
    const snapshot = await engine.getInstance(instanceId);
    assert.deepEqual(snapshot?.waitingAt, ["lead-out"], "the message and signal start events must not wait");
    assert.equal(snapshot?.variables.__startedBy, undefined, "the route variable stays out of the process variables");
    const history = (await engine.history(instanceId)).map((entry) => entry.elementId).filter(Boolean);
    assert.ok(history.includes("evacuation-ordered"), JSON.stringify(history));
    assert.ok(!history.includes("fire-alarm-received") && !history.includes("district-evacuation"), JSON.stringify(history));
    assert.ok(!history.some((elementId) => elementId?.includes("__")), `helper elements leaked into the history: ${JSON.stringify(history)}`);
  });

  it("Scenario: Given no evacuation for an alarm, When fire-alarm is published twice with its key, Then one evacuation starts at the alarm's start event with the message's variables, and a new one once it ended", async function () {
    const alarm = incidentId("FIRE");
    const first = await engine.publishMessage({ name: "fire-alarm", correlationKey: alarm, variables: { zone: "B-2" } });
    assert.equal(first.correlatedInstanceIds.length, 1);
    const [instanceId] = first.correlatedInstanceIds;
    const snapshot = await engine.getInstance(instanceId);
    assert.equal(snapshot?.bpmnProcessId, "campus-evacuation");
    assert.equal(snapshot?.businessKey, alarm, "the correlation key is the business key");
    assert.equal(snapshot?.variables.zone, "B-2");
    assert.equal(snapshot?.variables.__startedBy, undefined);
    assert.deepEqual(snapshot?.waitingAt, ["lead-out"]);
    const history = (await engine.history(instanceId)).map((entry) => entry.elementId);
    assert.ok(history.includes("fire-alarm-received") && !history.includes("evacuation-ordered"), JSON.stringify(history));

    const again = await engine.publishMessage({ name: "fire-alarm", correlationKey: alarm, variables: { zone: "B-2" } });
    assert.deepEqual(again.correlatedInstanceIds, [], "a second alarm with the same key starts no second evacuation");
    assert.equal((await evacuations(alarm)).length, 1);

    const [task] = await engine.listUserTasks({ businessKey: alarm });
    await engine.completeUserTask(task.key, { everyoneOut: true }, "teacher-zhao");
    assert.equal((await engine.getInstance(instanceId))?.status, "completed");
    const later = await engine.publishMessage({ name: "fire-alarm", correlationKey: alarm });
    assert.equal(later.correlatedInstanceIds.length, 1, "once the evacuation ended, the next alarm starts another");
    assert.notEqual(later.correlatedInstanceIds[0], instanceId);
  });

  it("Scenario: Given the district orders every campus out, When evacuate-campus is broadcast, Then an evacuation starts at the district's start event and survives a restart", async function () {
    const before = (await evacuations()).length;
    const signaled = await engine.broadcastSignal({ name: "evacuate-campus", variables: { orderedBy: "district" } });
    const after = await evacuations();
    assert.equal(after.length, before + 1);
    const started = after.find((instance) => signaled.signaledInstanceIds.includes(instance.id));
    assert.ok(started, "the signal reports the instance it started");
    const history = (await engine.history(started.id)).map((entry) => entry.elementId);
    assert.ok(history.includes("district-evacuation"), JSON.stringify(history));

    await engine.close();
    engine = await engineWithFixtures(ctx.store);
    const task = (await engine.listUserTasks({ bpmnProcessId: "campus-evacuation" })).find((candidate) => candidate.instanceId === started.id);
    assert.ok(task);
    await engine.completeUserTask(task.key, {}, "teacher-zhao");
    const done = await eventually(() => engine.getInstance(started.id), (snapshot) => snapshot?.status === "completed");
    assert.equal(done?.variables.orderedBy, "district");
  });

  it("Scenario: Given a process that starts only by a message, When someone starts it by hand, Then the start is refused naming the message, and the message starts it", async function () {
    await engine.deployOrThrow([{ name: "smoke-check.bpmn", xml: ALARM_ONLY }]);
    await assert.rejects(engine.startInstance({ bpmnProcessId: "smoke-check" }), /no plain start event: it starts by message "smoke-detected"/);
    const published = await engine.publishMessage({ name: "smoke-detected", correlationKey: "" });
    assert.equal(published.correlatedInstanceIds.length, 1);
    assert.deepEqual((await engine.getInstance(published.correlatedInstanceIds[0]))?.waitingAt, ["check"]);
  });
});
