// alarm-panel node over real socat ptys, with the simulated panel, in a real Node-RED runtime with a real SQLite store.
import assert from "node:assert/strict";
import path from "node:path";
import type { NodeMessage } from "node-red";
import { Store } from "../../../lib/store";
import { AlarmPanelSim } from "../../../sim/alarm-panel";
import { openPtyPair, type PtyPair } from "../../../sim/pty";
import { catchNode, nodeRedHelper, onTab, testNode } from "../../support/node-red";
import { tempDir } from "../../support/stores";
import safetyStoreNode = require("../../../nodes/safety-store/safety-store");
import alarmPanelNode = require("../../../nodes/alarm-panel/alarm-panel");

const helper = nodeRedHelper();

type Status = { fill?: string; shape?: string; text?: string };

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 8000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("alarm-panel node", function () {
  let pty: PtyPair;
  let sim: AlarmPanelSim;
  let filename: string;
  let outputs: NodeMessage[];
  let caught: NodeMessage[];
  let statuses: Status[];

  beforeEach(async function () {
    pty = await openPtyPair();
    filename = path.join(tempDir("ssf-panel-"), "panel.db");
  });

  afterEach(async function () {
    await sim?.close();
    await helper.unload();
    await pty.close();
  });

  async function load(extra: Record<string, unknown> = {}, protocol: "contact-id" | "line" = "contact-id"): Promise<void> {
    await helper.load(
      [safetyStoreNode, alarmPanelNode, catchNode],
      onTab(
        [
          { id: "store", type: "safety-store", mode: "sqlite", filename },
          {
            id: "panel",
            type: "alarm-panel",
            store: "store",
            schoolId: "demo-school",
            panelId: "panel-main",
            port: pty.hostEnd,
            baudRate: 9600,
            protocol,
            profile: "button",
            zoneMap: '{"15": "demo-school-duty-room"}',
            retransmitWindowSec: 30,
            wires: [["out"]],
            ...extra,
          },
          { id: "out", type: "helper" },
          { id: "catch", type: "catch", scope: ["panel"], wires: [["caught"]] },
          { id: "caught", type: "helper" },
        ],
        ["safety-store"],
      ),
    );
    outputs = [];
    caught = [];
    statuses = [];
    testNode("out").on("input", (msg) => outputs.push(msg));
    testNode("caught").on("input", (msg) => caught.push(msg));
    testNode("panel").on("call:status", (call: { args: Status[] }) => statuses.push(call.args[0]));
    sim = new AlarmPanelSim({ path: pty.deviceEnd, ackTimeoutMs: 500, maxAttempts: 3, protocol });
    await sim.open();
    await until(() => statuses.some((s) => s.fill === "green"), "the port to open");
  }

  async function journaled(): Promise<Array<{ kind: string; zoneId: string | null; details: Record<string, unknown> }>> {
    const store = await Store.open({ dialect: "sqlite", filename });
    try {
      return (await store.journal.list({ schoolId: "demo-school" })).map((e) => ({ kind: e.event.kind, zoneId: e.event.zoneId ?? null, details: e.event.details ?? {} }));
    } finally {
      await store.close();
    }
  }

  it("journals a panic, then kisses off the panel, then sends the SafetyEvent on", async function () {
    await load();
    const sent = await sim.panic(15);
    assert.notEqual(sent.kissoffAtMs, null, "the panel got its kissoff");
    assert.equal(sent.attempts, 1);
    const rows = await journaled();
    assert.deepEqual(rows.map((r) => [r.kind, r.zoneId]), [["panic", "demo-school-duty-room"]]);
    await until(() => outputs.length === 1, "the event on the output");
    const event = outputs[0].payload as { kind: string; severity: string; source: string; deviceId: string };
    assert.deepEqual([outputs[0].topic, event.kind, event.severity, event.source, event.deviceId], ["panic", "panic", "critical", "contact-id", "panel-main"]);
  });

  it("marks a silent panic silent and a restore as info", async function () {
    await load();
    await sim.silentPanic(3);
    await sim.restore("122", 3);
    await until(() => outputs.length === 2, "two events");
    const [silent, restore] = outputs.map((m) => m.payload as { kind: string; severity: string; details: { silent: boolean; restore: boolean } });
    assert.deepEqual([silent.kind, silent.severity, silent.details.silent, silent.details.restore], ["panic-silent", "critical", true, false]);
    assert.deepEqual([restore.kind, restore.severity, restore.details.restore], ["panic-silent", "info", true]);
  });

  it("refuses a message with a bad checksum (no kissoff, red status, Catch node told) and accepts the next good one", async function () {
    await load();
    const bad = await new AlarmPanelSim({ path: pty.deviceEnd, ackTimeoutMs: 300, maxAttempts: 1 });
    await sim.close();
    await bad.open();
    const refused = await bad.send("1234181130010051");
    assert.equal(refused.kissoffAtMs, null);
    assert.equal(bad.refusals, 1);
    await until(() => caught.length === 1, "the error at the Catch node");
    assert.match(String((caught[0] as NodeMessage & { error: { message: string } }).error.message), /checksum fails .* should be 5, not 1/);
    assert.ok(statuses.some((s) => s.fill === "red"), JSON.stringify(statuses));
    await bad.sendRaw(Buffer.from([0x00, 0xff, 0x13, 0x37]));
    const good = await bad.send("1234181110010048");
    await bad.close();
    assert.notEqual(good.kissoffAtMs, null);
    assert.deepEqual((await journaled()).map((r) => r.kind), ["fire"]);
    await until(() => statuses[statuses.length - 1]?.fill === "green", "green again");
  });

  it("journals a retransmitted message once and sends it on once", async function () {
    await load();
    await sim.sendRaw("123418112001015F\r\n123418112001015F\r\n");
    await sim.panic(2);
    await until(async () => (await journaled()).length === 2, "two journaled events");
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(outputs.length, 2);
  });

  it("goes yellow when the line is unplugged and takes messages again once it is back", async function () {
    await load();
    await sim.close();
    await pty.unplug();
    await until(() => statuses.some((s) => s.fill === "yellow"), "the retrying status");
    await pty.reconnect();
    sim = new AlarmPanelSim({ path: pty.deviceEnd, ackTimeoutMs: 500, maxAttempts: 10 });
    await sim.open();
    const sent = await sim.panic(15);
    assert.notEqual(sent.kissoffAtMs, null, "kissoff after reconnecting");
    assert.deepEqual((await journaled()).map((r) => r.kind), ["panic"]);
  });

  it("speaks the button line profile: BTN,<button>,PRESS,<seq> is answered ACK,<seq>", async function () {
    await load({ zoneMap: '{"gate-1": "demo-school-gate-north"}' }, "line");
    const sent = await sim.send("BTN,gate-1,PRESS,7");
    assert.notEqual(sent.kissoffAtMs, null);
    await until(() => outputs.length === 1, "the event");
    const event = outputs[0].payload as { kind: string; zoneId: string; deviceId: string; details: { seq: string } };
    assert.deepEqual([event.kind, event.zoneId, event.deviceId, event.details.seq], ["panic", "demo-school-gate-north", "panel-main/gate-1", "7"]);
  });

  it("reports a zone map that is not JSON as a configuration error and does not answer the panel", async function () {
    await helper.load(
      [safetyStoreNode, alarmPanelNode],
      onTab(
        [
          { id: "store", type: "safety-store", mode: "sqlite", filename },
          { id: "panel", type: "alarm-panel", store: "store", schoolId: "demo-school", panelId: "p", port: pty.hostEnd, protocol: "contact-id", zoneMap: "{15: duty}", wires: [[]] },
        ],
        ["safety-store"],
      ),
    );
    // The status is set while the node is constructed, before the helper can listen: read the error it logged instead.
    const logged = (helper.log() as unknown as { args: Array<[{ level: number; id?: string; msg?: unknown }]> }).args.map((a) => a[0]);
    const error = logged.find((entry) => entry.id === "panel" && entry.level === 20);
    assert.ok(error, JSON.stringify(logged));
    assert.match(String(error.msg), /zoneMap is not valid JSON/);
    sim = new AlarmPanelSim({ path: pty.deviceEnd, ackTimeoutMs: 200, maxAttempts: 1 });
    await sim.open();
    assert.equal((await sim.panic(1)).kissoffAtMs, null);
  });
});
