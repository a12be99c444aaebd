// The access decision: a pure function over a compiled in-memory index.
import { SchoolCalendar, ZoneClock, type DayKind } from "./calendar";
import type { AccessDecision, AccessReason, AccessRequest } from "./messages";
import type { AccessCredential, AccessMode, AccessPerson, AccessRule, AccessSettings, AccessSnapshot, DoorGroup } from "./model";

const MINUTES_PER_WEEK = 7 * 1440;

interface CompiledRule {
  id: string;
  doorGroupId: string;
  /** One bit per minute of the week, local time. */
  minutes: Uint32Array;
  days: Record<DayKind, boolean>;
}

export interface AccessIndex {
  readonly schoolId: string;
  readonly mode: AccessMode;
  readonly settings: AccessSettings;
  readonly credentials: ReadonlyMap<string, AccessCredential>;
  readonly people: ReadonlyMap<string, AccessPerson>;
  readonly rulesByPerson: ReadonlyMap<string, readonly CompiledRule[]>;
  readonly groupsByDoor: ReadonlyMap<string, readonly DoorGroup[]>;
  readonly responderRoles: ReadonlySet<string>;
  readonly clock: ZoneClock;
  readonly calendar: SchoolCalendar;
  readonly builtAt: number;
}

/** The last direction each person passed a gate in, for anti-passback. Owned by the caller. */
export type PassbackState = Map<string, "in" | "out">;

export interface DecisionResult {
  granted: boolean;
  reason: AccessReason;
  personId: string | null;
  classId: string | null;
}

export function credentialKey(kind: string, value: string): string {
  return `${kind}:${value}`;
}

function parseClock(text: string): number {
  const match = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (!match) throw new Error(`time must be HH:MM, got "${text}"`);
  const minutes = Number(match[1]) * 60 + Number(match[2]);
  if (Number(match[2]) > 59 || minutes > 1440) throw new Error(`time out of range: "${text}"`);
  return minutes;
}

function compileRule(rule: AccessRule): CompiledRule {
  const minutes = new Uint32Array(Math.ceil(MINUTES_PER_WEEK / 32));
  for (const window of rule.windows) {
    const from = parseClock(window.from);
    const to = parseClock(window.to);
    for (const day of window.days) {
      if (!Number.isInteger(day) || day < 0 || day > 6) throw new Error(`rule ${rule.id}: day must be 0-6, got ${day}`);
      for (let minute = from; minute < to; minute += 1) {
        const bit = day * 1440 + minute;
        minutes[bit >>> 5] |= 1 << (bit & 31);
      }
    }
  }
  return {
    id: rule.id,
    doorGroupId: rule.doorGroupId,
    minutes,
    days: {
      "school-day": rule.calendar.schoolDays ?? true,
      "exam-day": rule.calendar.examDays ?? rule.calendar.schoolDays ?? true,
      holiday: rule.calendar.holidays ?? false,
      break: rule.calendar.breaks ?? false,
    },
  };
}

/** A rule's who: every criterion it names must hold (AND); inside one criterion any value matches (OR). */
export function ruleApplies(rule: AccessRule, person: AccessPerson): boolean {
  const who = rule.who;
  let named = false;
  if (who.roles) {
    named = true;
    if (!who.roles.includes(person.role)) return false;
  }
  if (who.grades) {
    named = true;
    if (person.grade === null || !who.grades.includes(person.grade)) return false;
  }
  if (who.classIds) {
    named = true;
    if (person.classId === null || !who.classIds.includes(person.classId)) return false;
  }
  if (who.personIds) {
    named = true;
    if (!who.personIds.includes(person.id)) return false;
  }
  if (who.teachersOfClassIds) {
    named = true;
    if (!person.teachesClassIds.some((classId) => who.teachersOfClassIds?.includes(classId))) return false;
  }
  return named;
}

interface CompileOptions {
  /** Yield to the event loop after this many people, so decisions go on while a large index compiles. */
  yieldEvery?: number;
}

function prepare(snapshot: AccessSnapshot) {
  const compiledRules = snapshot.rules.map((rule) => ({ rule, compiled: compileRule(rule) }));
  const groupsByDoor = new Map<string, DoorGroup[]>();
  for (const group of snapshot.doorGroups) {
    for (const door of group.doorIds) {
      const list = groupsByDoor.get(door) ?? [];
      list.push(group);
      groupsByDoor.set(door, list);
    }
  }
  const credentials = new Map<string, AccessCredential>();
  for (const credential of snapshot.credentials) credentials.set(credentialKey(credential.kind, credential.value), credential);
  return { compiledRules, groupsByDoor, credentials };
}

function finish(
  snapshot: AccessSnapshot,
  parts: ReturnType<typeof prepare>,
  people: Map<string, AccessPerson>,
  rulesByPerson: Map<string, CompiledRule[]>,
): AccessIndex {
  return {
    schoolId: snapshot.schoolId,
    mode: snapshot.mode,
    settings: snapshot.settings,
    credentials: parts.credentials,
    people,
    rulesByPerson,
    groupsByDoor: parts.groupsByDoor,
    responderRoles: new Set(snapshot.settings.responderRoles),
    clock: new ZoneClock(snapshot.settings.timeZone),
    calendar: new SchoolCalendar(snapshot.calendar),
    builtAt: Date.now(),
  };
}

/** People with the same set of rules share one array (few distinct sets in a school). */
function assignRules(
  person: AccessPerson,
  compiledRules: ReturnType<typeof prepare>["compiledRules"],
  shared: Map<string, CompiledRule[]>,
): CompiledRule[] {
  const matched = compiledRules.filter(({ rule }) => ruleApplies(rule, person)).map(({ compiled }) => compiled);
  const key = matched.map((rule) => rule.id).join("\u0000");
  let list = shared.get(key);
  if (!list) {
    list = matched;
    shared.set(key, list);
  }
  return list;
}

export function compileIndex(snapshot: AccessSnapshot): AccessIndex {
  const parts = prepare(snapshot);
  const people = new Map<string, AccessPerson>();
  const rulesByPerson = new Map<string, CompiledRule[]>();
  const shared = new Map<string, CompiledRule[]>();
  for (const person of snapshot.people) {
    people.set(person.id, person);
    rulesByPerson.set(person.id, assignRules(person, parts.compiledRules, shared));
  }
  return finish(snapshot, parts, people, rulesByPerson);
}

/** Same result as compileIndex, yielding to the event loop as it goes. */
export async function compileIndexAsync(snapshot: AccessSnapshot, options: CompileOptions = {}): Promise<AccessIndex> {
  const yieldEvery = options.yieldEvery ?? 5000;
  const pause = () => new Promise<void>((resolve) => setImmediate(resolve));
  await pause();
  const parts = prepare(snapshot);
  await pause();
  const people = new Map<string, AccessPerson>();
  const rulesByPerson = new Map<string, CompiledRule[]>();
  const shared = new Map<string, CompiledRule[]>();
  let count = 0;
  for (const person of snapshot.people) {
    people.set(person.id, person);
    rulesByPerson.set(person.id, assignRules(person, parts.compiledRules, shared));
    count += 1;
    if (count % yieldEvery === 0) await pause();
  }
  return finish(snapshot, parts, people, rulesByPerson);
}

/** The same index under another mode: a mode change takes effect at once, with no rebuild. */
export function withMode(index: AccessIndex, mode: AccessMode): AccessIndex {
  return { ...index, mode };
}

function outsideValidity(fromMs: number | null, untilMs: number | null, atMs: number): boolean {
  return (fromMs !== null && atMs < fromMs) || (untilMs !== null && atMs >= untilMs);
}

function result(granted: boolean, reason: AccessReason, person: AccessPerson | null): DecisionResult {
  return { granted, reason, personId: person ? person.id : null, classId: person ? person.classId : null };
}

/**
 * Decides one request at `atMs`. Pure but for `passback`, which it reads and (on a grant at a gate) updates.
 * Order of checks: credential, person, validity, mode, rules (calendar, then weekly window), anti-passback.
 */
export function decide(index: AccessIndex, request: AccessRequest, atMs: number, passback?: PassbackState): DecisionResult {
  const credential = index.credentials.get(credentialKey(request.credential.kind, request.credential.value));
  if (!credential) return result(false, "unknown-credential", null);
  if (
    credential.facilityCode !== null &&
    request.credential.facilityCode !== undefined &&
    credential.facilityCode !== request.credential.facilityCode
  ) {
    return result(false, "unknown-credential", null);
  }
  const person = index.people.get(credential.personId);
  if (!person) return result(false, "unknown-credential", null);
  if (person.disabled || credential.disabled) return result(false, "disabled-person", person);
  if (
    outsideValidity(person.validFromMs, person.validUntilMs, atMs) ||
    outsideValidity(credential.validFromMs, credential.validUntilMs, atMs)
  ) {
    return result(false, "expired", person);
  }

  const groups = index.groupsByDoor.get(request.doorId);
  if (!groups || groups.length === 0) return result(false, "no-rule", person);
  const responder = index.responderRoles.has(person.role);
  const atGate = groups.some((group) => group.kind === "gate" || group.kind === "perimeter");

  switch (index.mode) {
    case "lockdown":
      return responder ? result(true, "granted", person) : result(false, "mode", person);
    case "secure":
      if (atGate) return responder ? result(true, "granted", person) : result(false, "mode", person);
      break;
    case "evacuate":
      // Exits are held free by the doors themselves; a known person badging at one is let out.
      if (groups.some((group) => group.kind === "exit" || group.kind === "gate")) return result(true, "granted", person);
      break;
    case "normal":
      break;
  }

  const rules = index.rulesByPerson.get(person.id) ?? [];
  const { day, minuteOfWeek } = index.clock.localDayAndMinute(atMs);
  const dayKind = index.calendar.kindOf(day);
  let reason: AccessReason = "no-rule";
  let granted = false;
  for (const rule of rules) {
    if (!groups.some((group) => group.id === rule.doorGroupId)) continue;
    if (!rule.days[dayKind]) {
      if (reason === "no-rule") reason = "holiday";
      continue;
    }
    if ((rule.minutes[minuteOfWeek >>> 5] & (1 << (minuteOfWeek & 31))) === 0) {
      reason = "outside-window";
      continue;
    }
    granted = true;
    break;
  }
  if (!granted) return result(false, reason, person);

  if (index.settings.antiPassback && passback && atGate && request.direction) {
    if (passback.get(person.id) === request.direction) return result(false, "anti-passback", person);
    passback.set(person.id, request.direction);
  }
  return result(true, "granted", person);
}

/** Wraps a decision result into the AccessDecision message a door node consumes. */
export function toAccessDecision(index: AccessIndex, request: AccessRequest, decision: DecisionResult, decidedAtMs: number): AccessDecision {
  return {
    requestId: request.requestId,
    schoolId: request.schoolId,
    doorId: request.doorId,
    readerId: request.readerId,
    granted: decision.granted,
    reason: decision.reason,
    personId: decision.personId,
    unlockMs: decision.granted ? index.settings.unlockMs : undefined,
    decidedAt: new Date(decidedAtMs).toISOString(),
  };
}
