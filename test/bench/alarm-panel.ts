// Panic frame on the serial wire → SafetyEvent journaled (the kissoff follows the commit), alone and during a detection flood.
import path from "node:path";
import { AlarmPanelSim } from "../../sim/alarm-panel";
import { openPtyPair } from "../../sim/pty";
import { tempDir } from "../support/stores";
import { nowMs, percentile, report, startRuntime } from "./_stats";

const PANICS = 300;
const FLOOD_PER_S = 5000;

async function panics(sim: AlarmPanelSim, count: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i += 1) {
    // Alternate zones so that no two consecutive messages are retransmissions of each other.
    const sent = await sim.report(i % 2 === 0 ? "120" : "122", { zone: 1 + (i % 500) });
    if (sent.kissoffAtMs === null) throw new Error(`panic ${i} was never acknowledged`);
    latencies.push(sent.kissoffAtMs - sent.sentAtMs);
  }
  return latencies;
}

async function main(): Promise<void> {
  const dir = tempDir("ssf-bench-panel-");
  const pty = await openPtyPair(dir);
  const runtime = await startRuntime(dir, [
    { id: "tab", type: "tab" },
    { id: "store", type: "safety-store", mode: "sqlite", filename: path.join(dir, "bench.db") },
    {
      id: "panel",
      type: "alarm-panel",
      z: "tab",
      x: 100,
      y: 100,
      store: "store",
      schoolId: "demo-school",
      panelId: "panel-main",
      port: pty.hostEnd,
      baudRate: 115200,
      protocol: "contact-id",
      zoneMap: "{}",
      // Every bench message is a new event: no retransmission window.
      retransmitWindowSec: 0,
      wires: [[]],
    },
    { id: "journal", type: "event-journal", z: "tab", x: 100, y: 200, store: "store", duplicates: "forward", wires: [[]] },
  ]);
  const sim = new AlarmPanelSim({ path: pty.deviceEnd, baudRate: 115200, ackTimeoutMs: 2000, maxAttempts: 1 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  await sim.open();
  try {
    await panics(sim, 50);
    const alone = await panics(sim, PANICS);
    report("panic-to-journal-p50", Number(percentile(alone, 50).toFixed(2)), "ms");
    report("panic-to-journal-p99", Number(percentile(alone, 99).toFixed(2)), "ms");

    const journal = runtime.node("journal");
    let flooded = 0;
    const floodStarted = nowMs();
    const flood = setInterval(() => {
      const due = Math.floor(((nowMs() - floodStarted) / 1000) * FLOOD_PER_S);
      for (; flooded < due; flooded += 1) {
        journal.receive({
          payload: {
            eventId: `flood-${flooded}`,
            schoolId: "demo-school",
            deviceId: "demo-school-cam-gate-north",
            kind: "line-crossing",
            severity: "medium",
            occurredAt: Date.now(),
            source: "onvif",
          },
        });
      }
    }, 5);
    const during = await panics(sim, PANICS);
    clearInterval(flood);
    const floodRate = flooded / ((nowMs() - floodStarted) / 1000);
    report("panic-to-journal-flood-p50", Number(percentile(during, 50).toFixed(2)), "ms");
    report("panic-to-journal-flood-p99", Number(percentile(during, 99).toFixed(2)), "ms");
    report("panic-flood-detections-per-s", Math.round(floodRate), "events/s");
  } finally {
    await sim.close();
    await runtime.stop();
    await pty.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
