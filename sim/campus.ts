// The simulated campus's devices for `npm start`: an OSDP reader at the north gate and the duty room's alarm panel on socat ptys,
// an ONVIF camera at the north gate over HTTP and a GB/T 28181 camera on the playground over SIP/UDP, all on 127.0.0.1.
import { spawnSync } from "node:child_process";
import dgram from "node:dgram";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Store } from "../lib/store";
import { AlarmPanelSim } from "./alarm-panel";
import { DEMO_SCHOOL_ID } from "./demo-school";
import { Gb28181DeviceSim } from "./gb28181-device";
import { OnvifCameraSim } from "./onvif-camera";
import { OsdpLineSim, type OsdpReaderSim } from "./osdp-reader";
import { openPtyPair, type PtyPair } from "./pty";

export interface SimulatedCampus {
  /** Environment the prebuilt campus flows read their ports and device secrets from. */
  env: Record<string, string>;
  /** One line each for simulated devices that could not start (the rest of the campus runs). */
  notices: string[];
  /** Called once the flows run: devices that dial in (GB/T 28181) register now. */
  flowsStarted(): Promise<void>;
  stop(): Promise<void>;
}

/** The GB/T 28181 identities of the simulated platform and the playground camera (the demo school's device address). */
export const SIM_PLATFORM_ID = "34020000002000000001";
export const SIM_GB_DEVICE_ID = "34020000001320000001";

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

/** A secret from the environment, or one generated on the first start and kept (mode 0600) in the data folder. */
function secret(dataDir: string, envValue: string | undefined, fileName: string): string {
  if (envValue) return envValue;
  const file = path.join(dataDir, fileName);
  if (!fs.existsSync(file)) fs.writeFileSync(file, crypto.randomBytes(16).toString("hex"), { mode: 0o600 });
  return fs.readFileSync(file, "utf8").trim();
}

async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/**
 * Starts the simulated devices. Without socat the door reader and alarm panel are left out (named in `notices`).
 * Three seconds after the start, and then every 20 s, someone badges in at the north gate; every 10 minutes the alarm
 * panel sends its periodic test; the north gate camera sees motion every 2 minutes and a line crossing every 7; the
 * playground camera raises a perimeter alarm every 15 minutes.
 */
export async function startSimulatedCampus(dataDir: string, store: Store, env: NodeJS.ProcessEnv = process.env): Promise<SimulatedCampus> {
  const dir = path.join(dataDir, "sim");
  fs.mkdirSync(dir, { recursive: true });
  const notices: string[] = [];
  const timers: NodeJS.Timeout[] = [];
  const stops: Array<() => Promise<void>> = [];
  const campusEnv: Record<string, string> = {};

  if (spawnSync("socat", ["-V"], { stdio: "ignore" }).status !== 0) {
    notices.push("socat is not installed (apt install socat): the simulated door reader and alarm panel are off");
  } else {
    await seedDemoAccess(store);
    const key = secret(dataDir, env.OSDP_SITE_KEY, ".osdp-site-key");
    const ptys: PtyPair[] = [await openPtyPair(dir, "door-line"), await openPtyPair(dir, "panel-line")];
    const line = new OsdpLineSim(ptys[0].deviceEnd, 38400);
    const reader: OsdpReaderSim = line.addReader(1, Buffer.from(key, "hex"));
    await line.open();
    const panel = new AlarmPanelSim({ path: ptys[1].deviceEnd, account: "1234", ackTimeoutMs: 2000, maxAttempts: 5 });
    await panel.open();
    let badge = 0;
    const presentNext = () => reader.presentCard(CARD_FACILITY, FIRST_CARD + (badge++ % CARDS));
    timers.push(setTimeout(presentNext, 3_000), setInterval(presentNext, 20_000));
    timers.push(setInterval(() => void panel.report("602", { group: "00", zone: 0 }).catch(() => undefined), 600_000));
    Object.assign(campusEnv, { SSF_SIM_DOOR_PORT: ptys[0].hostEnd, SSF_SIM_PANEL_PORT: ptys[1].hostEnd, OSDP_SITE_KEY: key });
    stops.push(async () => {
      await line.close();
      await panel.close();
      for (const pty of ptys) await pty.close();
    });
  }

  // The north gate's ONVIF camera: PullPoint over HTTP with a WS-Security password of its own.
  const cameraPassword = secret(dataDir, env.ONVIF_PASSWORD, ".onvif-camera-password");
  const camera = new OnvifCameraSim({ host: "127.0.0.1", port: 0, username: env.ONVIF_USERNAME || "admin", password: cameraPassword, discoveryPort: null, model: "SSF-SIM-IPC" });
  await camera.start();
  timers.push(setInterval(() => camera.motion(true), 120_000), setInterval(() => camera.motion(false), 125_000 - 1_000));
  timers.push(setInterval(() => camera.lineCrossed(), 420_000));
  Object.assign(campusEnv, { SSF_SIM_CAMERA_PORT: String(camera.port), ONVIF_USERNAME: env.ONVIF_USERNAME || "admin", ONVIF_PASSWORD: cameraPassword });
  stops.push(() => camera.stop());

  // The playground's GB/T 28181 camera dials the platform node, which listens once the flows run.
  const sipPort = await freeUdpPort();
  const gbPassword = secret(dataDir, env.GB28181_PASSWORD, ".gb28181-password");
  const gbCamera = new Gb28181DeviceSim({ deviceId: SIM_GB_DEVICE_ID, password: gbPassword, platformHost: "127.0.0.1", platformPort: sipPort, platformId: SIM_PLATFORM_ID, domain: SIM_PLATFORM_ID.slice(0, 10), channels: [SIM_GB_DEVICE_ID] });
  Object.assign(campusEnv, { SSF_SIM_SIP_PORT: String(sipPort), GB28181_PASSWORD: gbPassword });
  let gbStarted = false;
  stops.push(async () => {
    gbCamera.stopKeepalives();
    if (gbStarted) await gbCamera.register(0).catch(() => undefined);
    await gbCamera.stop();
  });

  return {
    env: campusEnv,
    notices,
    async flowsStarted() {
      await gbCamera.start();
      gbStarted = true;
      // The platform node binds as its flow starts; a few tries cover a slow start.
      for (let attempt = 1; ; attempt += 1) {
        try {
          if ((await gbCamera.register(3600)) === 200) break;
          notices.push("the simulated GB/T 28181 camera was refused by the platform (wrong password?)");
          return;
        } catch (err) {
          if (attempt >= 5) {
            notices.push(`the simulated GB/T 28181 camera could not register: ${(err as Error).message}`);
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, 1_000));
        }
      }
      gbCamera.startKeepalives(60_000);
      timers.push(setInterval(() => void gbCamera.alarm({ channelId: SIM_GB_DEVICE_ID, priority: 2, method: 5, type: 6, description: "周界入侵 Perimeter intrusion" }).catch(() => undefined), 900_000));
    },
    async stop() {
      for (const timer of timers) clearInterval(timer);
      for (const stop of stops.reverse()) await stop();
    },
  };
}
