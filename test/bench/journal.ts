// Journal append through the event-journal node into SQLite: sustained rate, and single-event latency p99 under load.
import path from "node:path";
import { Store } from "../../lib/store";
import { tempDir } from "../support/stores";
import { nowMs, percentile, report, startRuntime, type RuntimeNode } from "./_stats";

function detection(i: number) {
  return {
    eventId: `bench-${i}`,
    schoolId: "demo-school",
    zoneId: "demo-school-gate-north",
    deviceId: "demo-school-cam-gate-north",
    kind: "line-crossing",
    severity: "medium",
    occurredAt: Date.now(),
    source: "onvif",
    details: { rule: "north gate", objectId: i },
  };
}

/** Available when run through test/bench/run.js (node --expose-gc). */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function main(): Promise<void> {
  const dir = tempDir("ssf-bench-");
  const filename = path.join(dir, "bench.db");
  const runtime = await startRuntime(dir, [
    { id: "tab", type: "tab" },
    { id: "store", type: "safety-store", mode: "sqlite", filename },
    { id: "journal", type: "event-journal", z: "tab", x: 100, y: 100, store: "store", duplicates: "forward", wires: [["out"]] },
    { id: "out", type: "junction", z: "tab", x: 300, y: 100, wires: [] },
  ]);
  const journal = runtime.node("journal") as RuntimeNode<{ payload: { eventId: string } }>;
  const out = runtime.node("out") as RuntimeNode<{ payload: { eventId: string } }>;
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let received = 0;
  let waiter: (() => void) | null = null;
  let target = 0;
  let next = 0;
  out.on("input", (msg) => {
    const started = sentAt.get(msg.payload.eventId);
    if (started !== undefined) {
      latencies.push(nowMs() - started);
      sentAt.delete(msg.payload.eventId);
    }
    received += 1;
    if (waiter && received >= target) waiter();
  });
  const until = (count: number) =>
    new Promise<void>((resolve) => {
      target = count;
      if (received >= count) resolve();
      else waiter = resolve;
    });

  // Warm up: open the store, create the schema, JIT.
  for (let i = 0; i < 2000; i += 1) journal.receive({ payload: detection(-1 - i) });
  await until(2000);

  /** Offers `perSecond` events/s in 2 ms ticks for `durationMs`; times one event in `sampleEvery` end to end. */
  async function offer(perSecond: number, durationMs: number, sampleEvery: number): Promise<{ sent: number; seconds: number }> {
    const perTick = Math.max(1, Math.round(perSecond / 500));
    const first = next;
    const before = received;
    const began = nowMs();
    let due = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const elapsed = nowMs() - began;
        if (elapsed >= durationMs) {
          clearInterval(timer);
          resolve();
          return;
        }
        // Catch up on ticks the timer could not keep, so the offered rate is the rate asked for.
        const owed = Math.floor((elapsed / 1000) * perSecond) - due;
        for (let i = 0; i < Math.max(perTick, owed); i += 1) {
          const id = next++;
          due += 1;
          if (id % sampleEvery === 0) sentAt.set(`bench-${id}`, nowMs());
          journal.receive({ payload: detection(id) });
        }
      }, 2);
    });
    await until(before + (next - first));
    return { sent: next - first, seconds: (nowMs() - began) / 1000 };
  }

  // Latency of single appends while the journal carries the goal load of 20,000 events/s. Measured first: the
  // saturation run below leaves a backlog whose garbage would be collected inside this window otherwise.
  collectGarbage();
  latencies.length = 0;
  sentAt.clear();
  const loaded = await offer(20000, 5000, 10);
  report("journal-append-load-per-s", loaded.sent / loaded.seconds, "events/s");
  report("journal-append-latency-p50", percentile(latencies, 50), "ms");
  report("journal-append-latency-p99", percentile(latencies, 99), "ms");

  // Sustained throughput: offer more than the goal and count what is journaled and passed on.
  collectGarbage();
  const saturated = await offer(60000, 4000, 1000000);
  report("journal-append-per-s", saturated.sent / saturated.seconds, "events/s");

  await runtime.stop();
  const store = await Store.open({ dialect: "sqlite", filename });
  const stored = await store.journal.count();
  await store.close();
  if (stored !== next + 2000) throw new Error(`journal holds ${stored} events, expected ${next + 2000}`);
  report("journal-stored-events", stored, "events");
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
