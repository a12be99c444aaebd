// Access control against every supported database: rules from the store, pass log queries, face data and consent.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { AccessControl } from "../../../lib/access/access-control";
import { ConfigError, ValidationError } from "../../../lib/errors";
import { FaceDataService, decryptFace, faceKeyFromEnv } from "../../../lib/access/face-data";
import { seedDemoSchool, DEMO_SCHOOL_ID } from "../../../sim/demo-school";
import { describeEachStore } from "../../support/stores";
import { beijing, request, snapshot } from "./fixtures";

const ONE_DAY = 86400000;

describeEachStore("access control in the store", (ctx) => {
  let control: AccessControl;

  before(async function () {
    this.timeout(60000);
    await seedDemoSchool(ctx.store);
    const fixture = snapshot();
    for (const group of fixture.doorGroups) await ctx.store.access.saveDoorGroup(DEMO_SCHOOL_ID, group);
    for (const rule of fixture.rules) await ctx.store.access.saveRule(DEMO_SCHOOL_ID, rule);
    await ctx.store.access.addCalendarEntries(DEMO_SCHOOL_ID, fixture.calendar);
    await ctx.store.access.saveCredentials(DEMO_SCHOOL_ID, [
      { kind: "card", value: "1001", personId: "demo-school-s10101", facilityCode: null, disabled: false, validFromMs: null, validUntilMs: null },
      { kind: "card", value: "1002", personId: "demo-school-s10102", facilityCode: null, disabled: false, validFromMs: null, validUntilMs: null },
      { kind: "card", value: "3001", personId: "demo-school-guard-001", facilityCode: 12, disabled: false, validFromMs: null, validUntilMs: null },
    ]);
    await ctx.store.access.addVisitor(DEMO_SCHOOL_ID, {
      id: "demo-school-visitor-1",
      name: "访客 张",
      hostId: "demo-school-principal-001",
      purpose: "parent meeting",
      validFromMs: beijing("2026-11-24T09:00"),
      validUntilMs: beijing("2026-11-24T11:00"),
    });
    await ctx.store.access.saveCredentials(DEMO_SCHOOL_ID, [
      { kind: "card", value: "4001", personId: "demo-school-visitor-1", facilityCode: null, disabled: false, validFromMs: null, validUntilMs: null },
    ]);
    control = new AccessControl(ctx.store, DEMO_SCHOOL_ID);
    await control.rebuild();
  });

  after(async function () {
    if (control) await control.close();
  });

  it("decides from rules, calendar and people as stored", function () {
    const decide = (value: string, door: string, local: string, extra = {}) =>
      control.decide(request(value, door, { occurredAt: new Date(beijing(local)).toISOString(), ...extra }));
    assert.equal(decide("1001", "gate-north", "2026-11-24T07:30").reason, "granted");
    assert.equal(decide("1001", "gate-north", "2026-10-01T07:30").reason, "holiday");
    assert.equal(decide("3001", "gate-north", "2026-10-01T03:00", { credential: { kind: "card", value: "3001", facilityCode: 99 } }).reason, "unknown-credential");
    assert.equal(decide("3001", "gate-north", "2026-10-01T03:00", { credential: { kind: "card", value: "3001", facilityCode: 12 } }).reason, "granted");
    assert.equal(decide("4001", "gate-north", "2026-11-24T10:00").reason, "granted");
    assert.equal(decide("4001", "gate-north", "2026-11-24T11:00").reason, "expired");
    const granted = decide("1002", "gate-south", "2026-11-24T07:45");
    assert.equal(granted.granted, true);
    assert.equal(granted.unlockMs, 5000);
    assert.equal(granted.personId, "demo-school-s10102");
  });

  it("rebuilds when a credential is added, and applies a mode change at once", async function () {
    assert.equal(control.decide(request("1003", "gate-north", { occurredAt: new Date(beijing("2026-11-24T07:30")).toISOString() })).reason, "unknown-credential");
    const rebuilt = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (control.current?.credentials.has("card:1003")) {
          clearInterval(check);
          resolve();
        }
      }, 20);
    });
    await ctx.store.access.saveCredentials(DEMO_SCHOOL_ID, [
      { kind: "card", value: "1003", personId: "demo-school-s10103", facilityCode: null, disabled: false, validFromMs: null, validUntilMs: null },
    ]);
    await rebuilt;
    const at = new Date(beijing("2026-11-24T07:30")).toISOString();
    assert.equal(control.decide(request("1003", "gate-north", { occurredAt: at })).reason, "granted");
    await control.setMode("lockdown", "process:lockdown");
    assert.equal(control.decide(request("1003", "gate-north", { occurredAt: at })).reason, "mode");
    assert.equal((await ctx.store.access.settings(DEMO_SCHOOL_ID)).mode, "lockdown");
    await control.setMode("normal", "process:all-clear");
    assert.equal(control.decide(request("1003", "gate-north", { occurredAt: at })).reason, "granted");
  });

  it("writes every decision to the pass log and answers queries by person, class, door and time", async function () {
    await control.passLog.drain();
    const all = await ctx.store.access.passLog({ schoolId: DEMO_SCHOOL_ID });
    assert.equal(all.length, 11, "one row per decision taken so far");
    const student = await ctx.store.access.passLog({ schoolId: DEMO_SCHOOL_ID, personId: "demo-school-s10101" });
    assert.deepEqual(student.map((r) => r.reason).sort(), ["granted", "holiday"]);
    const byClass = await ctx.store.access.passLog({ schoolId: DEMO_SCHOOL_ID, classId: "demo-school-g1c1" });
    assert.ok(byClass.every((r) => r.classId === "demo-school-g1c1") && byClass.length >= 4);
    const southGate = await ctx.store.access.passLog({ schoolId: DEMO_SCHOOL_ID, doorId: "gate-south" });
    assert.deepEqual(southGate.map((r) => r.personId), ["demo-school-s10102"]);
    const window = await ctx.store.access.passLog({
      schoolId: DEMO_SCHOOL_ID,
      fromMs: beijing("2026-11-24T07:40"),
      untilMs: beijing("2026-11-24T07:50"),
    });
    assert.deepEqual(window.map((r) => r.requestId), ["r-1002-gate-south"]);
  });

  it("lists a class's arrivals today: first granted entry per student, null for the absent", async function () {
    const dayStart = beijing("2026-11-24T00:00");
    const arrivals = await ctx.store.access.classArrivals(DEMO_SCHOOL_ID, "demo-school-g1c1", dayStart, dayStart + ONE_DAY);
    assert.equal(arrivals.length, 50);
    const byId = new Map(arrivals.map((a) => [a.personId, a.arrivedAt]));
    assert.equal(byId.get("demo-school-s10101"), new Date(beijing("2026-11-24T07:30")).toISOString());
    assert.equal(byId.get("demo-school-s10102"), new Date(beijing("2026-11-24T07:45")).toISOString());
    assert.equal(byId.get("demo-school-s10150"), null);
  });

  describe("face data", function () {
    const key = crypto.randomBytes(32);
    let faces: FaceDataService;
    const template = Buffer.from("face-template: 128 floats would go here; 张三 照片");

    before(async function () {
      faces = new FaceDataService(ctx.store, key);
      await ctx.store.people.addPeople([
        { id: "demo-school-parent-1", schoolId: DEMO_SCHOOL_ID, role: "parent", name: "家长 李", grade: null, classId: null, status: "active" },
      ]);
      await ctx.store.knex("people").where({ id: "demo-school-s10101" }).update({ birth_date: "2019-03-01" });
      await ctx.store.knex("people").where({ id: "demo-school-teacher-001" }).update({ birth_date: "1990-05-20" });
      await ctx.store.access.linkGuardian(DEMO_SCHOOL_ID, "demo-school-parent-1", "demo-school-s10101");
    });

    it("refuses to store a face without consent, and a child's consent from anyone but a guardian", async function () {
      await assert.rejects(faces.save(DEMO_SCHOOL_ID, "demo-school-s10101", template, "admin"), (err: unknown) => err instanceof ValidationError && /consent/.test(err.message));
      await assert.rejects(faces.recordConsent(DEMO_SCHOOL_ID, "demo-school-s10101", "self", "admin"), /under 14/);
      await faces.recordConsent(DEMO_SCHOOL_ID, "demo-school-s10101", "demo-school-parent-1", "admin");
      await assert.rejects(faces.recordConsent(DEMO_SCHOOL_ID, "demo-school-teacher-001", "demo-school-parent-1", "admin"), /their own/);
      await faces.recordConsent(DEMO_SCHOOL_ID, "demo-school-teacher-001", "self", "admin");
    });

    it("stores the face encrypted: unreadable in the database and without the key", async function () {
      await faces.save(DEMO_SCHOOL_ID, "demo-school-s10101", template, "admin");
      const row = await ctx.store.knex("face_data").where({ person_id: "demo-school-s10101" }).first();
      assert.ok(!Buffer.from(row.ciphertext, "base64").includes(Buffer.from("face-template")));
      assert.ok(!String(row.ciphertext).includes("face-template"));
      assert.deepEqual(await faces.read(DEMO_SCHOOL_ID, "demo-school-s10101", "duty1"), template);
      const wrongKey = new FaceDataService(ctx.store, crypto.randomBytes(32));
      await assert.rejects(wrongKey.read(DEMO_SCHOOL_ID, "demo-school-s10101", "duty1"), (err: unknown) => err instanceof ConfigError && /FACE_DATA_KEY/.test(err.message));
      const blob = (await ctx.store.access.faceData("demo-school-s10101"))!;
      assert.throws(() => decryptFace(key, "demo-school-s10102", blob), /cannot be decrypted/, "bound to its person");
    });

    it("deletes on request, withdrawing consent and keeping an audit trail", async function () {
      assert.equal(await faces.delete(DEMO_SCHOOL_ID, "demo-school-s10101", "admin", "guardian request"), true);
      assert.equal(await ctx.store.access.faceData("demo-school-s10101"), undefined);
      assert.equal(await ctx.store.access.activeConsent("demo-school-s10101", "face"), undefined);
      const actions = (await ctx.store.audit.list(DEMO_SCHOOL_ID, 20)).filter((a) => a.targetId === "demo-school-s10101").map((a) => a.action);
      // Both reads are audited, the one with the wrong key included.
      assert.deepEqual(actions.sort(), ["face-consent", "face-delete", "face-read", "face-read", "face-store"]);
    });
  });

  it("reads the face key from FACE_DATA_KEY, naming the variable when it is missing or short", function () {
    assert.equal(faceKeyFromEnv({ FACE_DATA_KEY: "ab".repeat(32) }).length, 32);
    assert.equal(faceKeyFromEnv({ FACE_DATA_KEY: crypto.randomBytes(32).toString("base64") }).length, 32);
    assert.throws(() => faceKeyFromEnv({}), (err: unknown) => err instanceof ConfigError && err.setting === "FACE_DATA_KEY");
    assert.throws(() => faceKeyFromEnv({ FACE_DATA_KEY: "abcd" }), /must be 32 bytes/);
  });
});
