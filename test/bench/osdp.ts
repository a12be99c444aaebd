// Card read on the OSDP wire → access decision in a flow → unlock command on the wire, through the Secure Channel.
import fs from "node:fs";
import path from "node:path";
import { CMD } from "../../lib/devices/osdp/messages";
import { Store } from "../../lib/store";
import { DEMO_SCHOOL_ID, seedDemoSchool } from "../../sim/demo-school";
import { OsdpLineSim } from "../../sim/osdp-reader";
import { openPtyPair } from "../../sim/pty";
import { snapshot } from "../lib/access/fixtures";
import { tempDir } from "../support/stores";
import { nowMs, percentile, report, startRuntime } from "./_stats";

const READS = 300;
const SITE_KEY = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf";

async function main(): Promise<void> {
  const dir = tempDir("ssf-bench-osdp-");
  const filename = path.join(dir, "bench.db");
  const store = await Store.open({ dialect: "sqlite", filename });
  await seedDemoSchool(store);
  const fixture = snapshot();
  for (const group of fixture.doorGroups) await store.access.saveDoorGroup(DEMO_SCHOOL_ID, group);
  for (const rule of fixture.rules) await store.access.saveRule(DEMO_SCHOOL_ID, rule);
  await store.access.saveCredentials(DEMO_SCHOOL_ID, [
    { kind: "card", value: "3001", personId: "demo-school-guard-001", facilityCode: 12, disabled: false, validFromMs: null, validUntilMs: null },
  ]);
  await store.close();

  const pty = await openPtyPair(dir);
  const line = new OsdpLineSim(pty.deviceEnd, 115200);
  const reader = line.addReader(0x10, Buffer.from(SITE_KEY, "hex"));
  await line.open();
  // The site key goes where Node-RED keeps credentials (unencrypted here: the bench runtime has no credential secret).
  fs.writeFileSync(path.join(dir, "flows_cred.json"), JSON.stringify({ bus: { scbk: SITE_KEY } }));
  const runtime = await startRuntime(dir, [
    { id: "tab", type: "tab" },
    { id: "store", type: "safety-store", mode: "sqlite", filename },
    { id: "bus", type: "osdp-bus", port: pty.hostEnd, baudRate: 115200, pollIntervalMs: 20, secure: true, installMode: false },
    { id: "door", type: "osdp-door", z: "tab", x: 100, y: 100, bus: "bus", store: "store", address: 16, schoolId: DEMO_SCHOOL_ID, doorId: "gate-north", readerId: "reader-gate-north", heldOpenSec: 30, pulseMs: 3000, wires: [["decide"], []] },
    { id: "decide", type: "access-decision", z: "tab", x: 300, y: 100, store: "store", schoolId: DEMO_SCHOOL_ID, wires: [["door"], ["door"]] },
  ]);
  try {
    const started = nowMs();
    while (reader.commands(CMD.POLL).length < 5) {
      if (nowMs() - started > 15000) throw new Error("the reader never came online");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const latencies: number[] = [];
    for (let i = 0; i < READS + 20; i += 1) {
      const before = reader.commands(CMD.OUT).length;
      const presentedAt = performance.now();
      reader.presentCard(12, 3001);
      while (reader.commands(CMD.OUT).length === before) {
        if (performance.now() - presentedAt > 5000) throw new Error(`card ${i} was never answered with an unlock`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (i >= 20) latencies.push(reader.commands(CMD.OUT).at(-1)!.atMs - presentedAt);
      // Let the reader go back to plain polling between reads, as at a real door.
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    report("osdp-card-to-unlock-p50", Number(percentile(latencies, 50).toFixed(2)), "ms");
    report("osdp-card-to-unlock-p99", Number(percentile(latencies, 99).toFixed(2)), "ms");
  } finally {
    await runtime.stop();
    await line.close();
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
