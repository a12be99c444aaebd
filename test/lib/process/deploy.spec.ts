// Feature: deploying BPMN names the file and element of every problem, and what is sound still deploys.
import assert from "node:assert/strict";
import { EmbeddedProcessEngine, ProcessDefinitionError, ProcessNotFoundError } from "../../../lib/process";
import { describeEachStore } from "../../support/stores";
import { BROKEN_FIXTURES, fixture } from "./support";

describeEachStore("Feature: deployment", (ctx) => {
  let engine: EmbeddedProcessEngine;
  beforeEach(async function () {
    engine = await EmbeddedProcessEngine.open({ store: ctx.store });
  });
  afterEach(() => engine.close());

  it("Scenario: Given a broken file beside a sound one, When both are deployed, Then the sound one deploys and the problem names file and element", async function () {
    const result = await engine.deploy([fixture("service-task-without-type.bpmn", BROKEN_FIXTURES), fixture("evacuate.bpmn")]);
    assert.deepEqual(result.deployed.map((entry) => entry.bpmnProcessId), ["evacuate"]);
    assert.equal(result.problems.length, 1);
    assert.equal(result.problems[0].resourceName, "service-task-without-type.bpmn");
    assert.equal(result.problems[0].elementId, "task-without-type");
    assert.match(result.problems[0].message, /zeebe:taskDefinition/);
    await assert.rejects(engine.startInstance({ bpmnProcessId: "broken" }), ProcessNotFoundError);
  });

  it("Scenario: Given XML that is not BPMN, When deployed, Then the problem says so and names the file", async function () {
    const result = await engine.deploy([{ name: "truncated.bpmn", xml: "<bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'><bpmn:process id='p'>" }]);
    assert.deepEqual(result.deployed, []);
    assert.equal(result.problems[0].resourceName, "truncated.bpmn");
    assert.match(result.problems[0].message, /not readable BPMN XML/);
    await assert.rejects(engine.deployOrThrow([{ name: "truncated.bpmn", xml: "<nope" }]), (err: unknown) => err instanceof ProcessDefinitionError && /^truncated\.bpmn: /.test(err.message));
  });

  it("Scenario: Given a deployed process, When the same file is deployed again, Then the version stays; When it changes, Then a new version is added", async function () {
    const evacuate = fixture("evacuate.bpmn");
    const first = await engine.deploy([evacuate]);
    const again = await engine.deploy([evacuate]);
    assert.equal(again.deployed[0].version, first.deployed[0].version);
    const changed = await engine.deploy([{ name: evacuate.name, xml: evacuate.xml.replace('name="Evacuate"', 'name="Evacuate the school"') }]);
    assert.equal(changed.deployed[0].version, first.deployed[0].version + 1);
  });

  it("Scenario: Given a bad FEEL condition, When deployed, Then the problem names the sequence flow", async function () {
    const xml = fixture("evacuate.bpmn").xml.replace(
      '<bpmn:sequenceFlow id="to-assemble" sourceRef="unlock-exits" targetRef="assembled" />',
      '<bpmn:sequenceFlow id="to-assemble" sourceRef="unlock-exits" targetRef="assembled"><bpmn:conditionExpression>=if exitsOpen then</bpmn:conditionExpression></bpmn:sequenceFlow>',
    );
    const result = await engine.deploy([{ name: "bad-feel.bpmn", xml }]);
    assert.equal(result.problems[0]?.elementId, "to-assemble");
    assert.match(result.problems[0].message, /not valid FEEL/);
  });
});
