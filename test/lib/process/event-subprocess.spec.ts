// Feature: event sub-processes — a shelter in place turns into a lockdown on a message (interrupting), reminds
// teachers on a timer and announces weather warnings on a signal (both beside the main flow).
import assert from "node:assert/strict";
import { EmbeddedProcessEngine } from "../../../lib/process";
import { describeEachStore } from "../../support/stores";
import { engineWithFixtures, eventually, fixture, incidentId } from "./support";

describeEachStore("Feature: event sub-processes", (ctx) => {
  let engine: EmbeddedProcessEngine;
  const locked: string[] = [];
  const reminded: string[] = [];
  const announced: string[] = [];

  let announcer: { stop(): Promise<void> };
  const registerWorkers = (target: EmbeddedProcessEngine) => {
    target.registerWorker("lock-doors", async (job) => {
      locked.push(job.businessKey ?? "");
      return job.complete({ doorsLocked: true });
    });
    target.registerWorker("remind-teachers", async (job) => {
      reminded.push(job.businessKey ?? "");
      return job.complete({ remindedAt: "now" });
    });
    announcer = target.registerWorker("announce", async (job) => {
      announced.push(`${job.businessKey ?? ""}:${String(job.variables.warning)}`);
      return job.complete();
    });
  };

  beforeEach(async function () {
    locked.length = 0;
    reminded.length = 0;
    announced.length = 0;
    engine = await engineWithFixtures(ctx.store, { timerPollMs: 100 });
    registerWorkers(engine);
  });
  afterEach(() => engine.close());

  const shelter = async (id: string, variables: Record<string, unknown> = {}) =>
    engine.startInstance({ bpmnProcessId: "shelter", businessKey: id, variables: { incidentId: id, ...variables } });

  it("Scenario: Given two shelters in place, When shelter-to-lockdown is published for one, Then its shelter task is canceled, its doors lock and it ends after the lockdown is confirmed, and the other still shelters", async function () {
    const id = incidentId("SHELTER");
    const other = incidentId("SHELTER");
    const { instanceId } = await shelter(id);
    const { instanceId: otherInstanceId } = await shelter(other);
    assert.deepEqual((await engine.listUserTasks({ businessKey: id })).map((task) => task.elementId), ["keep-sheltered"]);

    const published = await engine.publishMessage({ name: "shelter-to-lockdown", correlationKey: id, variables: { orderedBy: "principal" } });
    assert.deepEqual(published.correlatedInstanceIds, [instanceId]);

    const confirm = await eventually(
      () => engine.listUserTasks({ businessKey: id }),
      (tasks) => tasks.length === 1 && tasks[0].elementId === "confirm-lockdown",
    );
    assert.deepEqual(locked, [id]);
    assert.deepEqual(confirm[0].candidateGroups, ["safety-officers"]);
    assert.equal((await engine.listUserTasks({ businessKey: id, status: "canceled" }))[0]?.elementId, "keep-sheltered");

    await engine.completeUserTask(confirm[0].key, { allRoomsLocked: true }, "officer-li");
    const done = await engine.getInstance(instanceId);
    assert.equal(done?.status, "completed");
    assert.equal(done?.variables.orderedBy, "principal", "the message's variables reached the process");
    assert.equal(done?.variables.doorsLocked, true);

    const stillSheltering = await engine.getInstance(otherInstanceId);
    assert.equal(stillSheltering?.status, "active");
    assert.deepEqual((await engine.listUserTasks({ businessKey: other })).map((task) => task.elementId), ["keep-sheltered"]);
  });

  it("Scenario: Given a shelter in place, When the reminder is due and a weather warning is broadcast, Then teachers are reminded and the warning announced while the shelter task stays open, and all clear ends it", async function () {
    const id = incidentId("SHELTER");
    const { instanceId } = await shelter(id, { remindAfter: "PT0.3S" });
    await eventually(async () => reminded, (list) => list.length === 1, 5000);
    assert.deepEqual(reminded, [id]);

    const signaled = await engine.broadcastSignal({ name: "weather-warning", variables: { warning: "hail" } });
    assert.ok(signaled.signaledInstanceIds.includes(instanceId), "the signal reached the shelter");
    await eventually(async () => announced.filter((entry) => entry.startsWith(id)), (list) => list.length === 1);
    assert.deepEqual(announced.filter((entry) => entry.startsWith(id)), [`${id}:hail`]);

    const open = await engine.listUserTasks({ businessKey: id });
    assert.deepEqual(open.map((task) => task.elementId), ["keep-sheltered"], "non-interrupting triggers leave the main flow alone");
    await engine.completeUserTask(open[0].key, { allSafe: true }, "teacher-wang");
    const done = await eventually(() => engine.getInstance(instanceId), (snapshot) => snapshot?.status === "completed");
    assert.equal(done?.variables.remindedAt, "now");
    assert.equal(done?.variables.allSafe, true);
    const history = (await engine.history(instanceId)).map((entry) => entry.elementId);
    assert.ok(history.includes("remind-teachers") && history.includes("announce-weather"), JSON.stringify(history));
    assert.ok(!history.some((elementId) => elementId?.startsWith("shelter__")), `helper elements leaked into the history: ${JSON.stringify(history)}`);
  });

  it("Scenario: Given a weather warning still being announced, When the shelter turns into a lockdown, Then the announcement ends with the shelter, the doors lock and the lockdown's end ends the instance", async function () {
    await announcer.stop();
    const id = incidentId("SHELTER");
    const { instanceId } = await shelter(id);
    await engine.broadcastSignal({ name: "weather-warning", variables: { warning: "storm" } });
    await eventually(() => engine.getInstance(instanceId), (snapshot) => (snapshot?.waitingAt ?? []).includes("announce-weather"));

    await engine.publishMessage({ name: "shelter-to-lockdown", correlationKey: id });
    const confirm = await eventually(
      () => engine.listUserTasks({ businessKey: id }),
      (tasks) => tasks.length === 1 && tasks[0].elementId === "confirm-lockdown",
    );
    const waiting = (await engine.getInstance(instanceId))?.waitingAt ?? [];
    assert.ok(!waiting.includes("announce-weather"), `the announcement outlived the shelter: waiting at ${JSON.stringify(waiting)}`);
    assert.deepEqual(locked, [id]);

    await engine.completeUserTask(confirm[0].key, { allRoomsLocked: true }, "officer-li");
    const done = await engine.getInstance(instanceId);
    assert.equal(done?.status, "completed", `still waiting at ${JSON.stringify(done?.waitingAt)}`);
    assert.deepEqual(announced, [], "nothing was announced: the job ended unworked");
  });

  it("Scenario: Given a shelter in place saved by one engine, When another engine opens the store and the lockdown message arrives, Then the event sub-process still starts", async function () {
    const id = incidentId("SHELTER");
    const { instanceId } = await shelter(id);
    await engine.close();
    engine = await EmbeddedProcessEngine.open({ store: ctx.store, timerPollMs: 100 });
    registerWorkers(engine);
    const published = await engine.publishMessage({ name: "shelter-to-lockdown", correlationKey: id });
    assert.deepEqual(published.correlatedInstanceIds, [instanceId]);
    await eventually(() => engine.listUserTasks({ businessKey: id }), (tasks) => tasks.some((task) => task.elementId === "confirm-lockdown"));
    assert.deepEqual(locked, [id]);
  });

  it("Scenario: Given an event sub-process started by an escalation, When it is deployed, Then the deployment names the file and the event sub-process and the other processes still deploy", async function () {
    const xml = fixture("shelter.bpmn")
      .xml.replace('id="shelter"', 'id="shelter-escalation"')
      .replace('<bpmn:signalEventDefinition id="weather-warning-definition" signalRef="weather-warning-signal" />', '<bpmn:escalationEventDefinition id="weather-escalation" />');
    const result = await engine.deploy([{ name: "shelter-escalation.bpmn", xml }, fixture("door-drill.bpmn")]);
    assert.deepEqual(
      result.problems.map((problem) => [problem.resourceName, problem.elementId]),
      [["shelter-escalation.bpmn", "weather-update"]],
    );
    assert.match(result.problems[0].message, /event sub-process needs exactly one start event with a message, timer, signal or error trigger/);
    assert.deepEqual(result.deployed.map((deployed) => deployed.bpmnProcessId), ["door-drill"]);
  });
});
