// One panic behind 100,000 queued detections: how late it arrives through a plain flow and through event-priority, same run.
import path from "node:path";
import { tempDir } from "../support/stores";
import { nowMs, report, startRuntime, type RuntimeNode } from "./_stats";

const FLOOD = 100_000;

async function main(): Promise<void> {
  const dir = tempDir("ssf-bench-priority-");
  const runtime = await startRuntime(dir, [
    { id: "tab", type: "tab" },
    { id: "store", type: "safety-store", mode: "sqlite", filename: path.join(dir, "bench.db") },
    { id: "plain", type: "event-journal", z: "tab", x: 100, y: 100, store: "store", duplicates: "forward", wires: [["plain-out"]] },
    { id: "plain-out", type: "junction", z: "tab", x: 300, y: 100, wires: [] },
    { id: "priority", type: "event-priority", z: "tab", x: 100, y: 200, maxQueued: 200_000, coalesceWindowMs: 0, drainPerTick: 200, wires: [["urgent"], ["detections"]] },
    { id: "urgent", type: "event-journal", z: "tab", x: 300, y: 200, store: "store", duplicates: "forward", wires: [["urgent-out"]] },
    { id: "detections", type: "event-journal", z: "tab", x: 300, y: 260, store: "store", duplicates: "forward", wires: [["detections-out"]] },
    { id: "urgent-out", type: "junction", z: "tab", x: 500, y: 200, wires: [] },
    { id: "detections-out", type: "junction", z: "tab", x: 500, y: 260, wires: [] },
  ]);
  const delay = (run: string, entry: RuntimeNode, sink: RuntimeNode<{ payload: { eventId: string } }>) =>
    new Promise<number>((resolve) => {
      let started = 0;
      sink.on("input", (msg) => {
        if (msg.payload.eventId === `${run}-panic`) resolve(nowMs() - started);
      });
      for (let i = 0; i < FLOOD; i += 1) {
        entry.receive({ payload: { eventId: `${run}-${i}`, schoolId: "demo-school", deviceId: `cam-${i % 40}`, kind: "line-crossing", severity: "medium", occurredAt: Date.now(), source: "onvif" } });
      }
      started = nowMs();
      entry.receive({ payload: { eventId: `${run}-panic`, schoolId: "demo-school", deviceId: "btn-1", kind: "panic", severity: "critical", occurredAt: Date.now(), source: "contact-id" } });
    });
  try {
    const plainMs = await delay("plain", runtime.node("plain"), runtime.node("plain-out") as RuntimeNode<{ payload: { eventId: string } }>);
    report("panic-behind-100k-detections-delay-plain", Number(plainMs.toFixed(1)), "ms");
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const priorityMs = await delay("prio", runtime.node("priority"), runtime.node("urgent-out") as RuntimeNode<{ payload: { eventId: string } }>);
    report("panic-behind-100k-detections-delay-priority", Number(priorityMs.toFixed(1)), "ms");
  } finally {
    await runtime.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
