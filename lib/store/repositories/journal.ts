// The event journal: append-only, idempotent on eventId.
import type { Knex } from "knex";
import type { SafetyEvent, Severity } from "../../events";
import type { JournalEntry } from "../domain";
import { fromJsonColumn, toIso, toJsonColumn, toNumber } from "../json";
import { isBetterSqlite, knexPool, type KnexPool, type SqliteConnection } from "../sqlite-direct";

interface EventRow {
  seq: number | string;
  event_id: string;
  school_id: string;
  device_id: string | null;
  zone_id: string | null;
  kind: string;
  severity: string;
  source: string;
  occurred_at: number | string;
  received_at: number | string;
  payload: string;
}

/** Rows per INSERT: well under SQLite's bound-variable limit (10 columns each). */
const INSERT_CHUNK = 400;

function toRow(event: SafetyEvent, receivedAtMs: number): Omit<EventRow, "seq"> {
  return {
    event_id: event.eventId,
    school_id: event.schoolId,
    device_id: event.deviceId ?? null,
    zone_id: event.zoneId ?? null,
    kind: event.kind,
    severity: event.severity,
    source: event.source,
    occurred_at: Date.parse(event.occurredAt),
    received_at: receivedAtMs,
    payload: toJsonColumn(event.details ?? {}),
  };
}

function toEntry(row: EventRow): JournalEntry {
  return {
    seq: toNumber(row.seq),
    receivedAt: toIso(row.received_at),
    event: {
      eventId: row.event_id,
      schoolId: row.school_id,
      deviceId: row.device_id,
      zoneId: row.zone_id,
      kind: row.kind,
      severity: row.severity as Severity,
      source: row.source,
      occurredAt: toIso(row.occurred_at),
      details: fromJsonColumn<Record<string, unknown>>(row.payload, {}),
    },
  };
}

export interface JournalQuery {
  schoolId?: string;
  kind?: string;
  since?: string;
  until?: string;
  limit?: number;
}

const COLUMNS = ["event_id", "school_id", "device_id", "zone_id", "kind", "severity", "source", "occurred_at", "received_at", "payload"] as const;
const SQLITE_INSERT = `INSERT INTO events (${COLUMNS.join(", ")}) VALUES (${COLUMNS.map(() => "?").join(", ")}) ON CONFLICT(event_id) DO NOTHING`;

export class JournalRepository {
  private readonly sqliteInserts = new WeakMap<object, (rows: ReturnType<typeof toRow>[], inserted: Set<string>) => void>();

  constructor(private readonly knex: Knex) {}

  /**
   * Appends events in one transaction and returns the ids that were new. Events already in the journal
   * (or repeated within the batch) are stored once.
   */
  async appendBatch(events: readonly SafetyEvent[], receivedAtMs = Date.now()): Promise<Set<string>> {
    const inserted = new Set<string>();
    if (events.length === 0) return inserted;
    const pool = knexPool(this.knex);
    if (isBetterSqlite(this.knex)) {
      await this.appendSqlite(pool, events.map((event) => toRow(event, receivedAtMs)), inserted);
      return inserted;
    }
    await this.knex.transaction(async (trx) => {
      for (let start = 0; start < events.length; start += INSERT_CHUNK) {
        const chunk = events.slice(start, start + INSERT_CHUNK);
        const ids = chunk.map((event) => event.eventId);
        const existing = new Set(
          (await trx("events").whereIn("event_id", ids).select("event_id")).map((row: { event_id: string }) => row.event_id),
        );
        const rows = [];
        for (const event of chunk) {
          if (existing.has(event.eventId) || inserted.has(event.eventId)) continue;
          inserted.add(event.eventId);
          rows.push(toRow(event, receivedAtMs));
        }
        if (rows.length > 0) await trx("events").insert(rows).onConflict("event_id").ignore();
      }
    });
    return inserted;
  }

  /**
   * SQLite: one prepared statement in one synchronous transaction on the pooled connection. knex's query
   * builder costs more than the write itself at alarm-storm rates, and `changes` says exactly which rows were new.
   */
  private async appendSqlite(pool: KnexPool, rows: ReturnType<typeof toRow>[], inserted: Set<string>): Promise<void> {
    const connection = (await pool.acquireConnection()) as SqliteConnection;
    try {
      let write = this.sqliteInserts.get(connection);
      if (!write) {
        const statement = connection.prepare(SQLITE_INSERT);
        write = connection.transaction((batch: ReturnType<typeof toRow>[], added: Set<string>) => {
          for (const row of batch) {
            const result = statement.run(
              row.event_id,
              row.school_id,
              row.device_id,
              row.zone_id,
              row.kind,
              row.severity,
              row.source,
              row.occurred_at,
              row.received_at,
              row.payload,
            );
            if (result.changes === 1) added.add(row.event_id);
          }
        });
        this.sqliteInserts.set(connection, write);
      }
      write(rows, inserted);
    } finally {
      await pool.releaseConnection(connection);
    }
  }

  async append(event: SafetyEvent, receivedAtMs = Date.now()): Promise<boolean> {
    return (await this.appendBatch([event], receivedAtMs)).has(event.eventId);
  }

  async get(eventId: string): Promise<JournalEntry | undefined> {
    const row = await this.knex<EventRow>("events").where({ event_id: eventId }).first();
    return row ? toEntry(row) : undefined;
  }

  /** Newest first. */
  async list(query: JournalQuery = {}): Promise<JournalEntry[]> {
    const builder = this.knex<EventRow>("events").orderBy("seq", "desc").limit(query.limit ?? 100);
    if (query.schoolId) builder.where("school_id", query.schoolId);
    if (query.kind) builder.where("kind", query.kind);
    if (query.since) builder.where("occurred_at", ">=", Date.parse(query.since));
    if (query.until) builder.where("occurred_at", "<", Date.parse(query.until));
    return (await builder).map(toEntry);
  }

  async count(schoolId?: string): Promise<number> {
    const builder = this.knex("events").count<{ n: number | string }[]>({ n: "*" });
    if (schoolId) builder.where("school_id", schoolId);
    const [row] = await builder;
    return toNumber(row.n);
  }
}
