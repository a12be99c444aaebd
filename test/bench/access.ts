// Access decisions over 100,000 credentials: decisions/s and p99, pass-log writes/s on SQLite while deciding, index rebuild.
import path from "node:path";
import { AccessControl } from "../../lib/access/access-control";
import { compileIndex, decide, type PassbackState } from "../../lib/access/decision";
import type { AccessRequest } from "../../lib/access/messages";
import type { AccessSnapshot } from "../../lib/access/model";
import { Store } from "../../lib/store";
import { beijing, snapshot as fixtureSnapshot } from "../lib/access/fixtures";
import { tempDir } from "../support/stores";
import { nowMs, percentile, report } from "./_stats";

const PEOPLE = 100_000;
const SCHOOL = "demo-school";
const AT_MS = beijing("2026-11-24T07:30");

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** 100,000 people in 40 grades-and-classes blocks, each with one card; rules and calendar from the spec fixtures. */
function bigSnapshot(): AccessSnapshot {
  const base = fixtureSnapshot();
  const people: AccessSnapshot["people"] = [];
  const credentials: AccessSnapshot["credentials"] = [];
  for (let i = 0; i < PEOPLE; i += 1) {
    const teacher = i % 25 === 0;
    const grade = 1 + (i % 6);
    people.push({
      id: `p${i}`,
      role: teacher ? "teacher" : "student",
      grade: teacher ? null : grade,
      classId: teacher ? null : `g${grade}c${1 + (i % 8)}`,
      teachesClassIds: teacher ? [`g${grade}c${1 + (i % 8)}`] : [],
      disabled: i % 997 === 0,
      validFromMs: null,
      validUntilMs: null,
    });
    credentials.push({ kind: "card", value: String(1_000_000 + i), personId: `p${i}`, facilityCode: null, disabled: false, validFromMs: null, validUntilMs: null });
  }
  return { ...base, schoolId: SCHOOL, people, credentials };
}

function requests(count: number): AccessRequest[] {
  const doors = ["gate-north", "gate-south", "lab-science", "room-g1c1", "exit-east"];
  const out: AccessRequest[] = [];
  let seed = 12345;
  for (let i = 0; i < count; i += 1) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    // One in 50 presents a card nobody holds.
    const card = seed % 50 === 0 ? String(9_000_000 + i) : String(1_000_000 + (seed % PEOPLE));
    out.push({
      requestId: `b${i}`,
      schoolId: SCHOOL,
      doorId: doors[seed % doors.length],
      readerId: "reader",
      credential: { kind: "card", value: card },
      occurredAt: "2026-11-23T23:30:00.000Z",
    });
  }
  return out;
}

function decisionsInProcess(snapshot: AccessSnapshot): void {
  const index = compileIndex(snapshot);
  const batch = requests(200_000);
  const passback: PassbackState = new Map();
  let granted = 0;
  for (let round = 0; round < 3; round += 1) for (const request of batch) if (decide(index, request, AT_MS, passback).granted) granted += 1;

  const rounds = 10;
  const started = nowMs();
  for (let round = 0; round < rounds; round += 1) for (const request of batch) if (decide(index, request, AT_MS, passback).granted) granted += 1;
  const elapsedMs = nowMs() - started;
  report("access-decisions-per-s", Math.round((rounds * batch.length) / (elapsedMs / 1000)), "decisions/s");

  const latenciesUs: number[] = [];
  for (const request of batch) {
    const t0 = process.hrtime.bigint();
    decide(index, request, AT_MS, passback);
    latenciesUs.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  report("access-decision-p50", Number(percentile(latenciesUs, 50).toFixed(2)), "us");
  report("access-decision-p99", Number(percentile(latenciesUs, 99).toFixed(2)), "us");
  if (granted === 0) throw new Error("no request was granted: the benchmark data is wrong");
}

async function seedStore(store: Store, snapshot: AccessSnapshot): Promise<void> {
  await store.schools.create({ id: SCHOOL, name: "基准学校", nameEn: "Bench school", timeZone: "Asia/Shanghai" });
  const classIds = [...new Set(snapshot.people.map((p) => p.classId).filter((c): c is string => c !== null))];
  await store.people.addClasses(classIds.map((id) => ({ id, schoolId: SCHOOL, grade: Number(id[1]), name: id, classroomZoneId: null, homeroomTeacherId: null })));
  await store.knex.transaction(async (trx) => {
    const now = Date.now();
    for (let i = 0; i < snapshot.people.length; i += 500) {
      await trx("people").insert(
        snapshot.people.slice(i, i + 500).map((p) => ({
          id: p.id,
          school_id: SCHOOL,
          role: p.role,
          name: p.id,
          grade: p.grade,
          class_id: p.classId,
          status: p.disabled ? "disabled" : "active",
          created_at: now,
        })),
      );
    }
    for (let i = 0; i < snapshot.credentials.length; i += 500) {
      await trx("credentials").insert(
        snapshot.credentials.slice(i, i + 500).map((c) => ({ school_id: SCHOOL, person_id: c.personId, kind: c.kind, value: c.value, disabled: false })),
      );
    }
    const links = snapshot.people.filter((p) => p.teachesClassIds.length > 0).map((p) => ({ school_id: SCHOOL, teacher_id: p.id, class_id: p.teachesClassIds[0] }));
    for (let i = 0; i < links.length; i += 500) await trx("teacher_classes").insert(links.slice(i, i + 500));
  });
  for (const group of snapshot.doorGroups) await store.access.saveDoorGroup(SCHOOL, group);
  for (const rule of snapshot.rules) await store.access.saveRule(SCHOOL, rule);
  await store.access.addCalendarEntries(SCHOOL, snapshot.calendar);
}

/** Decides in slices of `slice`, yielding between them as a busy runtime would, until `stop()` says so. */
async function decideWhile(control: AccessControl, batch: AccessRequest[], stop: () => boolean, slice = 500): Promise<{ decisions: number; maxGapMs: number }> {
  let decisions = 0;
  let maxGapMs = 0;
  let last = nowMs();
  let i = 0;
  while (!stop()) {
    for (let k = 0; k < slice; k += 1) {
      control.decide(batch[i], AT_MS);
      i = (i + 1) % batch.length;
      decisions += 1;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
    const now = nowMs();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
  }
  return { decisions, maxGapMs };
}

/** Decides at `perSecond`, each request due at its own instant; lateness = decided − due. */
async function decidePaced(control: AccessControl, batch: AccessRequest[], perSecond: number, stop: () => boolean): Promise<{ decisions: number; latenessMs: number[] }> {
  const latenessMs: number[] = [];
  const started = nowMs();
  let decisions = 0;
  while (!stop()) {
    const now = nowMs();
    const due = Math.floor(((now - started) / 1000) * perSecond);
    while (decisions < due) {
      control.decide(batch[decisions % batch.length], AT_MS);
      latenessMs.push(nowMs() - (started + (decisions * 1000) / perSecond));
      decisions += 1;
    }
    await new Promise<void>((resolve) => setTimeout(resolve, 1));
  }
  return { decisions, latenessMs };
}

async function passLogAndRebuild(snapshot: AccessSnapshot): Promise<void> {
  const dir = tempDir("ssf-bench-access-");
  const store = await Store.open({ dialect: "sqlite", filename: path.join(dir, "access.db") });
  try {
    await seedStore(store, snapshot);
    const control = new AccessControl(store, SCHOOL);
    const coldStarted = nowMs();
    await control.rebuild();
    report("access-index-build-100k-people", Math.round(nowMs() - coldStarted), "ms");
    const batch = requests(50_000);

    // Pass log: decide as fast as the event loop allows for a fixed number of decisions, then wait for the log to hold them all.
    const total = 300_000;
    const before = await store.access.passLogCount(SCHOOL);
    const started = nowMs();
    let made = 0;
    await decideWhile(control, batch, () => (made += 1000) > total, 1000);
    const decidedMs = nowMs() - started;
    await control.passLog.drain();
    const loggedMs = nowMs() - started;
    const logged = (await store.access.passLogCount(SCHOOL)) - before;
    if (logged < total) throw new Error(`pass log holds ${logged} of ${total} decisions`);
    report("access-passlog-writes-per-s", Math.round(logged / (loggedMs / 1000)), "rows/s");
    report("access-decisions-while-logging-per-s", Math.round(total / (decidedMs / 1000)), "decisions/s");
    collectGarbage();

    // Rebuild from the store while doors keep asking at a busy morning's rate (5,000 requests/s, far above a school's peak):
    // how long it takes, how many decisions were served meanwhile, and how late the latest one was.
    let rebuilt = false;
    const rebuildStarted = nowMs();
    const rebuilding = control.rebuild().then(() => {
      rebuilt = true;
    });
    const during = await decidePaced(control, batch, 5000, () => rebuilt);
    await rebuilding;
    const rebuildMs = nowMs() - rebuildStarted;
    report("access-index-rebuild-100k-people", Math.round(rebuildMs), "ms");
    report("access-decisions-during-rebuild", during.decisions, "decisions");
    report("access-decision-lateness-during-rebuild-p99", Number(percentile(during.latenessMs, 99).toFixed(1)), "ms");
    report("access-decision-lateness-during-rebuild-max", Number(Math.max(...during.latenessMs).toFixed(1)), "ms");
    await control.close();
  } finally {
    await store.close();
  }
}

async function main(): Promise<void> {
  const snapshot = bigSnapshot();
  decisionsInProcess(snapshot);
  collectGarbage();
  await passLogAndRebuild(snapshot);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
