// People (students, staff, guards, ...) and the classes students belong to.
import type { Knex } from "knex";
import type { ClassGroup, Person, PersonRole } from "../domain";
import { toIso, toNumber, toNullableNumber } from "../json";

interface ClassRow {
  id: string;
  school_id: string;
  grade: number | string;
  name: string;
  classroom_zone_id: string | null;
  homeroom_teacher_id: string | null;
}
interface PersonRow {
  id: string;
  school_id: string;
  role: string;
  name: string;
  grade: number | string | null;
  class_id: string | null;
  status: string;
  created_at: number | string;
}

const classFromRow = (row: ClassRow): ClassGroup => ({
  id: row.id,
  schoolId: row.school_id,
  grade: toNumber(row.grade),
  name: row.name,
  classroomZoneId: row.classroom_zone_id,
  homeroomTeacherId: row.homeroom_teacher_id,
});
const personFromRow = (row: PersonRow): Person => ({
  id: row.id,
  schoolId: row.school_id,
  role: row.role as PersonRole,
  name: row.name,
  grade: toNullableNumber(row.grade),
  classId: row.class_id,
  status: row.status === "disabled" ? "disabled" : "active",
  createdAt: toIso(row.created_at),
});

const CHUNK = 200;

export class PeopleRepository {
  constructor(private readonly knex: Knex) {}

  async addClasses(classes: readonly ClassGroup[], trx: Knex = this.knex): Promise<void> {
    for (let i = 0; i < classes.length; i += CHUNK) {
      await trx("classes").insert(
        classes.slice(i, i + CHUNK).map((c) => ({
          id: c.id,
          school_id: c.schoolId,
          grade: c.grade,
          name: c.name,
          classroom_zone_id: c.classroomZoneId,
          homeroom_teacher_id: c.homeroomTeacherId,
        })),
      );
    }
  }

  async addPeople(people: readonly Omit<Person, "createdAt">[], trx: Knex = this.knex): Promise<void> {
    const now = Date.now();
    for (let i = 0; i < people.length; i += CHUNK) {
      await trx("people").insert(
        people.slice(i, i + CHUNK).map((p) => ({
          id: p.id,
          school_id: p.schoolId,
          role: p.role,
          name: p.name,
          grade: p.grade,
          class_id: p.classId,
          status: p.status,
          created_at: now,
        })),
      );
    }
  }

  async classes(schoolId: string, grade?: number): Promise<ClassGroup[]> {
    const builder = this.knex<ClassRow>("classes").where({ school_id: schoolId }).orderBy(["grade", "id"]);
    if (grade !== undefined) builder.where({ grade });
    return (await builder).map(classFromRow);
  }

  async get(id: string): Promise<Person | undefined> {
    const row = await this.knex<PersonRow>("people").where({ id }).first();
    return row ? personFromRow(row) : undefined;
  }

  async list(schoolId: string, filter: { role?: PersonRole; classId?: string } = {}): Promise<Person[]> {
    const builder = this.knex<PersonRow>("people").where({ school_id: schoolId }).orderBy("id");
    if (filter.role) builder.where({ role: filter.role });
    if (filter.classId) builder.where({ class_id: filter.classId });
    return (await builder).map(personFromRow);
  }

  async countByRole(schoolId: string): Promise<Record<string, number>> {
    const rows = await this.knex("people")
      .where({ school_id: schoolId })
      .groupBy("role")
      .select("role")
      .count<{ role: string; n: number | string }[]>({ n: "*" });
    return Object.fromEntries(rows.map((row) => [row.role, toNumber(row.n)]));
  }
}
