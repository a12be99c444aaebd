// Roster import and export: students, classes, teachers and cards from the spreadsheets school IT staff keep.
import type { Knex } from "knex";
import { ValidationError } from "../errors";
import type { Store } from "../store";
import { PERSON_ROLES, type PersonRole } from "../store/domain";
import { ZoneClock, parseLocalDate } from "./calendar";
import { describeRosterProblem, type RosterLanguage } from "./roster-messages";
import {
  columnLetter,
  detectRosterFormat,
  readRosterTable,
  writeCsv,
  writeXlsx,
  type RosterFormat,
  type RosterTable,
} from "./roster-table";

export const ROSTER_COLUMNS = [
  "person_id",
  "name",
  "role",
  "grade",
  "class_id",
  "class_name",
  "teaches",
  "cards",
  "pins",
  "birth_date",
  "valid_from",
  "valid_until",
  "status",
] as const;
export type RosterColumn = (typeof ROSTER_COLUMNS)[number];

const REQUIRED_COLUMNS: readonly RosterColumn[] = ["person_id", "name", "role"];

/** Header labels the export writes, per language; the import accepts these and the aliases below. */
export const ROSTER_HEADERS: Record<RosterLanguage, Record<RosterColumn, string>> = {
  "en-US": {
    person_id: "person_id",
    name: "name",
    role: "role",
    grade: "grade",
    class_id: "class_id",
    class_name: "class_name",
    teaches: "teaches",
    cards: "cards",
    pins: "pins",
    birth_date: "birth_date",
    valid_from: "valid_from",
    valid_until: "valid_until",
    status: "status",
  },
  "zh-CN": {
    person_id: "学号/工号",
    name: "姓名",
    role: "身份",
    grade: "年级",
    class_id: "班级编号",
    class_name: "班级名称",
    teaches: "任教班级",
    cards: "卡号",
    pins: "密码",
    birth_date: "出生日期",
    valid_from: "生效日期",
    valid_until: "失效日期",
    status: "状态",
  },
};

const HEADER_ALIASES: Record<string, RosterColumn> = {
  id: "person_id",
  学号: "person_id",
  工号: "person_id",
  编号: "person_id",
  card: "cards",
  card_number: "cards",
  card_numbers: "cards",
  pin: "pins",
  班级: "class_id",
  角色: "role",
};

const ROLE_ALIASES: Record<string, PersonRole> = {
  学生: "student",
  教师: "teacher",
  老师: "teacher",
  职工: "staff",
  教职工: "staff",
  保安: "guard",
  门卫: "guard",
  校长: "principal",
  值班员: "duty-officer",
  校医: "nurse",
};
/** Visitors and parents are registered through their own flows, not the school roster. */
const ROSTER_ROLES = PERSON_ROLES.filter((role) => role !== "visitor" && role !== "parent");

const STATUS_ALIASES: Record<string, "active" | "disabled"> = {
  active: "active",
  启用: "active",
  正常: "active",
  在校: "active",
  disabled: "disabled",
  停用: "disabled",
  禁用: "disabled",
  离校: "disabled",
};

export const ROSTER_PROBLEM_CODES = [
  "unreadable-file",
  "missing-column",
  "unknown-column",
  "duplicate-column",
  "extra-cell",
  "required",
  "invalid-id",
  "invalid-role",
  "invalid-grade",
  "student-needs-class",
  "class-grade-conflict",
  "invalid-date",
  "invalid-range",
  "invalid-status",
  "invalid-card",
  "invalid-pin",
  "duplicate-person",
  "duplicate-credential",
  "credential-taken",
  "unknown-class",
  "other-school",
] as const;
export type RosterProblemCode = (typeof ROSTER_PROBLEM_CODES)[number];

export interface RosterProblem {
  /** Spreadsheet row number (1 = the header row). */
  row: number;
  /** The column's header as written in the file, or null for a whole-row problem. */
  column: string | null;
  /** Spreadsheet column letter (A, B, …), or null. */
  columnLetter: string | null;
  code: RosterProblemCode;
  params: Record<string, string | number>;
  /** The problem in the report's language. */
  message: string;
}

export interface RosterImportReport {
  ok: boolean;
  format: RosterFormat;
  rows: number;
  problems: RosterProblem[];
  /** What was written; all zero unless ok. */
  imported: { people: number; newPeople: number; classes: number; credentials: number };
}

export interface RosterImportOptions {
  schoolId: string;
  /** Who imported, for the audit log. */
  actor: string;
  format?: RosterFormat;
  fileName?: string;
  language?: RosterLanguage;
  /** Validate and report only; write nothing. */
  dryRun?: boolean;
  /** Stop collecting after this many problems (the report says so). */
  maxProblems?: number;
}

interface PlannedCredential {
  kind: "card" | "pin";
  value: string;
  facilityCode: number | null;
  row: number;
  column: RosterColumn;
}

interface PlannedPerson {
  row: number;
  id: string;
  name: string;
  role: PersonRole;
  grade: number | null;
  classId: string | null;
  status: "active" | "disabled";
  birthDate: string | null;
  validFromMs: number | null;
  validUntilMs: number | null;
  teaches: string[];
  credentials: PlannedCredential[];
}

interface PlannedClass {
  id: string;
  grade: number;
  name: string | null;
  row: number;
}

interface RosterPlan {
  columns: Set<RosterColumn>;
  people: PlannedPerson[];
  classes: Map<string, PlannedClass>;
}

const ID_PATTERN = /^[A-Za-z0-9][\w.:@-]{0,63}$/u;
const CARD_PATTERN = /^(?:(\d{1,5}):)?(\d{1,20})$/;
const RAW_CARD_PATTERN = /^raw:\d{1,3}:[0-9a-fA-F]{1,64}$/;
const PIN_PATTERN = /^\d{4,12}$/;
const LIST_SEPARATOR = /[;；、|\s]+/u;
const DAY_MS = 86_400_000;

class ProblemCollector {
  readonly problems: RosterProblem[] = [];
  truncated = false;

  constructor(
    private readonly headers: string[],
    private readonly language: RosterLanguage,
    private readonly max: number,
  ) {}

  add(row: number, columnIndex: number | null, code: RosterProblemCode, params: Record<string, string | number> = {}): void {
    if (this.problems.length >= this.max) {
      this.truncated = true;
      return;
    }
    const column = columnIndex === null ? null : (this.headers[columnIndex] ?? null);
    const problem: RosterProblem = {
      row,
      column,
      columnLetter: columnIndex === null ? null : columnLetter(columnIndex + 1),
      code,
      params,
      message: "",
    };
    problem.message = describeRosterProblem(problem, this.language);
    this.problems.push(problem);
  }
}

function canonicalHeader(header: string): RosterColumn | undefined {
  const key = header.trim();
  const lower = key.toLowerCase().replace(/[\s-]+/g, "_");
  for (const language of Object.keys(ROSTER_HEADERS) as RosterLanguage[]) {
    for (const column of ROSTER_COLUMNS) {
      const label = ROSTER_HEADERS[language][column];
      if (label === key || label === lower) return column;
    }
  }
  return HEADER_ALIASES[lower] ?? HEADER_ALIASES[key];
}

function splitList(value: string): string[] {
  return value
    .split(LIST_SEPARATOR)
    .map((part) => part.trim())
    .filter((part) => part !== "");
}

/** Validates a table into a plan. Checks that need the store's contents happen later, inside the transaction. */
function planRoster(table: RosterTable, zone: ZoneClock, problems: ProblemCollector): RosterPlan {
  const columnIndex = new Map<RosterColumn, number>();
  table.headers.forEach((header, index) => {
    if (header === "") return;
    const column = canonicalHeader(header);
    if (!column) problems.add(1, index, "unknown-column", { header });
    else if (columnIndex.has(column)) problems.add(1, index, "duplicate-column", { header });
    else columnIndex.set(column, index);
  });
  for (const column of REQUIRED_COLUMNS) {
    if (!columnIndex.has(column)) problems.add(1, null, "missing-column", { column: ROSTER_HEADERS["en-US"][column], columnZh: ROSTER_HEADERS["zh-CN"][column] });
  }
  const plan: RosterPlan = { columns: new Set(columnIndex.keys()), people: [], classes: new Map() };
  if (problems.problems.length > 0) return plan;

  const seenPeople = new Map<string, number>();
  const seenCredentials = new Map<string, number>();
  table.rows.forEach((cells, i) => {
    const row = i + 2;
    if (cells.every((cell) => cell.trim() === "")) return;
    const extra = cells.findIndex((cell, index) => index >= table.headers.length && cell.trim() !== "");
    if (extra >= 0) problems.add(row, extra, "extra-cell", { value: cells[extra] });
    const at = (column: RosterColumn) => columnIndex.get(column) ?? null;
    const cell = (column: RosterColumn) => {
      const index = columnIndex.get(column);
      return index === undefined ? "" : (cells[index] ?? "").trim();
    };
    const before = problems.problems.length;

    const id = cell("person_id");
    if (id === "") problems.add(row, at("person_id"), "required");
    else if (!ID_PATTERN.test(id)) problems.add(row, at("person_id"), "invalid-id", { value: id });
    else if (seenPeople.has(id)) problems.add(row, at("person_id"), "duplicate-person", { value: id, firstRow: seenPeople.get(id)! });
    else seenPeople.set(id, row);

    const name = cell("name");
    if (name === "") problems.add(row, at("name"), "required");

    const roleText = cell("role");
    const role = (ROSTER_ROLES as readonly string[]).includes(roleText.toLowerCase())
      ? (roleText.toLowerCase() as PersonRole)
      : ROLE_ALIASES[roleText];
    if (roleText === "") problems.add(row, at("role"), "required");
    else if (!role) problems.add(row, at("role"), "invalid-role", { value: roleText, allowed: ROSTER_ROLES.join(", ") });

    let grade: number | null = null;
    const gradeText = cell("grade");
    if (gradeText !== "") {
      const parsed = Number(gradeText.replace(/年级$/u, ""));
      if (!Number.isInteger(parsed) || parsed < 1 || parsed > 12) problems.add(row, at("grade"), "invalid-grade", { value: gradeText });
      else grade = parsed;
    }
    const classId = cell("class_id") || null;
    if (classId !== null && !ID_PATTERN.test(classId)) problems.add(row, at("class_id"), "invalid-id", { value: classId });
    if (role === "student") {
      if (classId === null) problems.add(row, at("class_id") ?? at("role"), "student-needs-class");
      if (gradeText === "") problems.add(row, at("grade") ?? at("role"), "student-needs-class");
    }
    if (classId !== null && grade !== null && ID_PATTERN.test(classId)) {
      const known = plan.classes.get(classId);
      if (known && known.grade !== grade) {
        problems.add(row, at("grade"), "class-grade-conflict", { classId, grade, otherGrade: known.grade, otherRow: known.row });
      } else if (!known) {
        plan.classes.set(classId, { id: classId, grade, name: cell("class_name") || null, row });
      } else if (!known.name && cell("class_name")) {
        known.name = cell("class_name");
      }
    } else if (classId !== null && grade === null && gradeText === "" && role !== "student") {
      problems.add(row, at("grade") ?? at("class_id"), "student-needs-class");
    }

    const date = (column: RosterColumn): string | null => {
      const text = cell(column);
      if (text === "") return null;
      try {
        parseLocalDate(text);
        return text;
      } catch {
        problems.add(row, at(column), "invalid-date", { value: text });
        return null;
      }
    };
    const birthDate = date("birth_date");
    const validFrom = date("valid_from");
    const validUntil = date("valid_until");
    const validFromMs = validFrom ? zone.startOfLocalDate(validFrom) : null;
    // valid_until is the last valid day: the person expires when the next day begins.
    const validUntilMs = validUntil ? zone.startOfLocalDate(new Date(parseLocalDate(validUntil) * DAY_MS + DAY_MS).toISOString().slice(0, 10)) : null;
    if (validFromMs !== null && validUntilMs !== null && validUntilMs <= validFromMs) {
      problems.add(row, at("valid_until"), "invalid-range", { from: validFrom!, until: validUntil! });
    }

    const statusText = cell("status");
    const status = statusText === "" ? "active" : STATUS_ALIASES[statusText.toLowerCase()] ?? STATUS_ALIASES[statusText];
    if (!status) problems.add(row, at("status"), "invalid-status", { value: statusText });

    const teaches = splitList(cell("teaches"));
    for (const taught of teaches) if (!ID_PATTERN.test(taught)) problems.add(row, at("teaches"), "invalid-id", { value: taught });

    const credentials: PlannedCredential[] = [];
    const addCredential = (credential: PlannedCredential) => {
      const key = `${credential.kind}:${credential.value}`;
      const first = seenCredentials.get(key);
      if (first !== undefined) {
        problems.add(row, at(credential.column), "duplicate-credential", { value: credential.value, firstRow: first });
        return;
      }
      seenCredentials.set(key, row);
      credentials.push(credential);
    };
    for (const card of splitList(cell("cards"))) {
      const match = CARD_PATTERN.exec(card);
      if (match) {
        addCredential({ kind: "card", value: String(BigInt(match[2])), facilityCode: match[1] ? Number(match[1]) : null, row, column: "cards" });
      } else if (RAW_CARD_PATTERN.test(card)) {
        addCredential({ kind: "card", value: card.toLowerCase().replace(/^raw:(\d+):/, "raw:$1:"), facilityCode: null, row, column: "cards" });
      } else {
        problems.add(row, at("cards"), "invalid-card", { value: card });
      }
    }
    for (const pin of splitList(cell("pins"))) {
      if (PIN_PATTERN.test(pin)) addCredential({ kind: "pin", value: pin, facilityCode: null, row, column: "pins" });
      else problems.add(row, at("pins"), "invalid-pin");
    }

    if (problems.problems.length === before && role && status) {
      plan.people.push({
        row,
        id,
        name,
        role,
        grade: role === "student" || grade !== null ? grade : null,
        classId,
        status,
        birthDate,
        validFromMs,
        validUntilMs,
        teaches,
        credentials,
      });
    }
  });
  return plan;
}

function chunks<T>(items: readonly T[], size = 400): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Checks against what the store already holds; run inside the import transaction so nothing changes in between. */
async function checkAgainstStore(trx: Knex, schoolId: string, plan: RosterPlan, indexOf: (column: RosterColumn) => number | null, problems: ProblemCollector): Promise<void> {
  const personIds = plan.people.map((p) => p.id);
  const elsewhere = new Map<string, string>();
  for (const part of chunks(personIds)) {
    for (const row of await trx("people").whereIn("id", part).whereNot({ school_id: schoolId }).select("id", "school_id")) {
      elsewhere.set(row.id, row.school_id);
    }
  }
  const storedClasses = new Map<string, { school_id: string; grade: number }>();
  const referenced = new Set<string>([...plan.classes.keys(), ...plan.people.flatMap((p) => p.teaches)]);
  for (const part of chunks([...referenced])) {
    for (const row of await trx("classes").whereIn("id", part).select("id", "school_id", "grade")) {
      storedClasses.set(row.id, { school_id: row.school_id, grade: Number(row.grade) });
    }
  }
  const inRoster = new Set(personIds);
  const owners = new Map<string, string>();
  const planned = plan.people.flatMap((p) => p.credentials);
  for (const kind of ["card", "pin"] as const) {
    const values = planned.filter((c) => c.kind === kind).map((c) => c.value);
    for (const part of chunks(values)) {
      for (const row of await trx("credentials").where({ school_id: schoolId, kind }).whereIn("value", part).select("value", "person_id")) {
        owners.set(`${kind}:${row.value}`, row.person_id);
      }
    }
  }

  for (const person of plan.people) {
    const otherSchool = elsewhere.get(person.id);
    if (otherSchool) problems.add(person.row, indexOf("person_id"), "other-school", { value: person.id, schoolId: otherSchool });
    for (const credential of person.credentials) {
      const owner = owners.get(`${credential.kind}:${credential.value}`);
      if (owner && owner !== person.id && !inRoster.has(owner)) {
        problems.add(person.row, indexOf(credential.column), "credential-taken", { value: credential.value, owner });
      }
    }
    for (const taught of person.teaches) {
      const stored = storedClasses.get(taught);
      if (!plan.classes.has(taught) && (!stored || stored.school_id !== schoolId)) {
        problems.add(person.row, indexOf("teaches"), "unknown-class", { value: taught });
      }
    }
  }
  for (const planned of plan.classes.values()) {
    const stored = storedClasses.get(planned.id);
    if (!stored) continue;
    if (stored.school_id !== schoolId) problems.add(planned.row, indexOf("class_id"), "other-school", { value: planned.id, schoolId: stored.school_id });
    else if (stored.grade !== planned.grade) {
      problems.add(planned.row, indexOf("grade"), "class-grade-conflict", { classId: planned.id, grade: planned.grade, otherGrade: stored.grade, otherRow: 0 });
    }
  }
}

async function writePlan(trx: Knex, schoolId: string, plan: RosterPlan): Promise<RosterImportReport["imported"]> {
  const has = (column: RosterColumn) => plan.columns.has(column);
  const existingClasses = new Set<string>();
  for (const part of chunks([...plan.classes.keys()])) {
    for (const row of await trx("classes").whereIn("id", part).select("id")) existingClasses.add(row.id);
  }
  for (const planned of plan.classes.values()) {
    if (existingClasses.has(planned.id)) {
      if (planned.name) await trx("classes").where({ id: planned.id }).update({ name: planned.name });
    } else {
      await trx("classes").insert({ id: planned.id, school_id: schoolId, grade: planned.grade, name: planned.name ?? planned.id });
    }
  }

  const existingPeople = new Set<string>();
  for (const part of chunks(plan.people.map((p) => p.id))) {
    for (const row of await trx("people").whereIn("id", part).select("id")) existingPeople.add(row.id);
  }
  const now = Date.now();
  const newRows: Record<string, unknown>[] = [];
  for (const person of plan.people) {
    const columns: Record<string, unknown> = { name: person.name, role: person.role, grade: person.grade, class_id: person.classId };
    if (has("status")) columns.status = person.status;
    if (has("birth_date")) columns.birth_date = person.birthDate;
    if (has("valid_from")) columns.valid_from = person.validFromMs;
    if (has("valid_until")) columns.valid_until = person.validUntilMs;
    if (existingPeople.has(person.id)) {
      await trx("people").where({ id: person.id }).update(columns);
    } else {
      newRows.push({
        id: person.id,
        school_id: schoolId,
        status: person.status,
        created_at: now,
        birth_date: person.birthDate,
        valid_from: person.validFromMs,
        valid_until: person.validUntilMs,
        ...columns,
      });
    }
  }
  for (const part of chunks(newRows, 100)) await trx("people").insert(part);

  if (has("teaches")) {
    const teacherIds = plan.people.map((p) => p.id);
    for (const part of chunks(teacherIds)) await trx("teacher_classes").whereIn("teacher_id", part).delete();
    const links = plan.people.flatMap((p) => p.teaches.map((classId) => ({ school_id: schoolId, teacher_id: p.id, class_id: classId })));
    for (const part of chunks(links, 200)) await trx("teacher_classes").insert(part);
  }

  let credentials = 0;
  for (const [kind, column] of [
    ["card", "cards"],
    ["pin", "pins"],
  ] as const) {
    if (!has(column)) continue;
    const ids = plan.people.map((p) => p.id);
    for (const part of chunks(ids)) await trx("credentials").where({ school_id: schoolId, kind }).whereIn("person_id", part).delete();
    const rows = plan.people.flatMap((p) =>
      p.credentials
        .filter((c) => c.kind === kind)
        .map((c) => ({ school_id: schoolId, person_id: p.id, kind, value: c.value, facility_code: c.facilityCode, disabled: false, valid_from: null, valid_until: null })),
    );
    for (const part of chunks(rows, 200)) await trx("credentials").insert(part);
    credentials += rows.length;
  }
  return { people: plan.people.length, newPeople: newRows.length, classes: plan.classes.size - existingClasses.size, credentials };
}

const NOTHING = { people: 0, newPeople: 0, classes: 0, credentials: 0 };

/**
 * Imports a roster all-or-nothing: every row is validated (also against the store) inside one transaction, and if
 * any row has a problem nothing is written and the report lists every problem by row and column.
 */
export async function importRoster(store: Store, bytes: Buffer, options: RosterImportOptions): Promise<RosterImportReport> {
  const language = options.language ?? "en-US";
  const format = options.format ?? detectRosterFormat(bytes, options.fileName);
  const school = await store.schools.get(options.schoolId);
  if (!school) throw new ValidationError(`school "${options.schoolId}" does not exist in the store`, "schoolId");
  const { settings } = await store.access.settings(options.schoolId);
  let table: RosterTable;
  try {
    table = await readRosterTable(bytes, format);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const collector = new ProblemCollector([], language, 1);
    collector.add(1, null, "unreadable-file", { reason: err.message });
    return { ok: false, format, rows: 0, problems: collector.problems, imported: NOTHING };
  }
  const problems = new ProblemCollector(table.headers, language, options.maxProblems ?? 500);
  const plan = planRoster(table, new ZoneClock(settings.timeZone || school.timeZone), problems);
  const rows = table.rows.filter((cells) => cells.some((cell) => cell.trim() !== "")).length;
  const columnIndex = (column: RosterColumn) => {
    const index = table.headers.findIndex((header) => canonicalHeader(header) === column);
    return index < 0 ? null : index;
  };

  if (problems.problems.length > 0) return { ok: false, format, rows, problems: problems.problems, imported: NOTHING };

  let imported = NOTHING;
  const rollback = new Error("roster rolled back");
  try {
    await store.knex.transaction(async (trx) => {
      await checkAgainstStore(trx, options.schoolId, plan, columnIndex, problems);
      if (problems.problems.length > 0 || options.dryRun) throw rollback;
      imported = await writePlan(trx, options.schoolId, plan);
      await trx("audit_log").insert({
        school_id: options.schoolId,
        at: Date.now(),
        actor: options.actor,
        action: "roster.import",
        target_type: "roster",
        target_id: options.fileName ?? format,
        details: JSON.stringify({ rows, ...imported }),
      });
    });
  } catch (err) {
    if (err !== rollback) throw err;
  }
  const ok = problems.problems.length === 0;
  if (ok && !options.dryRun) store.access.changed(options.schoolId);
  return { ok, format, rows, problems: problems.problems, imported: ok && !options.dryRun ? imported : NOTHING };
}

export interface RosterExportOptions {
  schoolId: string;
  actor: string;
  format: RosterFormat;
  language?: RosterLanguage;
  /** PINs are secrets: exported only when asked. Without the column a re-import leaves PINs unchanged. */
  includePins?: boolean;
}

/** Exports the school's roster in the import format: importing the file again changes nothing. */
export async function exportRoster(store: Store, options: RosterExportOptions): Promise<Buffer> {
  const school = await store.schools.get(options.schoolId);
  if (!school) throw new ValidationError(`school "${options.schoolId}" does not exist in the store`, "schoolId");
  const { settings } = await store.access.settings(options.schoolId);
  const zone = new ZoneClock(settings.timeZone || school.timeZone);
  const knex = store.knex;
  const [people, classes, teaching, credentials] = await Promise.all([
    knex("people").where({ school_id: options.schoolId }).whereIn("role", ROSTER_ROLES as unknown as string[]).orderBy("id"),
    knex("classes").where({ school_id: options.schoolId }).select("id", "name"),
    knex("teacher_classes").where({ school_id: options.schoolId }).orderBy("class_id"),
    knex("credentials").where({ school_id: options.schoolId }).whereIn("kind", ["card", "pin"]).orderBy("id"),
  ]);
  const className = new Map(classes.map((c: { id: string; name: string }) => [c.id, c.name]));
  const group = <T>(rows: T[], key: (row: T) => string) => {
    const map = new Map<string, T[]>();
    for (const row of rows) {
      const list = map.get(key(row)) ?? [];
      list.push(row);
      map.set(key(row), list);
    }
    return map;
  };
  const teachesOf = group(teaching as Array<{ teacher_id: string; class_id: string }>, (r) => r.teacher_id);
  const credentialsOf = group(credentials as Array<{ person_id: string; kind: string; value: string; facility_code: number | null }>, (r) => r.person_id);
  const roleOrder = (role: string) => (ROSTER_ROLES as readonly string[]).indexOf(role);
  people.sort(
    (a: { role: string; class_id: string | null; id: string }, b: { role: string; class_id: string | null; id: string }) =>
      roleOrder(a.role) - roleOrder(b.role) || (a.class_id ?? "").localeCompare(b.class_id ?? "") || a.id.localeCompare(b.id),
  );
  const columns = ROSTER_COLUMNS.filter((column) => column !== "pins" || options.includePins);
  const language = options.language ?? "en-US";
  const localDate = (ms: unknown) => (ms === null || ms === undefined ? "" : zone.local(Number(ms)).date);
  const rows = people.map((person: Record<string, unknown>) => {
    const mine = credentialsOf.get(String(person.id)) ?? [];
    const values: Record<RosterColumn, string> = {
      person_id: String(person.id),
      name: String(person.name),
      role: String(person.role),
      grade: person.grade === null || person.grade === undefined ? "" : String(person.grade),
      class_id: person.class_id ? String(person.class_id) : "",
      class_name: person.class_id ? String(className.get(String(person.class_id)) ?? "") : "",
      teaches: (teachesOf.get(String(person.id)) ?? []).map((t) => t.class_id).join(";"),
      cards: mine
        .filter((c) => c.kind === "card")
        .map((c) => (c.facility_code === null || c.facility_code === undefined ? c.value : `${c.facility_code}:${c.value}`))
        .join(";"),
      pins: mine
        .filter((c) => c.kind === "pin")
        .map((c) => c.value)
        .join(";"),
      birth_date: person.birth_date ? String(person.birth_date) : "",
      valid_from: localDate(person.valid_from),
      valid_until: person.valid_until === null || person.valid_until === undefined ? "" : localDate(Number(person.valid_until) - 1),
      status: String(person.status),
    };
    return columns.map((column) => values[column]);
  });
  const table: RosterTable = { headers: columns.map((column) => ROSTER_HEADERS[language][column]), rows };
  await store.audit.record({
    schoolId: options.schoolId,
    actor: options.actor,
    action: "roster.export",
    targetType: "roster",
    targetId: options.format,
    details: { rows: rows.length, includePins: Boolean(options.includePins) },
  });
  return options.format === "xlsx" ? writeXlsx(table, language === "zh-CN" ? "花名册" : "Roster") : writeCsv(table);
}
