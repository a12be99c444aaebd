// osdp-door with access-decision in a real Node-RED runtime: a simulated reader on a socat pty, a real SQLite store.
import assert from "node:assert/strict";
import path from "node:path";
import type { NodeMessage } from "node-red";
import { CMD } from "../../../lib/devices/osdp/messages";
import { Store } from "../../../lib/store";
import { DEMO_SCHOOL_ID, seedDemoSchool } from "../../../sim/demo-school";
import { OsdpLineSim, type OsdpReaderSim } from "../../../sim/osdp-reader";
import { openPtyPair, type PtyPair } from "../../../sim/pty";
import { snapshot } from "../../lib/access/fixtures";
import { nodeRedHelper, onTab, testNode } from "../../support/node-red";
import { tempDir } from "../../support/stores";
import safetyStoreNode = require("../../../nodes/safety-store/safety-store");
import accessDecisionNode = require("../../../nodes/access-decision/access-decision");
import osdpBusNode = require("../../../nodes/osdp-bus/osdp-bus");
import osdpDoorNode = require("../../../nodes/osdp-door/osdp-door");

const helper = nodeRedHelper();
const SITE_KEY = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf";
type Status = { fill?: string; text?: string };

async function until(check: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("osdp-door node (simulated reader, access decision in the loop)", function () {
  let filename: string;
  let pty: PtyPair;
  let line: OsdpLineSim;
  let reader: OsdpReaderSim;
  let events: NodeMessage[];
  let requests: NodeMessage[];
  let statuses: Status[];

  before(async function () {
    this.timeout(60000);
    filename = path.join(tempDir("ssf-osdp-door-"), "door.db");
    const store = await Store.open({ dialect: "sqlite", filename });
    await seedDemoSchool(store);
    const fixture = snapshot();
    for (const group of fixture.doorGroups) await store.access.saveDoorGroup(DEMO_SCHOOL_ID, group);
    for (const rule of fixture.rules) await store.access.saveRule(DEMO_SCHOOL_ID, rule);
    // Guards may pass the gates at any hour of any day: the outcome does not depend on when the spec runs.
    await store.access.saveCredentials(DEMO_SCHOOL_ID, [
      { kind: "card", value: "3001", personId: "demo-school-guard-001", facilityCode: 12, disabled: false, validFromMs: null, validUntilMs: null },
    ]);
    await store.close();
  });

  afterEach(async function () {
    await helper.unload();
    await line?.close();
    await pty?.close();
  });

  async function load(options: { readerKey?: Buffer | null; secure?: boolean } = {}): Promise<void> {
    pty = await openPtyPair();
    line = new OsdpLineSim(pty.deviceEnd);
    reader = line.addReader(0x10, options.readerKey === undefined ? Buffer.from(SITE_KEY, "hex") : options.readerKey);
    await line.open();
    await helper.load(
      [safetyStoreNode, accessDecisionNode, osdpBusNode, osdpDoorNode],
      onTab(
        [
          { id: "store", type: "safety-store", mode: "sqlite", filename },
          { id: "bus", type: "osdp-bus", port: pty.hostEnd, baudRate: 9600, pollIntervalMs: 30, secure: options.secure ?? true, installMode: false },
          {
            id: "door",
            type: "osdp-door",
            bus: "bus",
            store: "store",
            address: 16,
            schoolId: DEMO_SCHOOL_ID,
            doorId: "gate-north",
            readerId: "reader-gate-north",
            zoneId: "demo-school-gate-north",
            contactInput: 0,
            rexInput: 1,
            lockOutput: 0,
            heldOpenSec: 1,
            pulseMs: 3000,
            wires: [["decide", "requests"], ["events"]],
          },
          { id: "decide", type: "access-decision", store: "store", schoolId: DEMO_SCHOOL_ID, wires: [["door"], ["door"]] },
          { id: "requests", type: "helper" },
          { id: "events", type: "helper" },
        ],
        ["safety-store", "osdp-bus"],
      ),
      { bus: { scbk: SITE_KEY } },
    );
    events = [];
    requests = [];
    statuses = [];
    testNode("events").on("input", (msg) => events.push(msg));
    testNode("requests").on("input", (msg) => requests.push(msg));
    testNode("door").on("call:status", (call: { args: Status[] }) => statuses.push(call.args[0]));
  }

  const kinds = () => events.map((m) => m.topic);
  const outputs = () => reader.commands(CMD.OUT).map((c) => c.data.toString("hex"));

  it("unlocks for a granted card through the Secure Channel, shows red for an unknown one", async function () {
    await load();
    await until(() => kinds().includes("device-online"), "the reader online");
    reader.presentCard(12, 3001);
    await until(() => outputs().length === 1, "the unlock on the wire");
    assert.deepEqual(outputs(), ["00053200"], "output 0, temporary on for the school's unlockMs: 50 × 100 ms");
    assert.ok(reader.commands(CMD.OUT).every((c) => c.secure), "commands travel encrypted");
    const request = requests[0].payload as { credential: { value: string; facilityCode: number; format: string }; doorId: string };
    assert.deepEqual([request.credential.value, request.credential.facilityCode, request.credential.format, request.doorId], ["3001", 12, "wiegand-26", "gate-north"]);
    // LED record byte 5 is the temporary on-colour: 2 green with the unlock (sent right after the output command).
    await until(() => reader.commands(CMD.LED).some((c) => c.data[5] === 2), "the green LED");
    reader.presentCard(12, 9999);
    await until(() => reader.commands(CMD.LED).some((c) => c.data[5] === 1), "the red LED");
    assert.equal(outputs().length, 1, "no unlock for an unknown card");
  });

  it("keeps the door locked in lockdown even for a granted card, until normal", async function () {
    await load();
    await until(() => kinds().includes("device-online"), "the reader online");
    testNode("door").receive({ payload: { command: "lockdown" } });
    await until(() => outputs().length === 1, "the lock command");
    assert.deepEqual(outputs(), ["00010000"], "lock output permanently off");
    reader.presentCard(12, 3001);
    await until(() => requests.length === 1 && statuses.some((s) => s.text === "osdp-door.status.refused"), "the refusal");
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(outputs(), ["00010000"], "no unlock during lockdown");
    testNode("door").receive({ payload: { command: "normal" } });
    reader.presentCard(12, 3001);
    await until(() => outputs().includes("00053200"), "the unlock after normal");
  });

  it("journals a forced door, a door held open and tamper, and not an opening after an unlock", async function () {
    await load();
    await until(() => kinds().includes("device-online"), "the reader online");
    reader.setInput(0, true);
    await until(() => kinds().includes("door-forced"), "door-forced");
    await until(() => kinds().includes("door-held"), "door-held", 4000);
    reader.setInput(0, false);
    reader.tamper(true);
    await until(() => kinds().includes("tamper"), "tamper");
    reader.presentCard(12, 3001);
    await until(() => outputs().length === 1, "the unlock");
    const forcedBefore = kinds().filter((k) => k === "door-forced").length;
    reader.setInput(0, true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(kinds().filter((k) => k === "door-forced").length, forcedBefore, "an authorised opening is not forced");
    const store = await Store.open({ dialect: "sqlite", filename });
    try {
      const journaled = (await store.journal.list({ schoolId: DEMO_SCHOOL_ID, limit: 50 })).filter((e) => e.event.deviceId === "reader-gate-north").map((e) => e.event.kind);
      for (const kind of ["door-forced", "door-held", "tamper", "device-online"]) assert.ok(journaled.includes(kind), `${kind} in ${journaled}`);
    } finally {
      await store.close();
    }
  });

  it("reports a reader that stops answering offline, and a reader with another key as refused", async function () {
    await load();
    await until(() => kinds().includes("device-online"), "the reader online");
    reader.answering = false;
    await until(() => kinds().includes("device-offline"), "device-offline");
    assert.ok(statuses.some((s) => s.fill === "red"));
    await helper.unload();
    await line.close();
    await pty.close();
    await load({ readerKey: Buffer.alloc(16, 9) });
    await until(() => statuses.some((s) => s.fill === "red" && s.text === "osdp-door.status.secureFailed"), "the refusal");
    assert.equal(reader.commands(CMD.POLL).length, 0, "never polled in plaintext");
  });
});
