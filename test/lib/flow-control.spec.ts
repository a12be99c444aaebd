// The priority dispatcher: life-safety events first, detections bounded, coalesced and shed with exact counts.
import assert from "node:assert/strict";
import type { SafetyEvent } from "../../lib/events";
import { PriorityDispatcher, isLifeSafety } from "../../lib/flow-control/priority-dispatcher";

function event(i: number, kind = "line-crossing", extra: Partial<SafetyEvent> = {}): SafetyEvent {
  return { eventId: `e${i}`, schoolId: "s", deviceId: `cam-${i % 50}`, kind, severity: "medium", occurredAt: "2026-11-24T08:00:00Z", source: "onvif", ...extra };
}

describe("priority dispatcher", function () {
  it("treats panics, duress, fire and any critical event as life safety", function () {
    assert.deepEqual(
      [event(1, "panic"), event(2, "panic-silent"), event(3, "fire"), event(4, "motion", { severity: "critical" }), event(5, "motion")].map(isLifeSafety),
      [true, true, true, true, false],
    );
  });

  it("hands a panic on at once while 100,000 detections wait, and accounts for every detection", async function () {
    const order: string[] = [];
    let now = 0;
    const dispatcher = new PriorityDispatcher({
      maxQueued: 10_000,
      coalesceWindowMs: 1000,
      drainPerTick: 500,
      now: () => now,
      lifeSafety: (e) => order.push(e.eventId),
      detection: (e) => order.push(`${e.eventId}x${(e.details?.coalescedCount as number | undefined) ?? 1}`),
    });
    for (let i = 0; i < 100_000; i += 1) {
      // Time moves 20 ms per 1,000 detections: 50 cameras each coalesce within a second.
      if (i % 1000 === 0) now += 20;
      dispatcher.offer(event(i));
    }
    assert.equal(dispatcher.offer(event(100_001, "panic")), "life-safety");
    assert.equal(order[0], "e100001", "the panic is out before any detection");
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { detectionsIn, coalesced, shed, released, queued } = dispatcher.counters;
    assert.equal(detectionsIn, 100_000);
    assert.equal(queued, 0);
    assert.equal(released + coalesced + shed, detectionsIn, "every detection is released, merged or shed");
    const mergedInto = order.slice(1).reduce((sum, id) => sum + Number(id.split("x")[1]), 0);
    assert.equal(mergedInto, released + coalesced, "coalesced counts add up to what was merged");
  });

  it("sheds beyond the bound and counts what it shed", function () {
    const dispatcher = new PriorityDispatcher({ maxQueued: 10, coalesceWindowMs: 0, drainPerTick: 1, lifeSafety: () => undefined, detection: () => undefined, now: () => 0 });
    const outcomes = Array.from({ length: 15 }, (_, i) => dispatcher.offer({ ...event(i), deviceId: `d${i}` }));
    assert.deepEqual([outcomes.filter((o) => o === "queued").length, outcomes.filter((o) => o === "shed").length], [10, 5]);
    assert.equal(dispatcher.counters.shed, 5);
    assert.equal(dispatcher.close(), 10);
  });
});
