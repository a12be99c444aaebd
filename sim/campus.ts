// The simulated campus's devices for `npm start`: an OSDP reader at the north gate and the duty room's alarm panel, on socat ptys.
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Store } from "../lib/store";
import { AlarmPanelSim } from "./alarm-panel";
import { DEMO_SCHOOL_ID } from "./demo-school";
import { OsdpLineSim, type OsdpReaderSim } from "./osdp-reader";
import { openPtyPair, type PtyPair } from "./pty";

export interface SimulatedCampus {
  /** Environment the prebuilt campus flows read their serial ports from. */
  env: { SSF_SIM_DOOR_PORT: string; SSF_SIM_PANEL_PORT: string; OSDP_SITE_KEY: string };
  stop(): Promise<void>;
}

const CARD_FACILITY = 1;
// 26-bit Wiegand holds card numbers up to 65,535.
const FIRST_CARD = 10_001;
const CARDS = 60;

/** Gate rules and student cards for the demo school, once: a school's own rules are never touched. */
async function seedDemoAccess(store: Store): Promise<void> {
  const snapshot = await store.access.snapshot(DEMO_SCHOOL_ID);
  if (snapshot.doorGroups.length > 0) return;
  await store.access.saveDoorGroup(DEMO_SCHOOL_ID, { id: "demo-school-gates", kind: "gate", name: "校门 Gates", doorIds: ["demo-school-gate-north", "demo-school-gate-south"] });
  await store.access.saveRule(DEMO_SCHOOL_ID, {
    id: "demo-school-students-gates",
    name: "学生上学日进出校门 Students at the gates on school days",
    who: { roles: ["student", "teacher", "staff"] },
    doorGroupId: "demo-school-gates",
    windows: [{ days: [1, 2, 3, 4, 5], from: "06:30", to: "18:30" }],
    calendar: { schoolDays: true, examDays: true, breaks: true },
  });
  await store.access.saveRule(DEMO_SCHOOL_ID, {
    id: "demo-school-guards-gates",
    name: "保安全天 Guards at any time",
    who: { roles: ["guard", "principal", "duty-officer"] },
    doorGroupId: "demo-school-gates",
    windows: [{ days: [0, 1, 2, 3, 4, 5, 6], from: "00:00", to: "24:00" }],
    calendar: { schoolDays: true, examDays: true, holidays: true, breaks: true },
  });
  const people = [...(await store.people.list(DEMO_SCHOOL_ID, { role: "guard" })), ...(await store.people.list(DEMO_SCHOOL_ID, { role: "student" }))].slice(0, CARDS);
  await store.access.saveCredentials(
    DEMO_SCHOOL_ID,
    people.map((person, i) => ({ kind: "card" as const, value: String(FIRST_CARD + i), personId: person.id, facilityCode: CARD_FACILITY, disabled: false, validFromMs: null, validUntilMs: null })),
  );
}

function siteKey(dataDir: string, env: NodeJS.ProcessEnv): string {
  if (env.OSDP_SITE_KEY) return env.OSDP_SITE_KEY;
  const file = path.join(dataDir, ".osdp-site-key");
  if (!fs.existsSync(file)) fs.writeFileSync(file, crypto.randomBytes(16).toString("hex"), { mode: 0o600 });
  return fs.readFileSync(file, "utf8").trim();
}

/**
 * Starts the simulated devices, or returns null with the reason when socat is missing (the rest of the campus runs).
 * Three seconds after the start, and then every 20 s, someone badges in at the north gate; every 10 minutes the alarm panel sends its periodic test.
 */
export async function startSimulatedCampus(dataDir: string, store: Store, env: NodeJS.ProcessEnv = process.env): Promise<SimulatedCampus | { skipped: string }> {
  if (spawnSync("socat", ["-V"], { stdio: "ignore" }).status !== 0) return { skipped: "socat is not installed (apt install socat): the simulated door reader and alarm panel are off" };
  await seedDemoAccess(store);
  const dir = path.join(dataDir, "sim");
  fs.mkdirSync(dir, { recursive: true });
  const key = siteKey(dataDir, env);
  const ptys: PtyPair[] = [await openPtyPair(dir, "door-line"), await openPtyPair(dir, "panel-line")];
  const line = new OsdpLineSim(ptys[0].deviceEnd, 38400);
  const reader: OsdpReaderSim = line.addReader(1, Buffer.from(key, "hex"));
  await line.open();
  const panel = new AlarmPanelSim({ path: ptys[1].deviceEnd, account: "1234", ackTimeoutMs: 2000, maxAttempts: 5 });
  await panel.open();
  let badge = 0;
  const presentNext = () => reader.presentCard(CARD_FACILITY, FIRST_CARD + (badge++ % CARDS));
  const firstBadge = setTimeout(presentNext, 3_000);
  const badgeTimer = setInterval(presentNext, 20_000);
  const testTimer = setInterval(() => void panel.report("602", { group: "00", zone: 0 }).catch(() => undefined), 600_000);
  return {
    env: { SSF_SIM_DOOR_PORT: ptys[0].hostEnd, SSF_SIM_PANEL_PORT: ptys[1].hostEnd, OSDP_SITE_KEY: key },
    async stop() {
      clearTimeout(firstBadge);
      clearInterval(badgeTimer);
      clearInterval(testTimer);
      await line.close();
      await panel.close();
      for (const pty of ptys) await pty.close();
    },
  };
}
