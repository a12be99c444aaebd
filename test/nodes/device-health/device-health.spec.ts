// device-health node in a real Node-RED runtime on a real SQLite store: offline after silence, online when heard, restart-safe.
import assert from "node:assert/strict";
import path from "node:path";
import type { NodeMessage } from "node-red";
import { Store } from "../../../lib/store";
import { catchNode, nodeRedHelper, onTab, testNode } from "../../support/node-red";
import { tempDir } from "../../support/stores";
import safetyStoreNode = require("../../../nodes/safety-store/safety-store");
import deviceHealthNode = require("../../../nodes/device-health/device-health");

const helper = nodeRedHelper();

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 8000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("device-health node", function () {
  let filename: string;
  let out: NodeMessage[];
  let caught: NodeMessage[];

  before(async function () {
    filename = path.join(tempDir("ssf-health-"), "health.db");
    const store = await Store.open({ dialect: "sqlite", filename });
    await store.schools.create({ id: "health-school", name: "健康学校", nameEn: "Health school", timeZone: "Asia/Shanghai" });
    const device = (id: string, lastSeenMs: number) => ({
      id,
      schoolId: "health-school",
      kind: "panic-button",
      protocol: "mqtt",
      address: "mqtt",
      zoneId: null,
      name: id,
      status: "online" as const,
      lastSeen: new Date(lastSeenMs).toISOString(),
      details: {},
    });
    await store.devices.upsert(device("btn-stale", Date.now() - 3_600_000));
    await store.devices.upsert(device("btn-alive", Date.now()));
    await store.close();
  });

  afterEach(async function () {
    await helper.unload();
  });

  async function load(): Promise<void> {
    await helper.load(
      [safetyStoreNode, deviceHealthNode, catchNode],
      onTab(
        [
          { id: "store", type: "safety-store", mode: "sqlite", filename },
          { id: "health", type: "device-health", store: "store", schoolId: "health-school", timeoutSec: 1.5, timeoutsByKind: "{}", checkIntervalSec: 0.1, wires: [["out"]] },
          { id: "out", type: "helper" },
          { id: "catch", type: "catch", scope: ["health"], wires: [["caught"]] },
          { id: "caught", type: "helper" },
        ],
        ["safety-store"],
      ),
    );
    out = [];
    caught = [];
    testNode("out").on("input", (msg) => out.push(msg));
    testNode("caught").on("input", (msg) => caught.push(msg));
  }

  async function stored(id: string): Promise<string | undefined> {
    const store = await Store.open({ dialect: "sqlite", filename });
    try {
      return (await store.devices.get(id))?.status;
    } finally {
      await store.close();
    }
  }

  it("reports a device silent past its timeout offline once, in the store and the journal, and online when it is heard again", async function () {
    await load();
    const health = testNode("health");
    const alive = setInterval(() => health.receive({ topic: "heartbeat", payload: { deviceId: "btn-alive" } }), 200);
    try {
      await until(() => out.length >= 1, "the offline report");
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.deepEqual(out.map((m) => [m.topic, (m.payload as { deviceId: string }).deviceId]), [["device-offline", "btn-stale"]]);
      assert.equal(await stored("btn-stale"), "offline");
      assert.equal(await stored("btn-alive"), "online");
      health.receive({ payload: { eventId: "e1", deviceId: "btn-stale", kind: "panic", occurredAt: new Date().toISOString(), source: "mqtt" } });
      await until(() => out.length === 2, "the online report");
      assert.equal(out[1].topic, "device-online");
      assert.equal(await stored("btn-stale"), "online");
      const store = await Store.open({ dialect: "sqlite", filename });
      try {
        assert.deepEqual((await store.journal.list({ schoolId: "health-school" })).map((e) => e.event.kind).sort(), ["device-offline", "device-online"]);
      } finally {
        await store.close();
      }
    } finally {
      clearInterval(alive);
    }
  });

  it("does not report an offline device again after a restart", async function () {
    const store = await Store.open({ dialect: "sqlite", filename });
    await store.devices.setStatus("btn-stale", "offline");
    await store.devices.setStatus("btn-alive", "offline");
    await store.close();
    await load();
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.deepEqual(out, []);
  });

  it("refuses a heartbeat without a device id", async function () {
    await load();
    testNode("health").receive({ payload: { battery: 50 } });
    await until(() => caught.length === 1, "the error");
    assert.match(String((caught[0] as NodeMessage & { error: { message: string } }).error.message), /device-health\.errors\.noDevice/);
  });
});
