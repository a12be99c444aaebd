// The process nodes in a real Node-RED runtime on SQLite: deployment at start, start → task worker → complete job,
// BPMN errors, job timeouts, message correlation, signals, user tasks with forms, and the task-list HTTP API.
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import bcrypt from "bcryptjs";
import type { NodeMessage } from "node-red";
import type { ProcessEngineNode } from "../../../lib/nodered/process";
import { Store } from "../../../lib/store";
import { DEMO_SCHOOL_ID, seedDemoSchool } from "../../../sim/demo-school";
import { catchNode, nodeRedHelper, onTab, testNode } from "../../support/node-red";
import { tempDir } from "../../support/stores";
import { BROKEN_FIXTURES, FIXTURES, REPO_ROOT, eventually, incidentId } from "../../lib/process/support";
import safetyStoreNode = require("../../../nodes/safety-store/safety-store");
import processEngineNode = require("../../../nodes/process-engine/process-engine");
import processStartNode = require("../../../nodes/process-start/process-start");
import processMessageNode = require("../../../nodes/process-message/process-message");
import processSignalNode = require("../../../nodes/process-signal/process-signal");
import taskWorkerNode = require("../../../nodes/task-worker/task-worker");
import completeJobNode = require("../../../nodes/complete-job/complete-job");
import userTasksNode = require("../../../nodes/user-tasks/user-tasks");

const helper = nodeRedHelper();
// Shelter in place until the all-clear signal.
const SHELTER = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:modeler="http://camunda.org/schema/modeler/1.0" targetNamespace="http://bpmn.io/schema/bpmn" modeler:executionPlatform="Camunda Cloud" modeler:executionPlatformVersion="8.8" id="shelter-definitions">
  <bpmn:signal id="all-clear-signal" name="all-clear" />
  <bpmn:process id="shelter" isExecutable="true">
    <bpmn:startEvent id="sheltering" />
    <bpmn:sequenceFlow id="to-wait" sourceRef="sheltering" targetRef="all-clear" />
    <bpmn:intermediateCatchEvent id="all-clear"><bpmn:signalEventDefinition id="all-clear-definition" signalRef="all-clear-signal" /></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="to-end" sourceRef="all-clear" targetRef="released" />
    <bpmn:endEvent id="released" />
  </bpmn:process>
</bpmn:definitions>`;
const NODES = [safetyStoreNode, processEngineNode, processStartNode, processMessageNode, processSignalNode, taskWorkerNode, completeJobNode, userTasksNode, catchNode];
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("process nodes in Node-RED", function () {
  this.timeout(30000);
  let filename: string;
  let bpmnDir: string;
  let nodeServer: http.Server;
  let nodeUrl: string;
  let httpNodeApp: ((req: http.IncomingMessage, res: http.ServerResponse) => void) | null = null;
  const captureHttpNode = (red: { httpNode: (req: http.IncomingMessage, res: http.ServerResponse) => void }) => {
    httpNodeApp = red.httpNode;
  };
  const received: Record<string, NodeMessage[]> = {};
  const caught: NodeMessage[] = [];

  before(async function () {
    filename = path.join(tempDir("ssf-process-nodes-"), "process.db");
    const store = await Store.open({ dialect: "sqlite", filename });
    await seedDemoSchool(store);
    const hash = bcrypt.hashSync("fix-it", 4);
    await store.users.create({ id: "u-maint", schoolId: DEMO_SCHOOL_ID, username: "li.wei", displayName: "李伟", passwordHash: hash, personId: null, roles: ["maintenance"] });
    await store.users.create({ id: "u-guard", schoolId: DEMO_SCHOOL_ID, username: "zhang.guard", displayName: "张保安", passwordHash: bcrypt.hashSync("gate", 4), personId: null, roles: ["guard"] });
    await store.close();
    // The school's own folder: three fixtures and one file that cannot deploy.
    bpmnDir = tempDir("ssf-process-bpmn-");
    for (const name of ["police-arrival.bpmn", "evacuate.bpmn", "lockdown.bpmn"]) fs.copyFileSync(path.join(FIXTURES, name), path.join(bpmnDir, name));
    fs.copyFileSync(path.join(BROKEN_FIXTURES, "service-task-without-type.bpmn"), path.join(bpmnDir, "broken.bpmn"));
    fs.writeFileSync(path.join(bpmnDir, "shelter.bpmn"), SHELTER);
    nodeServer = http.createServer((req, res) => (httpNodeApp ? httpNodeApp(req, res) : res.writeHead(503).end()));
    await new Promise<void>((resolve) => nodeServer.listen(0, "127.0.0.1", resolve));
    nodeUrl = `http://127.0.0.1:${(nodeServer.address() as AddressInfo).port}`;
  });

  after(async function () {
    nodeServer.closeAllConnections();
    await new Promise((resolve) => nodeServer.close(resolve));
  });

  afterEach(async function () {
    await helper.unload();
  });

  async function load(nodes: Array<Record<string, unknown>>, engine: Record<string, unknown> = {}): Promise<ProcessEngineNode> {
    for (const key of Object.keys(received)) delete received[key];
    caught.length = 0;
    await helper.load(
      [...NODES, captureHttpNode as never],
      onTab(
        [
          { id: "store", type: "safety-store", mode: "sqlite", filename },
          { id: "engine", type: "process-engine", store: "store", schoolId: DEMO_SCHOOL_ID, kind: "embedded", bpmnDir, jobTimeoutSec: 300, ...engine },
          { id: "catch", type: "catch", scope: null, uncaught: false, wires: [["caught"]] },
          { id: "caught", type: "helper" },
          ...nodes,
        ],
        ["safety-store", "process-engine"],
      ),
    );
    testNode("caught").on("input", (msg) => caught.push(msg));
    for (const node of nodes.filter((n) => n.type === "helper")) {
      const id = String(node.id);
      received[id] = [];
      testNode(id).on("input", (msg) => received[id].push(msg));
    }
    return helper.getNode("engine") as unknown as ProcessEngineNode;
  }

  it("deploys the package's bpmn/ and the school's folder at start; a broken file is named with its element and the rest deploy", async function () {
    const engineNode = await load([]);
    const report = await engineNode.deployment();
    const deployed = report.deployed.map((d) => d.bpmnProcessId).sort();
    assert.deepEqual(deployed, ["device-fault", "evacuate", "lockdown", "police-arrival", "shelter"]);
    assert.equal(report.problems.length, 1);
    assert.equal(path.basename(report.problems[0].resourceName), "broken.bpmn");
    assert.ok(report.problems[0].elementId, "the element to blame is named");
    assert.ok(report.forms.includes("device-fault-check"));
    const logged = helper.log().args.filter((args: unknown[]) => (args[0] as { level?: number; msg?: unknown }).level === 20).map((args: unknown[]) => String((args[0] as { msg: unknown }).msg));
    // The runtime's catalog fills in file, element and reason (the test runtime logs bare keys).
    assert.ok(logged.includes("process-engine.errors.deploy"), logged.join("\n"));
  });

  it("start process → task worker → complete job: the variables reach the process and it ends", async function () {
    const engineNode = await load([
      { id: "start", type: "process-start", engine: "engine", bpmnProcessId: "police-arrival", wires: [["started"]] },
      { id: "started", type: "helper" },
      { id: "arrived", type: "process-message", engine: "engine", messageName: "police-arrived", ttlSec: 0, wires: [["correlated"]] },
      { id: "correlated", type: "helper" },
      { id: "worker", type: "task-worker", engine: "engine", taskType: "hand-over", timeoutSec: 30, wires: [["jobs", "complete"]] },
      { id: "jobs", type: "helper" },
      { id: "complete", type: "complete-job", engine: "engine", outcome: "complete", wires: [["completed"]] },
      { id: "completed", type: "helper" },
    ]);
    const incident = incidentId("police");
    testNode("start").receive({ payload: { incidentId: incident } });
    await eventually(async () => received.started.length, (n) => n === 1);
    const started = received.started[0].payload as { instanceId: string; businessKey: string };
    assert.equal(started.businessKey, incident);
    testNode("arrived").receive({ correlationKey: incident, payload: { officer: "Officer Wang" } });
    await eventually(async () => received.jobs.length, (n) => n === 1);
    const job = received.jobs[0] as NodeMessage & { job: { key: string; businessKey: string; type: string } };
    assert.equal(job.job.businessKey, incident);
    assert.equal(job.job.type, "hand-over");
    assert.equal((job.payload as { officerOnSite: string }).officerOnSite, "Officer Wang");
    await eventually(async () => received.completed.length, (n) => n === 1);
    assert.equal((received.completed[0] as NodeMessage & { outcome: string }).outcome, "completed");
    const host = await engineNode.host();
    const instance = await eventually(() => host.engine.getInstance(started.instanceId), (i) => i?.status === "completed");
    assert.equal(instance?.variables.officerOnSite, "Officer Wang");
    assert.deepEqual(caught, []);
  });

  it("correlates a message with its key only, and says so when nobody waits", async function () {
    const engineNode = await load([
      { id: "start", type: "process-start", engine: "engine", bpmnProcessId: "police-arrival", wires: [["started"]] },
      { id: "started", type: "helper" },
      { id: "arrived", type: "process-message", engine: "engine", messageName: "police-arrived", ttlSec: 0, wires: [["correlated"]] },
      { id: "correlated", type: "helper" },
    ]);
    const [a, b] = [incidentId("a"), incidentId("b")];
    testNode("start").receive({ businessKey: a, payload: { incidentId: a } });
    testNode("start").receive({ businessKey: b, payload: { incidentId: b } });
    await eventually(async () => received.started.length, (n) => n === 2);
    const ids = Object.fromEntries(received.started.map((m) => [(m.payload as { businessKey: string }).businessKey, (m.payload as { instanceId: string }).instanceId]));
    testNode("arrived").receive({ correlationKey: a, payload: { officer: "A" } });
    await eventually(async () => received.correlated.length, (n) => n === 1);
    assert.deepEqual((received.correlated[0].payload as { correlatedInstanceIds: string[] }).correlatedInstanceIds, [ids[a]]);
    const host = await engineNode.host();
    assert.deepEqual((await host.engine.getInstance(ids[b]))?.waitingAt, ["police-on-site"]);
    testNode("arrived").receive({ correlationKey: "nobody-waits", payload: {} });
    await eventually(async () => received.correlated.length, (n) => n === 2);
    assert.deepEqual(received.correlated[1].payload, { correlatedInstanceIds: [], buffered: false });
    // No correlation key: an error a Catch node receives, naming what is missing.
    testNode("arrived").receive({ payload: {} });
    await eventually(async () => caught.length, (n) => n === 1);
    assert.match(String((caught[0] as NodeMessage & { error: { message: string } }).error.message), /correlationKey/);
  });

  it("a BPMN error from complete-job is caught by the error boundary: the guards get the task to open the exits by hand", async function () {
    const engineNode = await load([
      { id: "start", type: "process-start", engine: "engine", bpmnProcessId: "evacuate", wires: [["started"]] },
      { id: "started", type: "helper" },
      { id: "worker", type: "task-worker", engine: "engine", taskType: "unlock-exits", timeoutSec: 30, wires: [["jammed"]] },
      { id: "jammed", type: "complete-job", engine: "engine", outcome: "error", errorCode: "DOORS_JAMMED", wires: [["ended"]] },
      { id: "ended", type: "helper" },
      { id: "tasks", type: "user-tasks", engine: "engine", action: "msg", wires: [["listed"]] },
      { id: "listed", type: "helper" },
    ]);
    const incident = incidentId("evac");
    testNode("start").receive({ payload: { incidentId: incident } });
    await eventually(async () => received.ended.length, (n) => n === 1);
    assert.equal((received.ended[0] as NodeMessage & { outcome: string }).outcome, "bpmn-error");
    testNode("tasks").receive({ topic: "list", payload: { businessKey: incident } });
    await eventually(async () => received.listed.length, (n) => n === 1);
    const tasks = received.listed[0].payload as Array<{ elementId: string; candidateGroups: string[] }>;
    assert.deepEqual(tasks.map((t) => [t.elementId, t.candidateGroups]), [["open-exits-by-hand", ["guards"]]]);
    const host = await engineNode.host();
    assert.equal((await host.engine.listIncidents({ unresolvedOnly: true })).length, 0);
  });

  it("a job the flow leaves unfinished times out and is offered again with the same key", async function () {
    await load([
      { id: "start", type: "process-start", engine: "engine", bpmnProcessId: "evacuate", wires: [[]] },
      { id: "worker", type: "task-worker", engine: "engine", taskType: "unlock-exits", timeoutSec: 1, wires: [["jobs"]] },
      { id: "jobs", type: "helper" },
    ]);
    testNode("start").receive({ payload: { incidentId: incidentId("timeout") } });
    await eventually(async () => received.jobs.length, (n) => n >= 2, 8000);
    const [first, second] = received.jobs as Array<NodeMessage & { job: { key: string; retries: number } }>;
    assert.equal(second.job.key, first.job.key);
    assert.equal(second.job.retries, first.job.retries, "a timeout does not use up a retry");
  });

  it("a failed job with no retries left becomes an incident", async function () {
    const engineNode = await load([
      { id: "start", type: "process-start", engine: "engine", bpmnProcessId: "evacuate", wires: [["started"]] },
      { id: "started", type: "helper" },
      { id: "worker", type: "task-worker", engine: "engine", taskType: "unlock-exits", timeoutSec: 30, wires: [["fail"]] },
      { id: "fail", type: "complete-job", engine: "engine", outcome: "fail", backoffSec: 0, wires: [["ended"]] },
      { id: "ended", type: "helper" },
    ]);
    testNode("start").receive({ payload: { incidentId: incidentId("fail") } });
    await eventually(async () => received.started.length, (n) => n === 1);
    const instanceId = (received.started[0].payload as { instanceId: string }).instanceId;
    // Every offer is failed with one retry less until none is left.
    const host = await engineNode.host();
    const incidents = await eventually(
      () => host.engine.listIncidents({ instanceId, unresolvedOnly: true }),
      (list) => list.length === 1,
      10000,
    );
    assert.equal(incidents[0].kind, "job-no-retries");
    // Jobs of earlier scenarios' instances (same store) may come too: count this instance's.
    const mine = received.ended.filter((m) => (m as NodeMessage & { job: { instanceId: string } }).job.instanceId === instanceId);
    assert.deepEqual(mine.map((m) => [(m as NodeMessage & { job: { retries: number } }).job.retries, (m as NodeMessage & { outcome: string }).outcome]), [
      [3, "failed"],
      [2, "failed"],
      [1, "failed"],
    ]);
  });

  it("a broadcast signal reaches every waiting instance", async function () {
    const engineNode = await load([
      { id: "start", type: "process-start", engine: "engine", bpmnProcessId: "shelter", wires: [["started"]] },
      { id: "started", type: "helper" },
      { id: "signal", type: "process-signal", engine: "engine", signalName: "all-clear", wires: [["signaled"]] },
      { id: "signaled", type: "helper" },
    ]);
    const host = await engineNode.host();
    testNode("start").receive({ payload: { incidentId: incidentId("shelter-1") } });
    testNode("start").receive({ payload: { incidentId: incidentId("shelter-2") } });
    await eventually(async () => received.started.length, (n) => n === 2);
    const ids = received.started.map((m) => (m.payload as { instanceId: string }).instanceId);
    testNode("signal").receive({ payload: { clearedBy: "principal" } });
    await eventually(async () => received.signaled.length, (n) => n === 1);
    assert.deepEqual([...(received.signaled[0].payload as { signaledInstanceIds: string[] }).signaledInstanceIds].sort(), [...ids].sort());
    for (const id of ids) {
      const instance = await eventually(() => host.engine.getInstance(id), (i) => i?.status === "completed");
      assert.equal(instance?.variables.clearedBy, "principal");
    }
  });

  describe("user tasks and the task-list API (device-fault, shipped in bpmn/)", function () {
    async function startFault(): Promise<{ engineNode: ProcessEngineNode; incident: string; taskKey: string }> {
      const engineNode = await load([
        { id: "start", type: "process-start", engine: "engine", bpmnProcessId: "device-fault", wires: [["started"]] },
        { id: "started", type: "helper" },
        { id: "tasks", type: "user-tasks", engine: "engine", action: "msg", wires: [["out"]] },
        { id: "out", type: "helper" },
        { id: "repairs", type: "task-worker", engine: "engine", taskType: "work-order", timeoutSec: 30, wires: [["orders", "done"]] },
        { id: "orders", type: "helper" },
        { id: "done", type: "complete-job", engine: "engine", outcome: "complete", wires: [[]] },
      ]);
      const incident = incidentId("fault");
      testNode("start").receive({ payload: { incidentId: incident, deviceId: "demo-school-cam-gate-north", kind: "device-offline" } });
      await eventually(async () => received.started.length, (n) => n === 1);
      const host = await engineNode.host();
      const [task] = await eventually(() => host.engine.listUserTasks({ businessKey: incident }), (list) => list.length === 1);
      return { engineNode, incident, taskKey: task.key };
    }

    const api = (pathname: string, init: RequestInit = {}) => fetch(`${nodeUrl}${pathname}`, init);

    it("refuses the API without a login or with a wrong password (401), and lists only the tasks of my groups", async function () {
      const { incident, taskKey } = await startFault();
      assert.equal((await api("/api/tasks")).status, 401);
      assert.equal((await api("/api/tasks", { headers: { authorization: basic("li.wei", "wrong") } })).status, 401);
      const mine = (await (await api("/api/tasks", { headers: { authorization: basic("li.wei", "fix-it") } })).json()) as { user: { groups: string[] }; tasks: Array<{ key: string; businessKey: string; formId: string }> };
      assert.deepEqual(mine.user.groups, ["maintenance"]);
      assert.ok(mine.tasks.some((t) => t.key === taskKey && t.businessKey === incident && t.formId === "device-fault-check"));
      const guards = (await (await api("/api/tasks", { headers: { authorization: basic("zhang.guard", "gate") } })).json()) as { tasks: Array<{ key: string }> };
      assert.ok(!guards.tasks.some((t) => t.key === taskKey), "a guard does not see maintenance tasks");
      const forbidden = await api(`/api/tasks/${taskKey}/complete`, { method: "POST", headers: { authorization: basic("zhang.guard", "gate"), "content-type": "application/json" }, body: JSON.stringify({ finding: "fixed" }) });
      assert.equal(forbidden.status, 403);
    });

    it("serves the task's form with its values, refuses invalid data field by field (in Chinese when asked), completes valid data and moves the process on", async function () {
      const { engineNode, incident, taskKey } = await startFault();
      const auth = { authorization: basic("li.wei", "fix-it") };
      const form = (await (await api(`/api/tasks/${taskKey}/form`, { headers: auth })).json()) as { id: string; fields: Array<{ key: string; value: unknown; required: boolean; options: unknown[] | null }> };
      assert.equal(form.id, "device-fault-check");
      assert.equal(form.fields.find((f) => f.key === "deviceId")?.value, "demo-school-cam-gate-north");
      assert.equal(form.fields.find((f) => f.key === "finding")?.required, true);
      assert.equal(form.fields.find((f) => f.key === "finding")?.options?.length, 3);

      const bad = await api(`/api/tasks/${taskKey}/complete`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json", "accept-language": "zh-CN,zh;q=0.9" },
        body: JSON.stringify({ finding: "exploded", downtimeMinutes: -5, notes: "x".repeat(501), colour: "red" }),
      });
      assert.equal(bad.status, 422);
      const body = (await bad.json()) as { error: { message: string; fields: Array<{ key: string; code: string; message: Record<string, string> }> } };
      assert.equal(body.error.message, "部分字段需要修改");
      assert.deepEqual(body.error.fields.map((f) => [f.key, f.code]).sort(), [["colour", "unknown-field"], ["downtimeMinutes", "min"], ["finding", "not-an-option"], ["notes", "max-length"]]);
      assert.ok(body.error.fields.every((f) => f.message["zh-CN"] && f.message["en-US"]));
      const host = await engineNode.host();
      assert.equal((await host.engine.getUserTask(taskKey))?.status, "created", "nothing was completed");

      const good = await api(`/api/tasks/${taskKey}/complete`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ finding: "needs-repair", downtimeMinutes: "45", notes: "lens cracked", deviceId: "demo-school-cam-gate-north" }).toString(),
      });
      assert.equal(good.status, 200, await good.clone().text());
      await eventually(async () => received.orders.length, (n) => n === 1);
      assert.equal((received.orders[0].payload as { downtimeMinutes: unknown }).downtimeMinutes, 45, "numbers arrive as numbers");
      const instance = await eventually(() => host.engine.getInstance((received.started[0].payload as { instanceId: string }).instanceId), (i) => i?.status === "completed");
      assert.equal(instance?.variables.finding, "needs-repair");
      assert.equal((await host.engine.getUserTask(taskKey))?.completedBy, "li.wei");
      const again = await api(`/api/tasks/${taskKey}/complete`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ finding: "fixed" }) });
      assert.equal(again.status, 409);
      const audit = await host.store.audit.list(DEMO_SCHOOL_ID);
      assert.ok(audit.some((entry) => entry.action === "task.complete" && entry.targetId === taskKey && entry.actor === "li.wei" && (entry.details as { businessKey: string }).businessKey === incident));
    });

    it("claim through the API keeps the task from others; the user-tasks node checks the form too", async function () {
      const { engineNode, taskKey } = await startFault();
      const claimed = await api(`/api/tasks/${taskKey}/claim`, { method: "POST", headers: { authorization: basic("li.wei", "fix-it") } });
      assert.equal(claimed.status, 200);
      assert.equal(((await claimed.json()) as { assignee: string }).assignee, "li.wei");
      testNode("tasks").receive({ topic: "complete", payload: { taskKey, variables: { finding: "maybe" }, completedBy: "li.wei" } });
      await eventually(async () => caught.length, (n) => n === 1);
      assert.match(String((caught[0] as NodeMessage & { error: { message: string } }).error.message), /user-tasks\.errors\.invalid/);
      assert.equal((await (await engineNode.host()).engine.getUserTask(taskKey))?.status, "created");
      testNode("tasks").receive({ topic: "complete", payload: { taskKey, variables: { finding: "fixed", safetyRisk: false }, completedBy: "li.wei" } });
      await eventually(async () => received.out.length, (n) => n === 1);
      const host = await engineNode.host();
      assert.equal((await host.engine.getUserTask(taskKey))?.status, "completed");
      assert.equal(received.orders.length, 0, "no repair ordered for a fixed device");
    });
  });

  it("the package ships only BPMN whose forms exist", function () {
    const bpmn = fs.readdirSync(path.join(REPO_ROOT, "bpmn")).filter((f) => f.endsWith(".bpmn"));
    const forms = new Set(fs.readdirSync(path.join(REPO_ROOT, "bpmn", "forms")).map((f) => JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "bpmn", "forms", f), "utf8")).id as string));
    for (const file of bpmn) {
      for (const [, formId] of fs.readFileSync(path.join(REPO_ROOT, "bpmn", file), "utf8").matchAll(/formId="([^"]+)"/g)) assert.ok(forms.has(formId), `${file} uses form ${formId}`);
    }
  });
});
