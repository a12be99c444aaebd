// OnvifCamera against the simulated camera over real HTTP: subscriptions are renewed before they end, in both modes,
// and a camera that refuses Renew gets a new subscription without losing events.
import assert from "node:assert/strict";
import { OnvifCamera } from "../../../../lib/devices/onvif/camera";
import { NotifyServer } from "../../../../lib/devices/onvif/push-consumer";
import type { SafetyEvent } from "../../../../lib/events";
import { OnvifCameraSim } from "../../../../sim/onvif-camera";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe("OnvifCamera subscriptions (simulated camera over HTTP)", function () {
  this.timeout(20000);
  let sim: OnvifCameraSim;
  let camera: OnvifCamera | null = null;
  let consumer: NotifyServer | null = null;
  const events: SafetyEvent[] = [];
  const warnings: string[] = [];

  function connect(eventMode: "pullpoint" | "push"): Promise<void> {
    camera = new OnvifCamera({
      host: "127.0.0.1",
      port: sim.port,
      username: "admin",
      password: "admin123",
      identity: { schoolId: "s", deviceId: "cam-1", zoneId: null },
      eventMode,
      crowdThreshold: 20,
      notifyConsumer: consumer ?? undefined,
      // Two-second subscriptions: renewed at half-life, so several renewals fit in a few seconds.
      subscriptionSec: 2,
      pullTimeoutSec: 1,
      heartbeatMs: 500,
      deliver: async (event) => {
        events.push(event);
      },
    });
    camera.on("warning", (err) => warnings.push(err.message));
    return new Promise<void>((resolve) => {
      camera!.on("connection", (state) => state === "connected" && resolve());
      camera!.start();
    });
  }

  const count = (operation: string) => sim.requests.filter((r) => r.operation === operation).length;

  beforeEach(function () {
    events.length = 0;
    warnings.length = 0;
  });

  afterEach(async function () {
    await camera?.stop();
    camera = null;
    await consumer?.close();
    consumer = null;
    await sim.stop();
  });

  it("renews a PullPoint subscription before it ends and keeps receiving events on it", async function () {
    sim = new OnvifCameraSim();
    await sim.start();
    await connect("pullpoint");
    await waitFor(() => count("Renew") >= 3, "three renewals");
    assert.equal(count("CreatePullPointSubscription"), 1, "the first subscription lives on");
    assert.equal(sim.subscriptionCount("pull"), 1);
    sim.motion(true);
    await waitFor(() => events.some((e) => e.kind === "motion"), "the motion event");
    assert.deepEqual(warnings, []);
  });

  it("renews a push subscription before it ends, and Notify still arrives", async function () {
    sim = new OnvifCameraSim();
    await sim.start();
    consumer = new NotifyServer();
    await consumer.listen();
    await connect("push");
    await waitFor(() => count("Renew") >= 3, "three renewals");
    assert.equal(count("Subscribe"), 1);
    sim.lineCrossed();
    await waitFor(() => events.some((e) => e.kind === "line-crossing"), "the line-crossing event");
  });

  it("replaces the subscription when the camera refuses Renew (as onvif_simple_server does), without losing events", async function () {
    sim = new OnvifCameraSim({ renewFails: true });
    await sim.start();
    await connect("pullpoint");
    await waitFor(() => count("CreatePullPointSubscription") >= 3, "replacement subscriptions");
    assert.ok(count("Renew") >= 2, "it tried to renew first");
    assert.ok(warnings.some((w) => /renew/i.test(w)), `a warning names the refused renewal: ${warnings.join(" | ")}`);
    sim.raise({ topic: "tns1:Device/Trigger/DigitalInput", source: { InputToken: "DI_0" }, data: { LogicalState: "true" } });
    await waitFor(() => events.some((e) => e.kind === "digital-input"), "the digital-input event");
  });
});
