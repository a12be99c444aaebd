// The store against every supported database: migrations, the journal's idempotency, and row ↔ domain round trips.
import assert from "node:assert/strict";
import type { SafetyEvent } from "../../../lib/events";
import { JournalWriter } from "../../../lib/events";
import { Store } from "../../../lib/store";
import { DEMO_SCHOOL_ID, seedDemoSchool } from "../../../sim/demo-school";
import { describeEachStore } from "../../support/stores";

function event(eventId: string, extra: Partial<SafetyEvent> = {}): SafetyEvent {
  return {
    eventId,
    schoolId: DEMO_SCHOOL_ID,
    zoneId: "demo-school-gate-north",
    deviceId: "demo-school-cam-gate-north",
    kind: "line-crossing",
    severity: "high",
    occurredAt: "2026-11-24T08:00:00.000Z",
    source: "onvif",
    details: { rule: "北门越线", count: 3, nested: { list: [1, "二", null], flag: true }, emoji: "🚨" },
    ...extra,
  };
}

describeEachStore("store", (ctx) => {
  it("applies the core migration", async function () {
    assert.deepEqual(await ctx.store.migrations(), ["001_core", "002_access", "003_process", "004_process_signals_indexes"]);
  });

  it("seeds the demo school once: 24 classes, 1,200 students in grades 1-6, staff and gates", async function () {
    this.timeout(60000);
    assert.equal(await seedDemoSchool(ctx.store), true);
    assert.equal(await seedDemoSchool(ctx.store), false);
    const classes = await ctx.store.people.classes(DEMO_SCHOOL_ID);
    assert.equal(classes.length, 24);
    assert.deepEqual([...new Set(classes.map((c) => c.grade))], [1, 2, 3, 4, 5, 6]);
    const counts = await ctx.store.people.countByRole(DEMO_SCHOOL_ID);
    assert.equal(counts.student, 1200);
    assert.ok(counts.teacher >= 24, "a homeroom teacher for every class");
    assert.equal(counts.principal, 1);
    assert.ok(counts.guard >= 2 && counts["duty-officer"] >= 1);
    const gates = await ctx.store.schools.zones(DEMO_SCHOOL_ID, "gate");
    assert.ok(gates.length >= 2);
    assert.equal((await ctx.store.schools.zones(DEMO_SCHOOL_ID, "classroom")).length, 24);
    assert.equal((await ctx.store.schools.zones(DEMO_SCHOOL_ID, "duty-room")).length, 1);
    const g3c2 = await ctx.store.people.list(DEMO_SCHOOL_ID, { classId: "demo-school-g3c2" });
    assert.equal(g3c2.length, 50);
    assert.ok(g3c2.every((p) => p.role === "student" && p.grade === 3));
    assert.equal((await ctx.store.schools.get(DEMO_SCHOOL_ID))?.timeZone, "Asia/Shanghai");
  });

  it("returns JSON details exactly as given, Chinese and emoji included", async function () {
    const original = event("json-1");
    assert.equal(await ctx.store.journal.append(original), true);
    const entry = await ctx.store.journal.get("json-1");
    assert.deepEqual(entry?.event, original);
  });

  it("stores a duplicate eventId once, in a batch and across batches", async function () {
    const before = await ctx.store.journal.count();
    const inserted = await ctx.store.journal.appendBatch([event("dup-1"), event("dup-1"), event("dup-2")]);
    assert.deepEqual([...inserted].sort(), ["dup-1", "dup-2"]);
    const again = await ctx.store.journal.appendBatch([event("dup-2"), event("dup-3")]);
    assert.deepEqual([...again], ["dup-3"]);
    assert.equal(await ctx.store.journal.count(), before + 3);
  });

  it("groups concurrent appends through the journal writer and reports duplicates per event", async function () {
    const writer = new JournalWriter(ctx.store.journal, { maxBatch: 64 });
    const ids = Array.from({ length: 500 }, (_, i) => `writer-${i % 400}`);
    const results = await Promise.all(ids.map((id) => writer.append(event(id))));
    assert.equal(results.filter((r) => !r.duplicate).length, 400);
    assert.equal(results.filter((r) => r.duplicate).length, 100);
    assert.equal((await ctx.store.journal.list({ kind: "line-crossing", limit: 1000 })).filter((e) => e.event.eventId.startsWith("writer-")).length, 400);
  });

  it("lists the journal newest first, filtered by kind and time", async function () {
    await ctx.store.journal.appendBatch([
      event("t-1", { kind: "panic", occurredAt: "2026-11-24T01:00:00.000Z" }),
      event("t-2", { kind: "panic", occurredAt: "2026-11-24T02:00:00.000Z" }),
      event("t-3", { kind: "panic", occurredAt: "2026-11-24T03:00:00.000Z" }),
    ]);
    const panics = await ctx.store.journal.list({ kind: "panic", since: "2026-11-24T01:30:00Z" });
    assert.deepEqual(
      panics.map((e) => e.event.eventId),
      ["t-3", "t-2"],
    );
  });

  it("keeps device health: status and last_seen", async function () {
    const id = "demo-school-reader-gate-north";
    assert.equal(await ctx.store.devices.setStatus(id, "online", Date.parse("2026-11-24T08:01:02.345Z")), true);
    const device = await ctx.store.devices.get(id);
    assert.equal(device?.status, "online");
    assert.equal(device?.lastSeen, "2026-11-24T08:01:02.345Z");
    assert.deepEqual(device?.details, { simulated: true });
    assert.equal(await ctx.store.devices.setStatus("no-such-device", "offline"), false);
    assert.deepEqual(
      (await ctx.store.devices.list(DEMO_SCHOOL_ID, { status: "online" })).map((d) => d.id),
      [id],
    );
  });

  it("opens an incident, links events once each and keeps a timeline", async function () {
    const incident = await ctx.store.incidents.open(
      {
        id: "inc-1",
        schoolId: DEMO_SCHOOL_ID,
        kind: "line-crossing",
        severity: "high",
        dedupeKey: "line-crossing:demo-school-gate-north",
        zoneId: "demo-school-gate-north",
        summary: "北门越线",
        openedAtMs: Date.parse("2026-11-24T08:00:00Z"),
      },
      "flow:intake",
    );
    assert.equal(incident.status, "open");
    assert.equal(await ctx.store.incidents.linkEvent("inc-1", DEMO_SCHOOL_ID, "t-1"), true);
    assert.equal(await ctx.store.incidents.linkEvent("inc-1", DEMO_SCHOOL_ID, "t-1"), false);
    assert.equal(await ctx.store.incidents.linkEvent("inc-1", DEMO_SCHOOL_ID, "t-2"), true);
    assert.deepEqual(await ctx.store.incidents.linkedEventIds("inc-1"), ["t-1", "t-2"]);
    assert.equal((await ctx.store.incidents.findActive(DEMO_SCHOOL_ID, "line-crossing:demo-school-gate-north"))?.id, "inc-1");
    await ctx.store.incidents.setStatus("inc-1", "closed", "user:principal");
    assert.equal(await ctx.store.incidents.findActive(DEMO_SCHOOL_ID, "line-crossing:demo-school-gate-north"), undefined);
    const closed = await ctx.store.incidents.get("inc-1");
    assert.ok(closed?.closedAt);
    assert.deepEqual(
      (await ctx.store.incidents.timeline("inc-1")).map((t) => [t.actor, t.action]),
      [
        ["flow:intake", "opened"],
        ["user:principal", "status:closed"],
      ],
    );
  });

  it("keeps users with their roles and an audit log", async function () {
    await ctx.store.users.ensureRoles(DEMO_SCHOOL_ID);
    await ctx.store.users.create({
      id: "u-1",
      schoolId: DEMO_SCHOOL_ID,
      username: "duty1",
      displayName: "值班员一",
      passwordHash: null,
      personId: "demo-school-duty-001",
      roles: ["duty-room", "guard"],
    });
    const user = await ctx.store.users.byUsername("duty1");
    assert.deepEqual(user?.roles, ["duty-room", "guard"]);
    assert.equal(user?.disabled, false);
    assert.ok((await ctx.store.users.roles()).some((r) => r.name === "incident-commander"));
    await ctx.store.audit.record({
      schoolId: DEMO_SCHOOL_ID,
      actor: "duty1",
      action: "view-person",
      targetType: "person",
      targetId: "demo-school-s10101",
      details: { reason: "roll call" },
    });
    const [entry] = await ctx.store.audit.list(DEMO_SCHOOL_ID, 1);
    assert.deepEqual([entry.actor, entry.action, entry.targetId, entry.details], ["duty1", "view-person", "demo-school-s10101", { reason: "roll call" }]);
  });

  it("migrates down and up again", async function () {
    this.timeout(60000);
    await ctx.store.rollbackAll();
    assert.deepEqual(await ctx.store.migrations(), []);
    await ctx.store.close();
    ctx.store = await Store.open(ctx.config);
    assert.deepEqual(await ctx.store.migrations(), ["001_core", "002_access", "003_process", "004_process_signals_indexes"]);
    assert.equal(await ctx.store.journal.count(), 0);
  });
});
