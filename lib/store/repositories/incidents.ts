// Incidents, the events linked to them and their timeline (the audit trail of a response).
import type { Knex } from "knex";
import type { Severity } from "../../events";
import type { Incident, IncidentStatus, TimelineEntry } from "../domain";
import { fromJsonColumn, toIso, toJsonColumn, toNullableIso, toNumber } from "../json";

interface IncidentRow {
  id: string;
  school_id: string;
  kind: string;
  severity: string;
  status: string;
  dedupe_key: string;
  zone_id: string | null;
  process_instance_id: string | null;
  summary: string;
  opened_at: number | string;
  updated_at: number | string;
  closed_at: number | string | null;
}
interface TimelineRow {
  id: number | string;
  incident_id: string;
  school_id: string;
  at: number | string;
  actor: string;
  action: string;
  details: string;
}

const fromRow = (row: IncidentRow): Incident => ({
  id: row.id,
  schoolId: row.school_id,
  kind: row.kind,
  severity: row.severity as Severity,
  status: row.status as IncidentStatus,
  dedupeKey: row.dedupe_key,
  zoneId: row.zone_id,
  processInstanceId: row.process_instance_id,
  summary: row.summary,
  openedAt: toIso(row.opened_at),
  updatedAt: toIso(row.updated_at),
  closedAt: toNullableIso(row.closed_at),
});
const timelineFromRow = (row: TimelineRow): TimelineEntry => ({
  id: toNumber(row.id),
  incidentId: row.incident_id,
  schoolId: row.school_id,
  at: toIso(row.at),
  actor: row.actor,
  action: row.action,
  details: fromJsonColumn<Record<string, unknown>>(row.details, {}),
});

export interface NewIncident {
  id: string;
  schoolId: string;
  kind: string;
  severity: Severity;
  dedupeKey: string;
  zoneId: string | null;
  summary: string;
  openedAtMs: number;
}

export class IncidentRepository {
  constructor(private readonly knex: Knex) {}

  async open(incident: NewIncident, actor: string): Promise<Incident> {
    await this.knex.transaction(async (trx) => {
      await trx("incidents").insert({
        id: incident.id,
        school_id: incident.schoolId,
        kind: incident.kind,
        severity: incident.severity,
        status: "open",
        dedupe_key: incident.dedupeKey,
        zone_id: incident.zoneId,
        process_instance_id: null,
        summary: incident.summary,
        opened_at: incident.openedAtMs,
        updated_at: incident.openedAtMs,
        closed_at: null,
      });
      await this.addTimeline(incident.id, incident.schoolId, actor, "opened", { summary: incident.summary }, trx, incident.openedAtMs);
    });
    return (await this.get(incident.id)) as Incident;
  }

  async get(id: string): Promise<Incident | undefined> {
    const row = await this.knex<IncidentRow>("incidents").where({ id }).first();
    return row ? fromRow(row) : undefined;
  }

  /** The incident not yet closed that carries this dedupe key, if any. */
  async findActive(schoolId: string, dedupeKey: string): Promise<Incident | undefined> {
    const row = await this.knex<IncidentRow>("incidents")
      .where({ school_id: schoolId, dedupe_key: dedupeKey })
      .whereNot({ status: "closed" })
      .orderBy("opened_at", "desc")
      .first();
    return row ? fromRow(row) : undefined;
  }

  async list(schoolId: string, status?: IncidentStatus): Promise<Incident[]> {
    const builder = this.knex<IncidentRow>("incidents").where({ school_id: schoolId }).orderBy("opened_at", "desc");
    if (status) builder.where({ status });
    return (await builder).map(fromRow);
  }

  /** Links an event; linking the same event twice is a no-op. Returns whether it was new. */
  async linkEvent(incidentId: string, schoolId: string, eventId: string, atMs = Date.now()): Promise<boolean> {
    return this.knex.transaction(async (trx) => {
      const existing = await trx("incident_events").where({ incident_id: incidentId, event_id: eventId }).first();
      if (existing) return false;
      await trx("incident_events")
        .insert({ incident_id: incidentId, event_id: eventId, school_id: schoolId, linked_at: atMs })
        .onConflict(["incident_id", "event_id"])
        .ignore();
      await trx("incidents").where({ id: incidentId }).update({ updated_at: atMs });
      return true;
    });
  }

  async linkedEventIds(incidentId: string): Promise<string[]> {
    return (await this.knex("incident_events").where({ incident_id: incidentId }).orderBy("linked_at").select("event_id")).map(
      (row: { event_id: string }) => row.event_id,
    );
  }

  async setStatus(id: string, status: IncidentStatus, actor: string, atMs = Date.now()): Promise<void> {
    await this.knex.transaction(async (trx) => {
      const incident = await trx<IncidentRow>("incidents").where({ id }).first();
      if (!incident) throw new Error(`no incident ${id}`);
      await trx("incidents")
        .where({ id })
        .update({ status, updated_at: atMs, closed_at: status === "closed" ? atMs : null });
      await this.addTimeline(id, incident.school_id, actor, `status:${status}`, {}, trx, atMs);
    });
  }

  async setProcessInstance(id: string, processInstanceId: string): Promise<void> {
    await this.knex("incidents").where({ id }).update({ process_instance_id: processInstanceId, updated_at: Date.now() });
  }

  async addTimeline(
    incidentId: string,
    schoolId: string,
    actor: string,
    action: string,
    details: Record<string, unknown>,
    trx: Knex = this.knex,
    atMs = Date.now(),
  ): Promise<void> {
    await trx("incident_timeline").insert({
      incident_id: incidentId,
      school_id: schoolId,
      at: atMs,
      actor,
      action,
      details: toJsonColumn(details),
    });
  }

  async timeline(incidentId: string): Promise<TimelineEntry[]> {
    return (await this.knex<TimelineRow>("incident_timeline").where({ incident_id: incidentId }).orderBy(["at", "id"])).map(
      timelineFromRow,
    );
  }
}
