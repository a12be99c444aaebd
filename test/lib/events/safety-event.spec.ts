// SafetyEvent contract: what is accepted, how it is normalized, and what is rejected with which field named.
import assert from "node:assert/strict";
import { ValidationError } from "../../../lib/errors";
import { parseSafetyEvent, SEVERITIES } from "../../../lib/events";

const valid = {
  eventId: "gb28181:34020000001320000001:alarm:17",
  schoolId: "demo-school",
  zoneId: "demo-school-playground",
  deviceId: "demo-school-cam-playground",
  kind: "line-crossing",
  severity: "high",
  occurredAt: "2026-11-24T16:00:00+08:00",
  source: "gb28181",
  details: { alarmMethod: 5, alarmType: 5 },
};

function rejects(payload: unknown, field: string): void {
  assert.throws(
    () => parseSafetyEvent(payload),
    (err: unknown) => err instanceof ValidationError && err.field === field && err.message.includes(field),
    `expected a ValidationError naming ${field}`,
  );
}

describe("SafetyEvent contract", function () {
  it("normalizes occurredAt to UTC ISO-8601 and keeps every field", function () {
    const event = parseSafetyEvent(valid);
    assert.equal(event.occurredAt, "2026-11-24T08:00:00.000Z");
    assert.deepEqual({ ...event, occurredAt: valid.occurredAt }, valid);
  });

  it("accepts epoch milliseconds for occurredAt", function () {
    assert.equal(parseSafetyEvent({ ...valid, occurredAt: 0 }).occurredAt, "1970-01-01T00:00:00.000Z");
  });

  it("treats zoneId, deviceId and details as optional", function () {
    const { zoneId, deviceId, details, ...minimal } = valid;
    void zoneId;
    void deviceId;
    void details;
    const event = parseSafetyEvent(minimal);
    assert.equal(event.zoneId, null);
    assert.equal(event.deviceId, null);
    assert.deepEqual(event.details, {});
  });

  for (const field of ["eventId", "schoolId", "kind", "severity", "occurredAt", "source"]) {
    it(`rejects an event without ${field}, naming it`, function () {
      const broken: Record<string, unknown> = { ...valid };
      delete broken[field];
      rejects(broken, field);
    });
  }

  it("rejects a severity outside the scale", function () {
    rejects({ ...valid, severity: "urgent" }, "severity");
    assert.deepEqual([...SEVERITIES], ["info", "low", "medium", "high", "critical"]);
  });

  it("rejects a kind that is not kebab-case", function () {
    rejects({ ...valid, kind: "Line Crossing" }, "kind");
  });

  it("rejects an unparseable time", function () {
    rejects({ ...valid, occurredAt: "yesterday" }, "occurredAt");
  });

  it("rejects non-object payloads and non-object details", function () {
    rejects("panic!", "payload");
    rejects([valid], "payload");
    rejects({ ...valid, details: "x" }, "details");
  });

  it("rejects ids with spaces or over 128 characters", function () {
    rejects({ ...valid, eventId: "a b" }, "eventId");
    rejects({ ...valid, eventId: "x".repeat(129) }, "eventId");
    rejects({ ...valid, deviceId: 42 }, "deviceId");
  });
});
