// GB/T 28181 alarms over UDP into the journal through the platform node, with 200 registered devices sending keepalives.
import { fork } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { Store } from "../../lib/store";
import { DEMO_SCHOOL_ID, seedDemoSchool } from "../../sim/demo-school";
import { freePort } from "../support/processes";
import { tempDir } from "../support/stores";
import { report, startRuntime } from "./_stats";

const DEVICES = 200;
const STORM = 10_000;

async function main(): Promise<void> {
  const dir = tempDir("ssf-bench-gb-");
  const filename = path.join(dir, "bench.db");
  const store = await Store.open({ dialect: "sqlite", filename });
  await seedDemoSchool(store);
  await store.close();
  const port = await freePort();
  fs.writeFileSync(path.join(dir, "flows_cred.json"), JSON.stringify({ gb: { defaultPassword: "12345678" } }));
  const runtime = await startRuntime(dir, [
    { id: "tab", type: "tab" },
    { id: "store", type: "safety-store", mode: "sqlite", filename },
    { id: "gb", type: "gb28181-platform", z: "tab", x: 100, y: 100, store: "store", schoolId: DEMO_SCHOOL_ID, host: "127.0.0.1", port, transport: "udp", platformId: "34020000002000000001", domain: "3402000000", keepaliveSec: 60, wires: [[]] },
  ]);
  try {
    // The devices run in a child process: the figure is the platform's, not the simulators'.
    const child = fork(path.join(__dirname, "_gb28181-devices.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const result = await new Promise<{ stormMs: number; p50: number; p99: number }>((resolve, reject) => {
      child.once("message", (message) => resolve(message as { stormMs: number; p50: number; p99: number }));
      child.once("exit", (code) => reject(new Error(`the device simulators exited with ${code}`)));
      child.send({ port, devices: DEVICES, storm: STORM });
    });
    const check = await Store.open({ dialect: "sqlite", filename });
    const journaled = Number((await check.knex("events").where({ kind: "field-intrusion" }).count({ n: "*" }))[0].n);
    await check.close();
    if (journaled !== STORM) throw new Error(`journaled ${journaled} of ${STORM}`);
    report("gb28181-alarms-per-s", Math.round(STORM / (result.stormMs / 1000)), "events/s");
    report("gb28181-alarm-to-200ok-p50", Number(result.p50.toFixed(2)), "ms");
    report("gb28181-alarm-to-200ok-p99", Number(result.p99.toFixed(2)), "ms");
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
