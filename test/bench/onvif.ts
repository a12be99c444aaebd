// ONVIF push on loopback: simulated camera posts Notify → parsed, normalized, journaled in SQLite → SafetyEvent emitted; p50/p99.
import path from "node:path";
import { OnvifCamera } from "../../lib/devices/onvif/camera";
import { NotifyServer } from "../../lib/devices/onvif/push-consumer";
import { sharedJournalWriter } from "../../lib/events";
import { Store } from "../../lib/store";
import { DEMO_SCHOOL_ID, seedDemoSchool } from "../../sim/demo-school";
import { OnvifCameraSim } from "../../sim/onvif-camera";
import { tempDir } from "../support/stores";
import { nowMs, percentile, report } from "./_stats";

const WARMUP = 300;
const SAMPLES = 3000;

async function main(): Promise<void> {
  const store = await Store.open({ dialect: "sqlite", filename: path.join(tempDir("ssf-bench-onvif-"), "bench.db") });
  await seedDemoSchool(store);
  const writer = sharedJournalWriter(store);
  const sim = new OnvifCameraSim();
  await sim.start();
  const consumer = new NotifyServer();
  await consumer.listen();
  let emitted: (() => void) | null = null;
  const camera = new OnvifCamera({
    host: "127.0.0.1",
    port: sim.port,
    username: "admin",
    password: "admin123",
    identity: { schoolId: DEMO_SCHOOL_ID, deviceId: "demo-school-cam-gate-north", zoneId: "demo-school-gate-north" },
    eventMode: "push",
    crowdThreshold: 20,
    notifyConsumer: consumer,
    // What the node does: journal first, then emit.
    deliver: async (event) => {
      const result = await writer.append(event);
      if (!result.duplicate) emitted?.();
    },
  });
  await new Promise<void>((resolve) => {
    camera.on("connection", (state) => state === "connected" && resolve());
    camera.start();
  });
  const latencies: number[] = [];
  for (let i = 0; i < WARMUP + SAMPLES; i += 1) {
    const arrived = new Promise<void>((resolve) => (emitted = resolve));
    const started = nowMs();
    // Distinct data per event, so that no two share an eventId within the second-precision UtcTime.
    sim.raise({ topic: "tns1:RuleEngine/LineDetector/Crossed", source: { VideoSourceConfigurationToken: "VideoSourceToken" }, data: { ObjectId: String(i) } });
    await arrived;
    if (i >= WARMUP) latencies.push(nowMs() - started);
  }
  report("onvif-notify-to-event-p50", percentile(latencies, 50), "ms");
  report("onvif-notify-to-event-p99", percentile(latencies, 99), "ms");
  await camera.stop();
  await consumer.close();
  await sim.stop();
  await store.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
