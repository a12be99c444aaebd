// event-journal node: journals SafetyEvents idempotently through a real Node-RED runtime and a real SQLite store.
import assert from "node:assert/strict";
import path from "node:path";
import type { NodeMessage } from "node-red";
import { catchNode, nodeRedHelper, onTab, testNode } from "../../support/node-red";
import { tempDir } from "../../support/stores";
import { Store } from "../../../lib/store";
import safetyStoreNode = require("../../../nodes/safety-store/safety-store");
import eventJournalNode = require("../../../nodes/event-journal/event-journal");

const helper = nodeRedHelper();

function panic(eventId: string, extra: Record<string, unknown> = {}) {
  return {
    eventId,
    schoolId: "demo-school",
    zoneId: "demo-school-duty-room",
    deviceId: "demo-school-panic-duty-room",
    kind: "panic",
    severity: "critical",
    occurredAt: "2026-11-24T08:00:00.000Z",
    source: "contact-id",
    details: { zone: 1 },
    ...extra,
  };
}

describe("event-journal node", function () {
  let dir: string;
  let filename: string;

  function flow(duplicates = "forward") {
    return onTab(
      [
        { id: "store", type: "safety-store", mode: "sqlite", filename },
        { id: "journal", type: "event-journal", store: "store", duplicates, wires: [["out"]] },
        { id: "out", type: "helper" },
        { id: "catch", type: "catch", scope: ["journal"], wires: [["caught"]] },
        { id: "caught", type: "helper" },
      ],
      ["safety-store"],
    );
  }

  beforeEach(function () {
    dir = tempDir();
    filename = path.join(dir, "journal.db");
  });

  afterEach(async function () {
    await helper.unload();
  });

  async function storedRows(): Promise<number> {
    const store = await Store.open({ dialect: "sqlite", filename });
    try {
      return await store.journal.count();
    } finally {
      await store.close();
    }
  }

  it("stores an event before passing it on, with topic = kind and occurredAt normalized", async function () {
    await helper.load([safetyStoreNode, eventJournalNode, catchNode], flow());
    const out = testNode("out");
    const received = new Promise<NodeMessage & { journal: { duplicate: boolean } }>((resolve) => out.on("input", resolve));
    testNode("journal").receive({ payload: panic("evt-1", { occurredAt: Date.parse("2026-11-24T08:00:00Z") }) });
    const msg = await received;
    assert.equal(msg.topic, "panic");
    assert.equal((msg.payload as { occurredAt: string }).occurredAt, "2026-11-24T08:00:00.000Z");
    assert.equal(msg.journal.duplicate, false);
    await helper.unload();
    assert.equal(await storedRows(), 1);
  });

  it("stores a repeated eventId once and marks the repeat as a duplicate", async function () {
    await helper.load([safetyStoreNode, eventJournalNode, catchNode], flow());
    const out = testNode("out");
    const seen: Array<{ journal: { duplicate: boolean } }> = [];
    const three = new Promise<void>((resolve) =>
      out.on("input", (msg: { journal: { duplicate: boolean } }) => {
        seen.push(msg);
        if (seen.length === 3) resolve();
      }),
    );
    const journal = testNode("journal");
    journal.receive({ payload: panic("evt-dup") });
    journal.receive({ payload: panic("evt-dup") });
    journal.receive({ payload: panic("evt-other") });
    await three;
    assert.deepEqual(
      seen.map((m) => m.journal.duplicate).sort(),
      [false, false, true],
    );
    await helper.unload();
    assert.equal(await storedRows(), 2);
  });

  it("drops duplicates when set to drop", async function () {
    await helper.load([safetyStoreNode, eventJournalNode, catchNode], flow("drop"));
    const out = testNode("out");
    const ids: string[] = [];
    out.on("input", (msg: { payload: { eventId: string } }) => ids.push(msg.payload.eventId));
    const journal = testNode("journal");
    journal.receive({ payload: panic("a") });
    journal.receive({ payload: panic("a") });
    journal.receive({ payload: panic("b") });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(ids.sort(), ["a", "b"]);
  });

  it("rejects an event missing a required field: error names the field, nothing stored, flow keeps running", async function () {
    await helper.load([safetyStoreNode, eventJournalNode, catchNode], flow());
    const caught = testNode("caught");
    const out = testNode("out");
    const error = new Promise<{ error: { message: string } }>((resolve) => caught.on("input", resolve));
    const bad = panic("evt-bad") as Record<string, unknown>;
    delete bad.severity;
    testNode("journal").receive({ payload: bad });
    const caughtMsg = await error;
    assert.match(caughtMsg.error.message, /severity/);
    const good = new Promise<NodeMessage>((resolve) => out.on("input", resolve));
    testNode("journal").receive({ payload: panic("evt-good") });
    assert.equal(((await good).payload as { eventId: string }).eventId, "evt-good");
    await helper.unload();
    assert.equal(await storedRows(), 1);
  });

  // node-red-node-test-helper replaces RED._ with the identity, so the status shows the i18n key here.
  it("shows a red 'invalid' status for a rejected event", async function () {
    await helper.load([safetyStoreNode, eventJournalNode, catchNode], flow());
    const journal = testNode("journal");
    const statuses: Array<{ fill?: string; text?: string }> = [];
    journal.on("call:status", (call: { args: Array<{ fill?: string; text?: string }> }) => statuses.push(call.args[0]));
    const caught = new Promise((resolve) => testNode("caught").on("input", resolve));
    journal.receive({ payload: { eventId: "x", schoolId: "s", severity: "high", occurredAt: "2026-01-01T00:00:00Z", source: "manual" } });
    await caught;
    const red = statuses.find((s) => s.fill === "red");
    assert.ok(red, `no red status among ${JSON.stringify(statuses)}`);
    assert.equal(red.text, "event-journal.status.invalid");
  });
});
