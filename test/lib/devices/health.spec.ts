// Device health transitions: offline after the kind's timeout, online when seen again, each transition once.
import assert from "node:assert/strict";
import { DeviceHealthTracker } from "../../../lib/devices/health";

describe("device health tracker", function () {
  const T0 = Date.parse("2026-11-24T08:00:00Z");

  it("marks a silent device offline once after its kind's timeout and online again when it speaks", function () {
    const tracker = new DeviceHealthTracker({ timeoutMsByKind: { default: 90_000, camera: 180_000 } }, T0);
    tracker.load([
      { deviceId: "cam-1", kind: "camera", status: "online", lastSeenMs: T0 },
      { deviceId: "btn-1", kind: "panic-button", status: "online", lastSeenMs: T0 },
      { deviceId: "new-1", kind: "reader", status: "unknown", lastSeenMs: null },
    ]);
    assert.deepEqual(tracker.check(T0 + 60_000), []);
    assert.deepEqual(tracker.check(T0 + 91_000).map((t) => [t.deviceId, t.status]), [["btn-1", "offline"], ["new-1", "offline"]]);
    assert.deepEqual(tracker.check(T0 + 120_000), [], "an offline device is reported once");
    assert.deepEqual(tracker.check(T0 + 181_000).map((t) => t.deviceId), ["cam-1"]);
    assert.deepEqual(tracker.seen("btn-1", T0 + 200_000), { deviceId: "btn-1", status: "online", lastSeenMs: T0 + 200_000, atMs: T0 + 200_000 });
    assert.equal(tracker.seen("btn-1", T0 + 201_000), null, "already online");
    assert.deepEqual(tracker.counts(), { online: 1, offline: 2, unknown: 0 });
  });

  it("starts the clock of a device never seen from the tracker's start, and counts a device first seen now as online", function () {
    const tracker = new DeviceHealthTracker({ timeoutMsByKind: { default: 1000 } }, T0);
    tracker.load([{ deviceId: "quiet", kind: "x", status: "unknown", lastSeenMs: null }]);
    assert.equal(tracker.seen("fresh", T0 + 10)?.status, "online");
    assert.deepEqual(tracker.check(T0 + 1001).map((t) => t.deviceId), ["quiet"]);
    assert.equal(tracker.status("fresh"), "online");
  });

  it("follows a state another node reported, without a transition of its own", function () {
    const tracker = new DeviceHealthTracker({ timeoutMsByKind: { default: 1000 } }, T0);
    tracker.load([{ deviceId: "reader-1", kind: "reader", status: "unknown", lastSeenMs: null }]);
    tracker.follow("reader-1", "offline", T0 + 5);
    assert.deepEqual(tracker.check(T0 + 2000), [], "already offline: nothing to report");
    tracker.follow("reader-1", "online", T0 + 2100);
    assert.equal(tracker.status("reader-1"), "online");
    assert.equal(tracker.seen("reader-1", T0 + 2200), null, "no second online report");
  });
});
