// Schools and their places: sites (campuses), buildings and zones.
import type { Knex } from "knex";
import type { Building, School, Site, Zone, ZoneKind } from "../domain";
import { toIso, toNumber, toNullableNumber } from "../json";

interface SchoolRow {
  id: string;
  school_id: string;
  name: string;
  name_en: string | null;
  time_zone: string;
  created_at: number | string;
}
interface SiteRow {
  id: string;
  school_id: string;
  name: string;
  address: string | null;
}
interface BuildingRow {
  id: string;
  school_id: string;
  site_id: string;
  name: string;
  floors: number | string;
}
interface ZoneRow {
  id: string;
  school_id: string;
  site_id: string;
  building_id: string | null;
  kind: string;
  name: string;
  floor: number | string | null;
}

const schoolFromRow = (row: SchoolRow): School => ({
  id: row.id,
  name: row.name,
  nameEn: row.name_en,
  timeZone: row.time_zone,
  createdAt: toIso(row.created_at),
});
const siteFromRow = (row: SiteRow): Site => ({ id: row.id, schoolId: row.school_id, name: row.name, address: row.address });
const buildingFromRow = (row: BuildingRow): Building => ({
  id: row.id,
  schoolId: row.school_id,
  siteId: row.site_id,
  name: row.name,
  floors: toNumber(row.floors),
});
const zoneFromRow = (row: ZoneRow): Zone => ({
  id: row.id,
  schoolId: row.school_id,
  siteId: row.site_id,
  buildingId: row.building_id,
  kind: row.kind as ZoneKind,
  name: row.name,
  floor: toNullableNumber(row.floor),
});

export class SchoolRepository {
  constructor(private readonly knex: Knex) {}

  async create(school: Omit<School, "createdAt">, trx: Knex = this.knex): Promise<void> {
    await trx<SchoolRow>("schools").insert({
      id: school.id,
      school_id: school.id,
      name: school.name,
      name_en: school.nameEn,
      time_zone: school.timeZone,
      created_at: Date.now(),
    });
  }

  async get(id: string): Promise<School | undefined> {
    const row = await this.knex<SchoolRow>("schools").where({ id }).first();
    return row ? schoolFromRow(row) : undefined;
  }

  async list(): Promise<School[]> {
    return (await this.knex<SchoolRow>("schools").orderBy("id")).map(schoolFromRow);
  }

  async addSites(sites: readonly Site[], trx: Knex = this.knex): Promise<void> {
    if (sites.length === 0) return;
    await trx("sites").insert(sites.map((s) => ({ id: s.id, school_id: s.schoolId, name: s.name, address: s.address })));
  }

  async addBuildings(buildings: readonly Building[], trx: Knex = this.knex): Promise<void> {
    if (buildings.length === 0) return;
    await trx("buildings").insert(
      buildings.map((b) => ({ id: b.id, school_id: b.schoolId, site_id: b.siteId, name: b.name, floors: b.floors })),
    );
  }

  async addZones(zones: readonly Zone[], trx: Knex = this.knex): Promise<void> {
    for (let i = 0; i < zones.length; i += 200) {
      await trx("zones").insert(
        zones.slice(i, i + 200).map((z) => ({
          id: z.id,
          school_id: z.schoolId,
          site_id: z.siteId,
          building_id: z.buildingId,
          kind: z.kind,
          name: z.name,
          floor: z.floor,
        })),
      );
    }
  }

  async sites(schoolId: string): Promise<Site[]> {
    return (await this.knex<SiteRow>("sites").where({ school_id: schoolId }).orderBy("id")).map(siteFromRow);
  }

  async buildings(schoolId: string): Promise<Building[]> {
    return (await this.knex<BuildingRow>("buildings").where({ school_id: schoolId }).orderBy("id")).map(buildingFromRow);
  }

  async zones(schoolId: string, kind?: ZoneKind): Promise<Zone[]> {
    const builder = this.knex<ZoneRow>("zones").where({ school_id: schoolId }).orderBy("id");
    if (kind) builder.where({ kind });
    return (await builder).map(zoneFromRow);
  }
}
