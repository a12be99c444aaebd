// Child process of test/bench/gb28181.ts: the 200 simulated devices, so that they do not share the platform's CPU.
import { Gb28181DeviceSim } from "../../sim/gb28181-device";
import { nowMs, percentile } from "./_stats";

interface Command {
  port: number;
  devices: number;
  storm: number;
}

async function run({ port, devices, storm }: Command): Promise<void> {
  const sims: Gb28181DeviceSim[] = [];
  for (let i = 0; i < devices; i += 1) {
    const sim = new Gb28181DeviceSim({ deviceId: `3402000000132${String(i).padStart(7, "0")}`, password: "12345678", platformHost: "127.0.0.1", platformPort: port, platformId: "34020000002000000001", domain: "3402000000" });
    await sim.start();
    if ((await sim.register()) !== 200) throw new Error(`device ${i} did not register`);
    sim.startKeepalives(1000);
    sims.push(sim);
  }
  let next = 0;
  const started = nowMs();
  const sender = async () => {
    while (next < storm) {
      const n = next++;
      for (let attempt = 0; attempt < 5; attempt += 1) {
        try {
          // SIP's T1: a device sends again after 500 ms without an answer.
          await sims[n % sims.length].alarm({ sn: 100_000 + n, type: 6, priority: 1 }, { timeoutMs: 500 });
          break;
        } catch {
          // lost: a device sends again
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 128 }, sender));
  const stormMs = nowMs() - started;
  const latencies: number[] = [];
  const pending: Array<Promise<void>> = [];
  for (let i = 0; i < 2000; i += 1) {
    pending.push(sims[i % sims.length].alarm({ sn: 500_000 + i, type: 2, priority: 3 }).then((r) => void latencies.push(r.okAtMs - r.sentAtMs), () => undefined));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await Promise.all(pending);
  for (const sim of sims) await sim.stop();
  process.send!({ stormMs, p50: percentile(latencies, 50), p99: percentile(latencies, 99) });
}

process.once("message", (command: Command) => {
  run(command).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
});
