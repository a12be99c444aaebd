// event-priority node: a panic behind a detection flood, against a plain flow measured in the same run (a ratio, not a time).
import assert from "node:assert/strict";
import path from "node:path";
import type { NodeMessage } from "node-red";
import { catchNode, nodeRedHelper, onTab, testNode } from "../../support/node-red";
import { tempDir } from "../../support/stores";
import safetyStoreNode = require("../../../nodes/safety-store/safety-store");
import eventJournalNode = require("../../../nodes/event-journal/event-journal");
import eventPriorityNode = require("../../../nodes/event-priority/event-priority");

const helper = nodeRedHelper();
const FLOOD = Number(process.env.PRIORITY_FLOOD ?? 20_000);

function detection(run: string, i: number) {
  return { eventId: `${run}-d${i}`, schoolId: "demo-school", deviceId: `cam-${i % 40}`, kind: "line-crossing", severity: "medium", occurredAt: Date.now(), source: "onvif" };
}
const panic = (run: string) => ({ eventId: `${run}-panic`, schoolId: "demo-school", deviceId: "btn-1", kind: "panic", severity: "critical", occurredAt: Date.now(), source: "mqtt" });

describe("event-priority node", function () {
  afterEach(async function () {
    await helper.unload();
  });

  /** Sends FLOOD detections then one panic into `first`; resolves with how long the panic took to reach `sink`. */
  async function panicDelay(run: string, first: string, sink: string): Promise<number> {
    const entry = testNode(first);
    let arrived: (ms: number) => void = () => undefined;
    let started = 0;
    const done = new Promise<number>((resolve) => (arrived = resolve));
    testNode(sink).on("input", (msg: NodeMessage) => {
      if ((msg.payload as { eventId: string }).eventId === `${run}-panic`) arrived(performance.now() - started);
    });
    for (let i = 0; i < FLOOD; i += 1) entry.receive({ payload: detection(run, i) });
    started = performance.now();
    entry.receive({ payload: panic(run) });
    return done;
  }

  it("gets a panic through a detection flood several times sooner than a plain flow does", async function () {
    this.timeout(120000);
    const filename = path.join(tempDir("ssf-priority-"), "p.db");
    await helper.load(
      [safetyStoreNode, eventJournalNode, eventPriorityNode],
      onTab(
        [
          { id: "store", type: "safety-store", mode: "sqlite", filename },
          { id: "journal", type: "event-journal", store: "store", duplicates: "forward", wires: [["sink"]] },
          { id: "sink", type: "helper" },
        ],
        ["safety-store"],
      ),
    );
    const plainMs = await panicDelay("plain", "journal", "sink");
    await helper.unload();

    await helper.load(
      [safetyStoreNode, eventJournalNode, eventPriorityNode],
      onTab(
        [
          { id: "store", type: "safety-store", mode: "sqlite", filename },
          { id: "priority", type: "event-priority", maxQueued: 50_000, coalesceWindowMs: 0, drainPerTick: 200, wires: [["urgent"], ["journal"]] },
          { id: "urgent", type: "event-journal", store: "store", duplicates: "forward", wires: [["sink"]] },
          { id: "journal", type: "event-journal", store: "store", duplicates: "forward", wires: [["rest"]] },
          { id: "sink", type: "helper" },
          { id: "rest", type: "helper" },
        ],
        ["safety-store"],
      ),
    );
    let detectionsOut = 0;
    testNode("rest").on("input", () => (detectionsOut += 1));
    const priorityMs = await panicDelay("priority", "priority", "sink");
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (detectionsOut === FLOOD) {
          clearInterval(check);
          resolve();
        }
      }, 20);
    });
    assert.ok(priorityMs * 3 < plainMs, `panic after the flood: plain ${plainMs.toFixed(1)} ms, with priority ${priorityMs.toFixed(1)} ms`);
    assert.equal(detectionsOut, FLOOD, "no detection lost on the way");
  });

  it("coalesces and sheds detections and the counts add up to what came in", async function () {
    await helper.load(
      [eventPriorityNode, catchNode],
      onTab([
        { id: "priority", type: "event-priority", maxQueued: 30, coalesceWindowMs: 60_000, drainPerTick: 1000, wires: [["urgent"], ["rest"]] },
        { id: "urgent", type: "helper" },
        { id: "rest", type: "helper" },
        { id: "catch", type: "catch", scope: ["priority"], wires: [["caught"]] },
        { id: "caught", type: "helper" },
      ]),
    );
    const rest: NodeMessage[] = [];
    const caught: NodeMessage[] = [];
    testNode("rest").on("input", (msg) => rest.push(msg));
    testNode("caught").on("input", (msg) => caught.push(msg));
    const statuses: Array<{ fill?: string }> = [];
    testNode("priority").on("call:status", (call: { args: Array<{ fill?: string }> }) => statuses.push(call.args[0]));
    const priority = testNode("priority");
    priority.receive({ payload: { kind: "panic" } });
    // 100 cameras × 5 detections each: the first of each camera is queued (30 fit), later ones merge into it; the rest are shed.
    for (let round = 0; round < 5; round += 1) for (let cam = 0; cam < 100; cam += 1) priority.receive({ payload: { ...detection("c", round * 100 + cam), deviceId: `cam-${cam}` } });
    // The status is throttled to one change per 500 ms.
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.equal(rest.length, 30);
    assert.deepEqual(
      [...new Set(rest.map((m) => (m.payload as { details: { coalescedCount: number } }).details.coalescedCount))],
      [5],
    );
    // 30 queued × 5 merged = 150 accounted for; the other 350 were shed, which turns the status yellow and is logged.
    assert.ok(statuses.some((s) => s.fill === "yellow"), JSON.stringify(statuses.slice(-3)));
    const logged = (helper.log() as unknown as { args: Array<[{ level: number; id?: string; msg?: unknown }]> }).args.map((a) => a[0]);
    assert.ok(logged.some((entry) => entry.id === "priority" && entry.level === 30 && String(entry.msg).includes("event-priority.warnings.shed")), "shedding is logged");
    assert.equal(caught.length, 1, "the malformed panic is reported");
  });
});
