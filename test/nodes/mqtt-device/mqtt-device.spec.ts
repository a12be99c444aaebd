// mqtt-device node against a real Mosquitto broker, through Node-RED's own mqtt-broker node and a real SQLite store.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import type { NodeMessage } from "node-red";
import { Store } from "../../../lib/store";
import { catchNode, nodeRedHelper, onTab, testNode } from "../../support/node-red";
import { tempDir } from "../../support/stores";
import safetyStoreNode = require("../../../nodes/safety-store/safety-store");
import mqttDeviceNode = require("../../../nodes/mqtt-device/mqtt-device");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mqttNodes = require("@node-red/nodes/core/network/10-mqtt.js");

const helper = nodeRedHelper();
const MQTT_URL = process.env.MQTT_URL ?? "mqtt://127.0.0.1:1883";

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 8000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("mqtt-device node (real Mosquitto)", function () {
  let device: MqttClient;
  let schoolId: string;
  let filename: string;
  let out: { events: NodeMessage[]; requests: NodeMessage[]; health: NodeMessage[]; caught: NodeMessage[] };
  let fromPlatform: Array<{ topic: string; payload: Record<string, unknown> }>;

  before(async function () {
    filename = path.join(tempDir("ssf-mqtt-"), "mqtt.db");
    const store = await Store.open({ dialect: "sqlite", filename });
    await store.schools.create({ id: "mqtt-school", name: "MQTT 学校", nameEn: "MQTT school", timeZone: "Asia/Shanghai" });
    await store.devices.upsert({ id: "door-7", schoolId: "mqtt-school", kind: "door-controller", protocol: "mqtt", address: "mqtt", zoneId: null, name: "Door 7", status: "unknown", lastSeen: null, details: {} });
    await store.close();
  });

  beforeEach(async function () {
    schoolId = `mqtt-${crypto.randomBytes(4).toString("hex")}`;
    const url = new URL(MQTT_URL);
    await helper.load(
      [safetyStoreNode, mqttDeviceNode, catchNode, mqttNodes],
      onTab(
        [
          { id: "broker", type: "mqtt-broker", broker: url.hostname, port: url.port || "1883", clientid: "", autoConnect: true, usetls: false, protocolVersion: "4", keepalive: "60", cleansession: true },
          { id: "store", type: "safety-store", mode: "sqlite", filename },
          { id: "devices", type: "mqtt-device", broker: "broker", store: "store", schoolId, wires: [["events"], ["requests"], ["health"]] },
          { id: "events", type: "helper" },
          { id: "requests", type: "helper" },
          { id: "health", type: "helper" },
          { id: "catch", type: "catch", scope: ["devices"], wires: [["caught"]] },
          { id: "caught", type: "helper" },
        ],
        ["mqtt-broker", "safety-store"],
      ),
    );
    out = { events: [], requests: [], health: [], caught: [] };
    for (const name of ["events", "requests", "health", "caught"] as const) testNode(name).on("input", (msg) => out[name].push(msg));
    fromPlatform = [];
    device = mqtt.connect(MQTT_URL, { clientId: `sim-${schoolId}` });
    await new Promise<void>((resolve, reject) => {
      device.once("connect", () => resolve());
      device.once("error", reject);
    });
    await device.subscribeAsync(`school/${schoolId}/device/+/+`, { qos: 1 });
    device.on("message", (topic, payload) => {
      if (topic.endsWith("/ack") || topic.endsWith("/command")) fromPlatform.push({ topic, payload: JSON.parse(payload.toString()) });
    });
    await until(() => Boolean((helper.getNode("broker") as unknown as { connected: boolean }).connected), "the broker node to connect");
    // Let the node's subscriptions reach the broker before devices publish.
    await new Promise((resolve) => setTimeout(resolve, 150));
  });

  afterEach(async function () {
    await device?.endAsync();
    await helper.unload();
  });

  const publish = (deviceId: string, channel: string, payload: unknown) =>
    device.publishAsync(`school/${schoolId}/device/${deviceId}/${channel}`, typeof payload === "string" ? payload : JSON.stringify(payload), { qos: 1 });

  async function journal(): Promise<Array<{ eventId: string; kind: string }>> {
    const store = await Store.open({ dialect: "sqlite", filename });
    try {
      return (await store.journal.list({ schoolId })).map((e) => ({ eventId: e.event.eventId, kind: e.event.kind }));
    } finally {
      await store.close();
    }
  }

  it("journals a panic, acknowledges it on the ack topic, and sends it on; a resent message is stored and sent once", async function () {
    await publish("button-3", "event", { v: 1, type: "panic", id: "m-1", ts: "2026-11-24T08:00:00Z", zone: "demo-school-duty-room" });
    await publish("button-3", "event", { v: 1, type: "panic", id: "m-1", ts: "2026-11-24T08:00:00Z", zone: "demo-school-duty-room" });
    await until(() => fromPlatform.filter((m) => m.topic.endsWith("/ack")).length === 2, "two acks");
    assert.deepEqual(await journal(), [{ eventId: "button-3:m-1", kind: "panic" }]);
    assert.equal(out.events.length, 1);
    const event = out.events[0].payload as { kind: string; severity: string; zoneId: string; source: string };
    assert.deepEqual([event.kind, event.severity, event.zoneId, event.source], ["panic", "critical", "demo-school-duty-room", "mqtt"]);
    assert.deepEqual(fromPlatform[0], { topic: `school/${schoolId}/device/button-3/ack`, payload: { v: 1, id: "m-1", status: "stored" } });
  });

  it("turns a card read into an AccessRequest and a granted decision into an unlock command for that controller", async function () {
    await publish("door-7", "event", { v: 1, type: "card", id: "c-9", door: "gate-north", card: { value: "1001", facilityCode: 12 }, direction: "in" });
    await until(() => out.requests.length === 1, "the access request");
    const request = out.requests[0].payload as { requestId: string; doorId: string; readerId: string; credential: { value: string; facilityCode: number } };
    assert.deepEqual([request.requestId, request.doorId, request.readerId, request.credential.value, request.credential.facilityCode], ["door-7:c-9", "gate-north", "door-7", "1001", 12]);
    testNode("devices").receive({ topic: "access-decision", payload: { requestId: "door-7:c-9", granted: true, reason: "granted", readerId: "door-7", unlockMs: 4000 } });
    await until(() => fromPlatform.some((m) => m.topic.endsWith("/command")), "the command");
    const command = fromPlatform.find((m) => m.topic.endsWith("/command"))!;
    assert.equal(command.topic, `school/${schoolId}/device/door-7/command`);
    assert.deepEqual([command.payload.v, command.payload.command, command.payload.pulseMs], [1, "unlock", 4000]);
    testNode("devices").receive({ deviceId: "door-7", payload: { command: "lockdown" } });
    await until(() => fromPlatform.filter((m) => m.topic.endsWith("/command")).length === 2, "the lockdown command");
    assert.equal(fromPlatform.filter((m) => m.topic.endsWith("/command"))[1].payload.command, "lockdown");
  });

  it("refuses malformed payloads with the field named, keeps running, and accepts the next good one", async function () {
    await publish("button-4", "event", "{not json");
    await publish("button-4", "event", { v: 2, type: "panic", id: "x" });
    await publish("button-4", "event", { v: 1, type: "explosion", id: "x" });
    await publish("button-4", "event", { v: 1, type: "panic" });
    await publish("button-4", "event", { v: 1, type: "card", id: "c", door: "gate-north", card: { value: 1001 } });
    await publish("button-4", "event", { v: 1, type: "panic", id: "ok-1" });
    await until(() => out.caught.length === 5 && out.events.length === 1, "five refusals and one event");
    const reasons = out.caught.map((m) => String((m as NodeMessage & { error: { message: string } }).error.message));
    assert.match(reasons[0], /not JSON/);
    assert.match(reasons[1], /"v" must be 1/);
    assert.match(reasons[2], /"type" must be one of/);
    assert.match(reasons[3], /"id" must be a message id/);
    assert.match(reasons[4], /"value" must be the card number as a string/);
    assert.deepEqual(await journal(), [{ eventId: "button-4:ok-1", kind: "panic" }]);
  });

  it("keeps the device's status in the store from its status topic and reports the change", async function () {
    await publish("door-7", "status", { v: 1, online: false });
    await until(() => out.health.length === 1, "the offline report");
    assert.equal(out.health[0].topic, "device-offline");
    const store = await Store.open({ dialect: "sqlite", filename });
    try {
      assert.equal((await store.devices.get("door-7"))?.status, "offline");
    } finally {
      await store.close();
    }
    await publish("door-7", "event", { v: 1, type: "heartbeat", id: "h-1", battery: 80 });
    await until(() => out.health.length === 2, "the heartbeat");
    assert.deepEqual([out.health[1].topic, (out.health[1].payload as { battery: number }).battery], ["heartbeat", 80]);
  });

  it("rejects a door command without a device id", async function () {
    testNode("devices").receive({ payload: { command: "unlock" } });
    await until(() => out.caught.length === 1, "the error");
    assert.match(String((out.caught[0] as NodeMessage & { error: { message: string } }).error.message), /mqtt-device\.errors\.noDevice/);
  });
});
