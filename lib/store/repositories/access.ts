// Access-control data: credentials, door groups, rules, calendar, modes, the pass log, face data and consents.
import { EventEmitter } from "node:events";
import type { Knex } from "knex";
import type { AccessReason, CredentialKind } from "../../access/messages";
import {
  DEFAULT_ACCESS_SETTINGS,
  type AccessCredential,
  type AccessMode,
  type AccessPerson,
  type AccessRule,
  type AccessSettings,
  type AccessSnapshot,
  type CalendarEntry,
  type DoorGroup,
} from "../../access/model";
import { fromJsonColumn, toIso, toJsonColumn, toNullableNumber, toNumber } from "../json";

export interface PassLogEntry {
  schoolId: string;
  requestId: string;
  doorId: string;
  readerId: string;
  personId: string | null;
  classId: string | null;
  credentialKind: CredentialKind;
  granted: boolean;
  reason: AccessReason;
  direction: "in" | "out" | null;
  atMs: number;
}

export interface PassLogRecord extends Omit<PassLogEntry, "atMs"> {
  id: number;
  at: string;
}

export interface PassLogQuery {
  schoolId: string;
  personId?: string;
  classId?: string;
  doorId?: string;
  fromMs?: number;
  untilMs?: number;
  limit?: number;
}

export interface EncryptedBlob {
  ciphertext: string;
  iv: string;
  tag: string;
}

interface PassLogRow {
  id: number | string;
  school_id: string;
  request_id: string;
  door_id: string;
  reader_id: string;
  person_id: string | null;
  class_id: string | null;
  credential_kind: string;
  granted: number | boolean;
  reason: string;
  direction: string | null;
  at: number | string;
}

const passLogFromRow = (row: PassLogRow): PassLogRecord => ({
  id: toNumber(row.id),
  schoolId: row.school_id,
  requestId: row.request_id,
  doorId: row.door_id,
  readerId: row.reader_id,
  personId: row.person_id,
  classId: row.class_id,
  credentialKind: row.credential_kind as CredentialKind,
  granted: Boolean(row.granted),
  reason: row.reason as AccessReason,
  direction: (row.direction as "in" | "out" | null) ?? null,
  at: toIso(row.at),
});

const CHUNK = 250;

/** Emits "changed" (schoolId) when people, credentials, rules or the calendar change, "mode" (schoolId, mode) on a mode change. */
interface SqlitePool {
  config: { client?: unknown };
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<void>;
}

export class AccessRepository extends EventEmitter {
  constructor(private readonly knex: Knex) {
    super();
    this.setMaxListeners(0);
  }

  changed(schoolId: string): void {
    this.emit("changed", schoolId);
  }

  /**
   * Reads a large table in pages by its key. SQLite reads block the event loop, so one 100,000-row query would
   * pause access decisions for its whole duration; pages keep every pause short.
   */
  private async paged<T extends Record<string, unknown>>(table: string, key: string, schoolId: string, columns: string[], pageSize = 5000): Promise<T[]> {
    const rows: T[] = [];
    const pool = (this.knex as unknown as { client: SqlitePool }).client;
    const sqlite = pool.config.client === "better-sqlite3";
    // SQLite pages by rowid, a walk of the table in storage order; "+school_id" keeps the planner off the school index,
    // which would sort every page.
    const sql = (first: boolean) =>
      `SELECT rowid AS page_key, ${columns.join(", ")} FROM ${table} WHERE +school_id = ?${first ? "" : " AND rowid > ?"} ORDER BY rowid LIMIT ${pageSize}`;
    let after: unknown = null;
    for (;;) {
      let page: T[];
      if (sqlite) {
        // knex's row handling costs more than the read itself here; a prepared statement reads 100,000 rows several times faster.
        const connection = (await pool.acquireConnection()) as { prepare(sql: string): { all(...params: unknown[]): T[] } };
        try {
          page = after === null ? connection.prepare(sql(true)).all(schoolId) : connection.prepare(sql(false)).all(schoolId, after);
        } finally {
          await pool.releaseConnection(connection);
        }
      } else {
        const query = this.knex(table).where({ school_id: schoolId }).orderBy(key).limit(pageSize).select(columns);
        if (after !== null) query.where(key, ">", after as string);
        page = (await query) as T[];
      }
      rows.push(...page);
      if (page.length < pageSize) return rows;
      after = page[page.length - 1][sqlite ? "page_key" : key];
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async snapshot(schoolId: string): Promise<AccessSnapshot> {
    const people = await this.paged<{ id: string; role: string; grade: unknown; class_id: string | null; status: string; valid_from: unknown; valid_until: unknown }>("people", "id", schoolId, ["id", "role", "grade", "class_id", "status", "valid_from", "valid_until"]);
    const credentials = await this.paged<Record<string, unknown>>("credentials", "id", schoolId, [
      "id",
      "person_id",
      "kind",
      "value",
      "facility_code",
      "disabled",
      "valid_from",
      "valid_until",
    ]);
    const [teaching, groups, rules, calendar, settings] = await Promise.all([
      this.knex("teacher_classes").where({ school_id: schoolId }).select("teacher_id", "class_id"),
      this.knex("door_groups").where({ school_id: schoolId }).orderBy("id"),
      this.knex("access_rules").where({ school_id: schoolId }).orderBy("id"),
      this.knex("school_calendar").where({ school_id: schoolId }).orderBy("id"),
      this.settings(schoolId),
    ]);
    const teaches = new Map<string, string[]>();
    for (const row of teaching as Array<{ teacher_id: string; class_id: string }>) {
      const list = teaches.get(row.teacher_id) ?? [];
      list.push(row.class_id);
      teaches.set(row.teacher_id, list);
    }
    return {
      schoolId,
      people: people.map(
        (row: { id: string; role: string; grade: unknown; class_id: string | null; status: string; valid_from: unknown; valid_until: unknown }): AccessPerson => ({
          id: row.id,
          role: row.role,
          grade: toNullableNumber(row.grade),
          classId: row.class_id,
          teachesClassIds: teaches.get(row.id) ?? [],
          disabled: row.status === "disabled",
          validFromMs: toNullableNumber(row.valid_from),
          validUntilMs: toNullableNumber(row.valid_until),
        }),
      ),
      credentials: credentials.map(
        (row: Record<string, unknown>): AccessCredential => ({
          kind: row.kind as CredentialKind,
          value: String(row.value),
          personId: String(row.person_id),
          facilityCode: toNullableNumber(row.facility_code),
          disabled: Boolean(row.disabled),
          validFromMs: toNullableNumber(row.valid_from),
          validUntilMs: toNullableNumber(row.valid_until),
        }),
      ),
      doorGroups: groups.map(
        (row: Record<string, unknown>): DoorGroup => ({
          id: String(row.id),
          kind: row.kind as DoorGroup["kind"],
          name: String(row.name),
          doorIds: fromJsonColumn<string[]>(row.door_ids, []),
        }),
      ),
      rules: rules.map(
        (row: Record<string, unknown>): AccessRule => ({
          id: String(row.id),
          name: String(row.name),
          who: fromJsonColumn<AccessRule["who"]>(row.who, {}),
          doorGroupId: String(row.door_group_id),
          windows: fromJsonColumn<AccessRule["windows"]>(row.windows, []),
          calendar: fromJsonColumn<AccessRule["calendar"]>(row.calendar, {}),
        }),
      ),
      calendar: calendar.map(
        (row: Record<string, unknown>): CalendarEntry => ({
          kind: row.kind as CalendarEntry["kind"],
          from: String(row.date_from),
          to: String(row.date_to),
          name: String(row.name),
        }),
      ),
      mode: settings.mode,
      settings: settings.settings,
    };
  }

  async settings(schoolId: string): Promise<{ mode: AccessMode; settings: AccessSettings }> {
    const row = await this.knex("access_settings").where({ school_id: schoolId }).first();
    if (!row) return { mode: "normal", settings: { ...DEFAULT_ACCESS_SETTINGS } };
    return { mode: row.mode as AccessMode, settings: { ...DEFAULT_ACCESS_SETTINGS, ...fromJsonColumn<Partial<AccessSettings>>(row.settings, {}) } };
  }

  async saveSettings(schoolId: string, settings: AccessSettings): Promise<void> {
    await this.knex("access_settings")
      .insert({ school_id: schoolId, mode: "normal", settings: toJsonColumn(settings) })
      .onConflict("school_id")
      .merge(["settings"]);
    this.changed(schoolId);
  }

  async setMode(schoolId: string, mode: AccessMode, actor: string, atMs = Date.now()): Promise<void> {
    const current = await this.settings(schoolId);
    // Who locked a school down, and when, belongs in the audit trail with the change itself.
    await this.knex.transaction(async (trx) => {
      await trx("access_settings")
        .insert({ school_id: schoolId, mode, settings: toJsonColumn(current.settings), mode_set_at: atMs, mode_set_by: actor })
        .onConflict("school_id")
        .merge(["mode", "mode_set_at", "mode_set_by"]);
      await trx("audit_log").insert({
        school_id: schoolId,
        at: atMs,
        actor,
        action: "access.mode",
        target_type: "school",
        target_id: schoolId,
        details: toJsonColumn({ mode, previous: current.mode }),
      });
    });
    this.emit("mode", schoolId, mode);
  }

  async saveDoorGroup(schoolId: string, group: DoorGroup): Promise<void> {
    await this.knex("door_groups")
      .insert({ id: group.id, school_id: schoolId, kind: group.kind, name: group.name, door_ids: toJsonColumn(group.doorIds) })
      .onConflict("id")
      .merge(["kind", "name", "door_ids"]);
    this.changed(schoolId);
  }

  async saveRule(schoolId: string, rule: AccessRule): Promise<void> {
    await this.knex("access_rules")
      .insert({
        id: rule.id,
        school_id: schoolId,
        name: rule.name,
        who: toJsonColumn(rule.who),
        door_group_id: rule.doorGroupId,
        windows: toJsonColumn(rule.windows),
        calendar: toJsonColumn(rule.calendar),
      })
      .onConflict("id")
      .merge(["name", "who", "door_group_id", "windows", "calendar"]);
    this.changed(schoolId);
  }

  async addCalendarEntries(schoolId: string, entries: readonly CalendarEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.knex("school_calendar").insert(
      entries.map((e) => ({ school_id: schoolId, kind: e.kind, date_from: e.from, date_to: e.to, name: e.name })),
    );
    this.changed(schoolId);
  }

  /** Adds or replaces credentials (unique per school, kind and value). */
  async saveCredentials(schoolId: string, credentials: readonly AccessCredential[], trx: Knex = this.knex): Promise<void> {
    for (let i = 0; i < credentials.length; i += CHUNK) {
      await trx("credentials")
        .insert(
          credentials.slice(i, i + CHUNK).map((c) => ({
            school_id: schoolId,
            person_id: c.personId,
            kind: c.kind,
            value: c.value,
            facility_code: c.facilityCode,
            disabled: c.disabled,
            valid_from: c.validFromMs,
            valid_until: c.validUntilMs,
          })),
        )
        .onConflict(["school_id", "kind", "value"])
        .merge(["person_id", "facility_code", "disabled", "valid_from", "valid_until"]);
    }
    if (trx === this.knex) this.changed(schoolId);
  }

  async credentialsOf(personId: string): Promise<AccessCredential[]> {
    return (await this.knex("credentials").where({ person_id: personId }).orderBy("id")).map((row: Record<string, unknown>) => ({
      kind: row.kind as CredentialKind,
      value: String(row.value),
      personId: String(row.person_id),
      facilityCode: toNullableNumber(row.facility_code),
      disabled: Boolean(row.disabled),
      validFromMs: toNullableNumber(row.valid_from),
      validUntilMs: toNullableNumber(row.valid_until),
    }));
  }

  async setTeacherClasses(schoolId: string, teacherId: string, classIds: readonly string[], trx: Knex = this.knex): Promise<void> {
    await trx("teacher_classes").where({ teacher_id: teacherId }).delete();
    if (classIds.length > 0) {
      await trx("teacher_classes").insert(classIds.map((classId) => ({ school_id: schoolId, teacher_id: teacherId, class_id: classId })));
    }
  }

  async addVisitor(
    schoolId: string,
    visitor: { id: string; name: string; hostId: string | null; purpose: string; validFromMs: number; validUntilMs: number },
  ): Promise<void> {
    await this.knex.transaction(async (trx) => {
      await trx("people").insert({
        id: visitor.id,
        school_id: schoolId,
        role: "visitor",
        name: visitor.name,
        grade: null,
        class_id: null,
        status: "active",
        created_at: Date.now(),
        valid_from: visitor.validFromMs,
        valid_until: visitor.validUntilMs,
      });
      await trx("visitors").insert({ person_id: visitor.id, school_id: schoolId, host_id: visitor.hostId, purpose: visitor.purpose });
    });
    this.changed(schoolId);
  }

  async linkGuardian(schoolId: string, parentId: string, childId: string): Promise<void> {
    await this.knex("guardians").insert({ school_id: schoolId, parent_id: parentId, child_id: childId }).onConflict(["parent_id", "child_id"]).ignore();
  }

  async guardiansOf(childId: string): Promise<string[]> {
    return (await this.knex("guardians").where({ child_id: childId }).select("parent_id")).map((r: { parent_id: string }) => r.parent_id);
  }

  async childrenOf(parentId: string): Promise<string[]> {
    return (await this.knex("guardians").where({ parent_id: parentId }).select("child_id")).map((r: { child_id: string }) => r.child_id);
  }

  async appendPassLog(entries: readonly PassLogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.knex.transaction(async (trx) => {
      for (let i = 0; i < entries.length; i += CHUNK) {
        await trx("pass_log").insert(
          entries.slice(i, i + CHUNK).map((e) => ({
            school_id: e.schoolId,
            request_id: e.requestId,
            door_id: e.doorId,
            reader_id: e.readerId,
            person_id: e.personId,
            class_id: e.classId,
            credential_kind: e.credentialKind,
            granted: e.granted,
            reason: e.reason,
            direction: e.direction,
            at: e.atMs,
          })),
        );
      }
    });
  }

  /** Newest first. */
  async passLog(query: PassLogQuery): Promise<PassLogRecord[]> {
    const builder = this.knex<PassLogRow>("pass_log").where({ school_id: query.schoolId }).orderBy([{ column: "at", order: "desc" }, { column: "id", order: "desc" }]);
    if (query.personId) builder.where({ person_id: query.personId });
    if (query.classId) builder.where({ class_id: query.classId });
    if (query.doorId) builder.where({ door_id: query.doorId });
    if (query.fromMs !== undefined) builder.where("at", ">=", query.fromMs);
    if (query.untilMs !== undefined) builder.where("at", "<", query.untilMs);
    builder.limit(query.limit ?? 1000);
    return (await builder).map(passLogFromRow);
  }

  async passLogCount(schoolId: string): Promise<number> {
    const [row] = await this.knex("pass_log").where({ school_id: schoolId }).count<{ n: number | string }[]>({ n: "*" });
    return toNumber(row.n);
  }

  /** Each student of the class with the time of their first granted entry in [fromMs, untilMs), or null. */
  async classArrivals(schoolId: string, classId: string, fromMs: number, untilMs: number): Promise<Array<{ personId: string; name: string; arrivedAt: string | null }>> {
    const students: Array<{ id: string; name: string }> = await this.knex("people")
      .where({ school_id: schoolId, class_id: classId, role: "student" })
      .orderBy("id")
      .select("id", "name");
    const firsts: Array<{ person_id: string; first: number | string }> = await this.knex("pass_log")
      .where({ school_id: schoolId, class_id: classId, granted: true })
      .where((q) => q.where({ direction: "in" }).orWhereNull("direction"))
      .where("at", ">=", fromMs)
      .where("at", "<", untilMs)
      .groupBy("person_id")
      .select("person_id")
      .min({ first: "at" });
    const arrived = new Map(firsts.map((row) => [row.person_id, toNumber(row.first)]));
    return students.map((s) => ({ personId: s.id, name: s.name, arrivedAt: arrived.has(s.id) ? toIso(arrived.get(s.id)) : null }));
  }

  async storeFaceData(schoolId: string, personId: string, blob: EncryptedBlob, atMs = Date.now()): Promise<void> {
    await this.knex("face_data")
      .insert({ person_id: personId, school_id: schoolId, ciphertext: blob.ciphertext, iv: blob.iv, tag: blob.tag, stored_at: atMs })
      .onConflict("person_id")
      .merge(["ciphertext", "iv", "tag", "stored_at"]);
  }

  async faceData(personId: string): Promise<EncryptedBlob | undefined> {
    const row = await this.knex("face_data").where({ person_id: personId }).first();
    return row ? { ciphertext: row.ciphertext, iv: row.iv, tag: row.tag } : undefined;
  }

  async deleteFaceData(personId: string): Promise<boolean> {
    return (await this.knex("face_data").where({ person_id: personId }).delete()) > 0;
  }

  async recordConsent(schoolId: string, personId: string, purpose: string, givenBy: string, atMs = Date.now()): Promise<void> {
    await this.knex("consents").insert({ school_id: schoolId, person_id: personId, purpose, given_by: givenBy, given_at: atMs, withdrawn_at: null });
  }

  async withdrawConsent(personId: string, purpose: string, atMs = Date.now()): Promise<void> {
    await this.knex("consents").where({ person_id: personId, purpose }).whereNull("withdrawn_at").update({ withdrawn_at: atMs });
  }

  async activeConsent(personId: string, purpose: string): Promise<{ givenBy: string; givenAt: string } | undefined> {
    const row = await this.knex("consents").where({ person_id: personId, purpose }).whereNull("withdrawn_at").orderBy("given_at", "desc").first();
    return row ? { givenBy: row.given_by, givenAt: toIso(row.given_at) } : undefined;
  }
}
