// onvif-camera in a real Node-RED runtime against the simulated camera over HTTP: PullPoint, push, restarts, bad credentials, bad SOAP, discovery.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { NodeMessage, NodeStatus } from "node-red";
import type { SafetyEvent } from "../../../lib/events";
import { Store } from "../../../lib/store";
import { DEMO_SCHOOL_ID, seedDemoSchool } from "../../../sim/demo-school";
import { OnvifCameraSim } from "../../../sim/onvif-camera";
import { nodeRedHelper, onTab, testNode } from "../../support/node-red";
import { tempDir } from "../../support/stores";
import safetyStoreNode = require("../../../nodes/safety-store/safety-store");
import cameraConfigNode = require("../../../nodes/onvif-camera-config/onvif-camera-config");
import cameraNode = require("../../../nodes/onvif-camera/onvif-camera");

const helper = nodeRedHelper();
const DEVICE = "demo-school-cam-gate-north";
const ZONE = "demo-school-gate-north";

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 8000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("onvif-camera node", function () {
  let filename: string;
  let sim: OnvifCameraSim;
  let out: NodeMessage[];
  let statuses: NodeStatus[];
  // node-red-node-test-helper gives each load a fresh RED.httpNode app but serves none of them: this server serves the current one.
  let httpNodeApp: ((req: http.IncomingMessage, res: http.ServerResponse) => void) | null = null;
  const captureHttpNode = (red: { httpNode: (req: http.IncomingMessage, res: http.ServerResponse) => void }) => {
    httpNodeApp = red.httpNode;
  };
  let nodeServer: http.Server;
  let nodeUrl: string;

  before(async function () {
    this.timeout(60000);
    filename = path.join(tempDir("ssf-onvif-node-"), "onvif.db");
    const store = await Store.open({ dialect: "sqlite", filename });
    await seedDemoSchool(store);
    await store.close();
    nodeServer = http.createServer((req, res) => (httpNodeApp ? httpNodeApp(req, res) : res.writeHead(503).end()));
    await new Promise<void>((resolve) => nodeServer.listen(0, "127.0.0.1", resolve));
    nodeUrl = `http://127.0.0.1:${(nodeServer.address() as AddressInfo).port}`;
  });

  after(async function () {
    nodeServer.closeAllConnections();
    await new Promise((resolve) => nodeServer.close(resolve));
  });

  beforeEach(async function () {
    sim = new OnvifCameraSim({ discoveryPort: 0, manufacturer: "SimVendor", model: "GateCam" });
    await sim.start();
    out = [];
    statuses = [];
  });

  afterEach(async function () {
    await helper.unload();
    await sim.stop();
  });

  async function load(options: { eventMode?: "pullpoint" | "push"; password?: string } = {}): Promise<void> {
    await helper.load(
      [safetyStoreNode, cameraConfigNode, cameraNode, captureHttpNode as never],
      onTab(
        [
          { id: "store", type: "safety-store", mode: "sqlite", filename },
          { id: "camcfg", type: "onvif-camera-config", address: "127.0.0.1", port: sim.port, eventMode: options.eventMode ?? "pullpoint", crowdThreshold: 20, consumerBaseUrl: nodeUrl },
          { id: "cam", type: "onvif-camera", camera: "camcfg", store: "store", schoolId: DEMO_SCHOOL_ID, deviceId: DEVICE, zoneId: ZONE, wires: [["out"]] },
          { id: "out", type: "helper" },
        ],
        ["safety-store", "onvif-camera-config"],
      ),
      { camcfg: { username: "admin", password: options.password ?? "admin123" } },
    );
    testNode("out").on("input", (msg) => out.push(msg));
    testNode("cam").on("call:status", (call: { args: [NodeStatus] }) => statuses.push(call.args[0]));
  }

  const lastStatus = () => statuses[statuses.length - 1] ?? {};
  const connected = () => lastStatus().fill === "green";

  it("sends PullPoint events normalized and journaled, and saves the camera's profiles and stream URIs", async function () {
    await load();
    await until(connected, "connected");
    assert.equal(lastStatus().text, "onvif-camera.status.connected");
    sim.motion(true);
    sim.motion(false);
    sim.lineCrossed();
    await until(() => out.length >= 2, "two events");
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(out.map((m) => m.topic), ["motion", "line-crossing"]);
    const motion = out[0].payload as SafetyEvent;
    assert.deepEqual([motion.schoolId, motion.deviceId, motion.zoneId, motion.kind, motion.severity, motion.source], [DEMO_SCHOOL_ID, DEVICE, ZONE, "motion", "low", "onvif"]);
    assert.deepEqual(motion.details, { topic: "tns1:VideoSource/MotionAlarm", propertyOperation: "Changed", source: { Source: "VideoSourceToken" }, data: { State: "true" }, active: true });
    const store = await Store.open({ dialect: "sqlite", filename });
    try {
      assert.equal((await store.journal.get(motion.eventId))?.event.kind, "motion");
      const device = await store.devices.get(DEVICE);
      assert.equal(device?.status, "online");
      assert.equal(device?.protocol, "onvif");
      assert.equal(device?.details.manufacturer, "SimVendor");
      assert.equal(device?.details.streamUri, "rtsp://127.0.0.1:8554/Profile_0");
      assert.deepEqual((device?.details.profiles as Array<{ token: string; width: number }>).map((p) => [p.token, p.width]), [["Profile_0", 1920], ["Profile_1", 640]]);
    } finally {
      await store.close();
    }
  });

  it("receives push Notify at an unguessable path, answers other paths 404, and unsubscribes on close", async function () {
    await load({ eventMode: "push" });
    await until(connected, "connected");
    const subscribe = sim.requests.find((r) => r.operation === "Subscribe")!;
    assert.ok(subscribe.messageId, "Subscribe carries a wsa:MessageID");
    sim.raise({ topic: "tns1:RuleEngine/FieldDetector/ObjectsInside", source: { Rule: "Playground" }, data: { IsInside: "true" } });
    await until(() => out.length === 1, "the intrusion event");
    assert.deepEqual([out[0].topic, (out[0].payload as SafetyEvent).severity], ["field-intrusion", "high"]);
    // Initialized states (4) and the event were all accepted.
    await until(() => sim.notifyStatuses.length === 2, "two Notify posts");
    assert.deepEqual(sim.notifyStatuses, [200, 200]);
    const guessed = await fetch(`${nodeUrl}/onvif-camera/notify/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`, { method: "POST", body: "<x/>" });
    assert.equal(guessed.status, 404);
    assert.equal(sim.subscriptionCount("push"), 1);
    await helper.unload();
    assert.equal(sim.subscriptionCount("push"), 0);
    assert.ok(sim.requests.some((r) => r.operation === "Unsubscribe"));
  });

  it("reconnects after the camera restarts and keeps delivering events", async function () {
    this.timeout(30000);
    await load();
    await until(connected, "connected");
    await sim.stop();
    await until(() => !connected(), "the outage to show");
    assert.equal(lastStatus().fill, "yellow");
    await sim.start();
    await until(connected, "reconnected", 15000);
    sim.motion(true);
    await until(() => out.some((m) => m.topic === "motion"), "an event after the restart");
    assert.equal(sim.subscriptionCount("pull"), 1);
  });

  it("shows authentication failed in red for a wrong password", async function () {
    await load({ password: "wrong" });
    await until(() => lastStatus().fill === "red", "the red status");
    assert.deepEqual([lastStatus().shape, lastStatus().text], ["ring", "onvif-camera.status.authFailed"]);
    assert.ok(sim.requests.some((r) => r.operation === "GetCapabilities" && !r.authenticated));
    assert.equal(sim.subscriptionCount(), 0);
  });

  it("shows a yellow retrying status for malformed SOAP from the camera, without crashing, and recovers", async function () {
    this.timeout(30000);
    sim.sendMalformed(2);
    await load();
    await until(() => lastStatus().fill === "yellow" && /retrying/.test(String(lastStatus().text)), "the yellow status");
    await until(connected, "recovered", 15000);
    sim.motion(true);
    await until(() => out.length === 1, "an event after recovery");
  });

  it("discovers the simulated camera through the admin endpoint", async function () {
    await load();
    const response = await helper.request().get(`/onvif-camera/discover?multicast=false&timeoutMs=500&target=127.0.0.1:${sim.discoveryPort}`).expect(200);
    const cameras = (response.body as { cameras: Array<{ host: string; port: number; name: string; hardware: string; endpoint: string }> }).cameras;
    assert.deepEqual(cameras.map((c) => [c.host, c.port, c.name, c.hardware, c.endpoint]), [["127.0.0.1", sim.port, "GateCam", "SimVendor", sim.endpoint]]);
    await helper.request().get("/onvif-camera/discover?target=not-a-target").expect(400);
  });
});
