// Devices (cameras, readers, panic buttons, panels) with their health: status and last_seen.
import type { Knex } from "knex";
import type { Device, DeviceStatus } from "../domain";
import { fromJsonColumn, toJsonColumn, toNullableIso } from "../json";

interface DeviceRow {
  id: string;
  school_id: string;
  kind: string;
  protocol: string;
  address: string;
  zone_id: string | null;
  name: string;
  status: string;
  last_seen: number | string | null;
  details: string;
}

const fromRow = (row: DeviceRow): Device => ({
  id: row.id,
  schoolId: row.school_id,
  kind: row.kind,
  protocol: row.protocol,
  address: row.address,
  zoneId: row.zone_id,
  name: row.name,
  status: row.status as DeviceStatus,
  lastSeen: toNullableIso(row.last_seen),
  details: fromJsonColumn<Record<string, unknown>>(row.details, {}),
});

const toRow = (device: Device): DeviceRow => ({
  id: device.id,
  school_id: device.schoolId,
  kind: device.kind,
  protocol: device.protocol,
  address: device.address,
  zone_id: device.zoneId,
  name: device.name,
  status: device.status,
  last_seen: device.lastSeen === null ? null : Date.parse(device.lastSeen),
  details: toJsonColumn(device.details),
});

export class DeviceRepository {
  constructor(private readonly knex: Knex) {}

  /** Inserts or replaces the device record (status and last_seen included). */
  async upsert(device: Device, trx: Knex = this.knex): Promise<void> {
    const row = toRow(device);
    await trx("devices")
      .insert(row)
      .onConflict("id")
      .merge(["kind", "protocol", "address", "zone_id", "name", "status", "last_seen", "details"]);
  }

  async get(id: string): Promise<Device | undefined> {
    const row = await this.knex<DeviceRow>("devices").where({ id }).first();
    return row ? fromRow(row) : undefined;
  }

  async list(schoolId: string, filter: { status?: DeviceStatus; kind?: string } = {}): Promise<Device[]> {
    const builder = this.knex<DeviceRow>("devices").where({ school_id: schoolId }).orderBy("id");
    if (filter.status) builder.where({ status: filter.status });
    if (filter.kind) builder.where({ kind: filter.kind });
    return (await builder).map(fromRow);
  }

  /** Records a sign of life or a change of health. Returns false when no such device exists. */
  async setStatus(id: string, status: DeviceStatus, seenAtMs?: number): Promise<boolean> {
    const changes: Partial<DeviceRow> = { status };
    if (seenAtMs !== undefined) changes.last_seen = seenAtMs;
    return (await this.knex("devices").where({ id }).update(changes)) > 0;
  }
}
