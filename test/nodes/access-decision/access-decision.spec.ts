// access-decision node: a real Node-RED runtime and a real SQLite store; decisions on two outputs, modes, pass log, roster endpoints.
import assert from "node:assert/strict";
import path from "node:path";
import type { NodeMessage } from "node-red";
import { Store } from "../../../lib/store";
import { DEMO_SCHOOL_ID, seedDemoSchool } from "../../../sim/demo-school";
import { catchNode, nodeRedHelper, onTab, testNode } from "../../support/node-red";
import { tempDir } from "../../support/stores";
import { beijing, request, snapshot } from "../../lib/access/fixtures";
import safetyStoreNode = require("../../../nodes/safety-store/safety-store");
import accessDecisionNode = require("../../../nodes/access-decision/access-decision");

const helper = nodeRedHelper();
const SCHOOL_DAY_MORNING = new Date(beijing("2026-11-24T07:30")).toISOString();

interface Outputs {
  granted: NodeMessage[];
  denied: NodeMessage[];
  caught: NodeMessage[];
}

describe("access-decision node", function () {
  let filename: string;

  before(async function () {
    this.timeout(60000);
    filename = path.join(tempDir("ssf-access-node-"), "school.db");
    const store = await Store.open({ dialect: "sqlite", filename });
    await seedDemoSchool(store);
    const fixture = snapshot();
    for (const group of fixture.doorGroups) await store.access.saveDoorGroup(DEMO_SCHOOL_ID, group);
    for (const rule of fixture.rules) await store.access.saveRule(DEMO_SCHOOL_ID, rule);
    await store.access.addCalendarEntries(DEMO_SCHOOL_ID, fixture.calendar);
    await store.access.saveCredentials(DEMO_SCHOOL_ID, [
      { kind: "card", value: "1001", personId: "demo-school-s10101", facilityCode: null, disabled: false, validFromMs: null, validUntilMs: null },
      { kind: "card", value: "3001", personId: "demo-school-guard-001", facilityCode: null, disabled: false, validFromMs: null, validUntilMs: null },
    ]);
    await store.close();
  });

  afterEach(async function () {
    await helper.unload();
  });

  async function load(schoolId = DEMO_SCHOOL_ID): Promise<Outputs> {
    await helper.load(
      [safetyStoreNode, accessDecisionNode, catchNode],
      onTab(
        [
          { id: "store", type: "safety-store", mode: "sqlite", filename },
          { id: "decide", type: "access-decision", store: "store", schoolId, wires: [["granted"], ["denied"]] },
          { id: "granted", type: "helper" },
          { id: "denied", type: "helper" },
          { id: "catch", type: "catch", scope: ["decide"], wires: [["caught"]] },
          { id: "caught", type: "helper" },
        ],
        ["safety-store"],
      ),
    );
    const outputs: Outputs = { granted: [], denied: [], caught: [] };
    testNode("granted").on("input", (msg) => outputs.granted.push(msg));
    testNode("denied").on("input", (msg) => outputs.denied.push(msg));
    testNode("caught").on("input", (msg) => outputs.caught.push(msg));
    return outputs;
  }

  async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const started = Date.now();
    while (!check()) {
      if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async function passLog(requestId: string) {
    const store = await Store.open({ dialect: "sqlite", filename });
    try {
      return await store.knex("pass_log").where({ request_id: requestId }).select("granted", "reason", "person_id", "door_id");
    } finally {
      await store.close();
    }
  }

  it("sends granted requests to the first output and denied ones to the second, with the reason", async function () {
    const out = await load();
    const decide = testNode("decide");
    decide.receive({ payload: request("1001", "gate-north", { requestId: "n-grant", occurredAt: SCHOOL_DAY_MORNING }) });
    decide.receive({ payload: request("1001", "lab-science", { requestId: "n-lab", occurredAt: SCHOOL_DAY_MORNING }) });
    decide.receive({ payload: request("9999", "gate-north", { requestId: "n-unknown", occurredAt: SCHOOL_DAY_MORNING }) });
    await until(() => out.granted.length + out.denied.length === 3, "three decisions");
    assert.deepEqual(
      out.granted.map((m) => [(m.payload as { requestId: string }).requestId, (m.payload as { personId: string }).personId, m.topic]),
      [["n-grant", "demo-school-s10101", "access-decision"]],
    );
    assert.deepEqual(
      out.denied.map((m) => [(m.payload as { requestId: string }).requestId, (m.payload as { reason: string }).reason]),
      [
        ["n-lab", "no-rule"],
        ["n-unknown", "unknown-credential"],
      ],
    );
    assert.equal((out.granted[0] as NodeMessage & { request: { doorId: string } }).request.doorId, "gate-north");
    await helper.unload();
    assert.deepEqual(await passLog("n-grant"), [{ granted: 1, reason: "granted", person_id: "demo-school-s10101", door_id: "gate-north" }]);
    assert.deepEqual((await passLog("n-unknown")).map((r) => r.reason), ["unknown-credential"]);
  });

  it("obeys a lockdown sent as topic mode at once: students denied for mode, guards still let through, mode stored", async function () {
    const out = await load();
    const decide = testNode("decide");
    decide.receive({ topic: "mode", payload: "lockdown", actor: "process:lockdown-1" });
    decide.receive({ payload: request("1001", "gate-north", { requestId: "l-student", occurredAt: SCHOOL_DAY_MORNING }) });
    decide.receive({ payload: request("3001", "gate-north", { requestId: "l-guard", occurredAt: SCHOOL_DAY_MORNING }) });
    await until(() => out.granted.length + out.denied.length === 2, "two decisions");
    assert.deepEqual(out.denied.map((m) => (m.payload as { reason: string }).reason), ["mode"]);
    assert.deepEqual(out.granted.map((m) => (m.payload as { requestId: string }).requestId), ["l-guard"]);
    decide.receive({ topic: "mode", payload: "normal" });
    decide.receive({ payload: request("1001", "gate-north", { requestId: "l-after", occurredAt: SCHOOL_DAY_MORNING }) });
    await until(() => out.granted.length === 2, "the student after the lockdown");
    await helper.unload();
    const store = await Store.open({ dialect: "sqlite", filename });
    try {
      assert.equal((await store.access.settings(DEMO_SCHOOL_ID)).mode, "normal");
      const audit = await store.audit.list(DEMO_SCHOOL_ID);
      assert.ok(audit.some((a) => a.actor === "process:lockdown-1" && a.action === "access.mode" && (a.details as { mode?: string }).mode === "lockdown"), JSON.stringify(audit.slice(0, 3)));
    } finally {
      await store.close();
    }
  });

  it("rejects a malformed request with a red status naming the field, and keeps deciding", async function () {
    const out = await load();
    const decide = testNode("decide");
    const statuses: Array<{ fill?: string; text?: string }> = [];
    decide.on("call:status", (call: { args: Array<{ fill?: string; text?: string }> }) => statuses.push(call.args[0]));
    decide.receive({ payload: { requestId: "bad", schoolId: DEMO_SCHOOL_ID, doorId: "gate-north", readerId: "r", credential: { kind: "iris", value: "x" }, occurredAt: SCHOOL_DAY_MORNING } });
    decide.receive({ payload: "not an object" });
    decide.receive({ topic: "mode", payload: "panic-room" });
    decide.receive({ payload: request("1001", "gate-north", { requestId: "after-bad", occurredAt: SCHOOL_DAY_MORNING }) });
    await until(() => out.caught.length === 3 && out.granted.length === 1, "three errors and one decision");
    const errors = out.caught.map((m) => (m as NodeMessage & { error: { message: string } }).error.message);
    assert.match(errors[0], /credential/);
    assert.match(errors[1], /AccessRequest must be an object/);
    // node-red-node-test-helper replaces RED._ with the identity: messages show as their i18n keys here.
    assert.match(errors[2], /access-decision\.errors\.badMode/);
    assert.ok(statuses.some((s) => s.fill === "red" && s.text === "access-decision.status.invalid"), JSON.stringify(statuses));
  });

  it("refuses requests for another school", async function () {
    const out = await load();
    testNode("decide").receive({ payload: request("1001", "gate-north", { requestId: "x-school", schoolId: "other-school", occurredAt: SCHOOL_DAY_MORNING }) });
    await until(() => out.caught.length === 1, "the error");
    assert.match((out.caught[0] as NodeMessage & { error: { message: string } }).error.message, /access-decision\.errors\.otherSchool/);
  });

  it("reports an unknown school in its status and on every input", async function () {
    const out = await load("no-such-school");
    testNode("decide").receive({ payload: request("1001", "gate-north", { schoolId: "no-such-school" }) });
    await until(() => out.caught.length === 1, "the error");
    assert.match((out.caught[0] as NodeMessage & { error: { message: string } }).error.message, /access-decision\.errors\.unknownSchool/);
  });

  it("imports a roster through the admin endpoint, and the new cards are decided without a redeploy", async function () {
    const out = await load();
    const roster = "person_id,name,role,grade,class_id,cards\nhttp-s1,Via HTTP,student,1,demo-school-g1c1,7771\n";
    const bad = "person_id,name,role,grade,class_id,cards\nhttp-s2,,student,1,demo-school-g1c1,7772\n";
    const rejected = await helper.request().post("/school-safety/access-decision/decide/roster?lang=zh-CN").set("Content-Type", "text/csv").send(bad);
    assert.equal(rejected.status, 422);
    assert.deepEqual(
      rejected.body.problems.map((p: { row: number; column: string; code: string; message: string }) => [p.row, p.column, p.code, p.message]),
      [[2, "name", "required", "此处必须填写。"]],
    );
    const accepted = await helper.request().post("/school-safety/access-decision/decide/roster?fileName=r.csv").set("Content-Type", "text/csv").send(roster);
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    assert.deepEqual(accepted.body.imported, { people: 1, newPeople: 1, classes: 0, credentials: 1 });

    const decide = testNode("decide");
    let attempt = 0;
    await until(() => {
      if (out.granted.some((m) => (m.payload as { personId: string }).personId === "http-s1")) return true;
      decide.receive({ payload: request("7771", "gate-north", { requestId: `http-${attempt++}`, occurredAt: SCHOOL_DAY_MORNING }) });
      return false;
    }, "the imported card to be granted");

    const exported = await helper.request().get("/school-safety/access-decision/decide/roster?format=csv").buffer(true);
    assert.equal(exported.status, 200);
    assert.match(String(exported.headers["content-disposition"]), /roster-demo-school\.csv/);
    assert.match(exported.text, /\r\nhttp-s1,Via HTTP,student,1,demo-school-g1c1,[^,]*,,7771,/);
  });

  it("answers 404 for a node id that is not a deployed access-decision node", async function () {
    await load();
    const response = await helper.request().post("/school-safety/access-decision/store/roster").set("Content-Type", "text/csv").send("person_id,name,role\n");
    assert.equal(response.status, 404);
    assert.match(response.body.error, /access-decision\.errors\.notDeployed/);
  });
});
