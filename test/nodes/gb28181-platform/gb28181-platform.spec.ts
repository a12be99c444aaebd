// gb28181-platform node in a real Node-RED runtime: a simulated device registers over UDP, its channels reach the store, alarms come out.
import assert from "node:assert/strict";
import path from "node:path";
import type { NodeMessage } from "node-red";
import { Store } from "../../../lib/store";
import { DEMO_SCHOOL_ID, seedDemoSchool } from "../../../sim/demo-school";
import { Gb28181DeviceSim } from "../../../sim/gb28181-device";
import { nodeRedHelper, onTab, testNode, catchNode } from "../../support/node-red";
import { freePort } from "../../support/processes";
import { tempDir } from "../../support/stores";
import safetyStoreNode = require("../../../nodes/safety-store/safety-store");
import platformNode = require("../../../nodes/gb28181-platform/gb28181-platform");

const helper = nodeRedHelper();
const DEVICE = "34020000001320000001";
const CHANNEL = "34020000001340000001";

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("gb28181-platform node", function () {
  let filename: string;
  let port: number;
  let sim: Gb28181DeviceSim;
  let out: NodeMessage[];
  let caught: NodeMessage[];

  before(async function () {
    this.timeout(60000);
    filename = path.join(tempDir("ssf-gb-node-"), "gb.db");
    const store = await Store.open({ dialect: "sqlite", filename });
    await seedDemoSchool(store);
    await store.close();
  });

  beforeEach(async function () {
    port = await freePort();
    await helper.load(
      [safetyStoreNode, platformNode, catchNode],
      onTab(
        [
          { id: "store", type: "safety-store", mode: "sqlite", filename },
          { id: "gb", type: "gb28181-platform", store: "store", schoolId: DEMO_SCHOOL_ID, host: "127.0.0.1", port, transport: "udp", platformId: "34020000002000000001", domain: "3402000000", keepaliveSec: 60, wires: [["out"]] },
          { id: "out", type: "helper" },
          { id: "catch", type: "catch", scope: ["gb"], wires: [["caught"]] },
          { id: "caught", type: "helper" },
        ],
        ["safety-store"],
      ),
      { gb: { defaultPassword: "12345678", passwords: "" } },
    );
    out = [];
    caught = [];
    testNode("out").on("input", (msg) => out.push(msg));
    testNode("caught").on("input", (msg) => caught.push(msg));
    sim = new Gb28181DeviceSim({ deviceId: DEVICE, password: "12345678", platformHost: "127.0.0.1", platformPort: port, platformId: "34020000002000000001", domain: "3402000000", channels: [DEVICE, CHANNEL] });
    await until(async () => {
      try {
        await sim.start();
        return true;
      } catch {
        return false;
      }
    }, "the simulator");
  });

  afterEach(async function () {
    await sim.stop();
    await helper.unload();
  });

  it("registers a device, stores it and its channels, and sends a journaled alarm on", async function () {
    await until(async () => (await sim.register().catch(() => 0)) === 200, "registration");
    const store = await Store.open({ dialect: "sqlite", filename });
    try {
      await until(async () => Boolean(await store.devices.get(CHANNEL)), "the channel in the store");
      const device = await store.devices.get(DEVICE);
      assert.deepEqual([device?.protocol, device?.name, device?.status], ["gb28181", "模拟摄像机", "online"]);
      assert.equal((await store.devices.get(CHANNEL))?.kind, "camera-channel");
    } finally {
      await store.close();
    }
    assert.equal((await sim.alarm({ channelId: CHANNEL, method: 5, type: 5, priority: 2, sn: 77 })).status, 200);
    await until(() => out.some((m) => m.topic === "line-crossing"), "the alarm event");
    const event = out.find((m) => m.topic === "line-crossing")!.payload as { deviceId: string; severity: string; source: string };
    assert.deepEqual([event.deviceId, event.severity, event.source], [CHANNEL, "high", "gb28181"]);
  });

  it("sends ResetAlarm to a registered device and refuses commands for unknown devices", async function () {
    await until(async () => (await sim.register().catch(() => 0)) === 200, "registration");
    testNode("gb").receive({ topic: "reset-alarm", payload: { deviceId: DEVICE, channelId: CHANNEL } });
    await until(() => sim.fromPlatform.some((m) => m.root === "Control"), "the control message");
    assert.deepEqual([sim.fromPlatform.find((m) => m.root === "Control")!.fields.AlarmCmd], ["ResetAlarm"]);
    testNode("gb").receive({ topic: "reset-alarm", payload: { deviceId: "34020000001320009999" } });
    testNode("gb").receive({ topic: "reset-alarm", payload: { deviceId: "nope" } });
    await until(() => caught.length === 2, "two errors");
    assert.deepEqual(
      caught.map((m) => String((m as NodeMessage & { error: { message: string } }).error.message)),
      ["ValidationError: gb28181-platform.errors.notRegistered", "ValidationError: gb28181-platform.errors.deviceId"],
    );
  });
});
