// Users of the dashboards and task lists, their roles, and the audit log of what they did.
import type { Knex } from "knex";
import type { AuditEntry, Role, User } from "../domain";
import { fromJsonColumn, toIso, toJsonColumn, toNumber } from "../json";

interface UserRow {
  id: string;
  school_id: string;
  username: string;
  display_name: string;
  password_hash: string | null;
  person_id: string | null;
  disabled: number | boolean;
  created_at: number | string;
}
interface AuditRow {
  id: number | string;
  school_id: string;
  at: number | string;
  actor: string;
  action: string;
  target_type: string;
  target_id: string | null;
  details: string;
}

const userFromRow = (row: UserRow, roles: string[]): User => ({
  id: row.id,
  schoolId: row.school_id,
  username: row.username,
  displayName: row.display_name,
  passwordHash: row.password_hash,
  personId: row.person_id,
  disabled: Boolean(row.disabled),
  roles,
  createdAt: toIso(row.created_at),
});
const auditFromRow = (row: AuditRow): AuditEntry => ({
  id: toNumber(row.id),
  schoolId: row.school_id,
  at: toIso(row.at),
  actor: row.actor,
  action: row.action,
  targetType: row.target_type,
  targetId: row.target_id,
  details: fromJsonColumn<Record<string, unknown>>(row.details, {}),
});

/** Roles the processes' candidate groups and the dashboards refer to. */
export const STANDARD_ROLES: ReadonlyArray<{ name: string; description: string }> = [
  { name: "admin", description: "School IT: edits flows, manages devices and users" },
  { name: "principal", description: "Principal: sees everything at the school, approves escalations" },
  { name: "incident-commander", description: "Leads an emergency response" },
  { name: "duty-room", description: "Duty room: receives and verifies alarms" },
  { name: "guard", description: "Guard: gates, patrols, responds on site" },
  { name: "teacher", description: "Teacher: roll call for their classes" },
  { name: "nurse", description: "Nurse: triage of the injured" },
  { name: "maintenance", description: "Maintenance: device faults and work orders" },
  { name: "district-admin", description: "District: publishes flow packs, sees all schools" },
];

export interface NewUser {
  id: string;
  schoolId: string;
  username: string;
  displayName: string;
  passwordHash: string | null;
  personId: string | null;
  roles: string[];
}

export class UserRepository {
  constructor(private readonly knex: Knex) {}

  async ensureRoles(schoolId: string, roles = STANDARD_ROLES, trx: Knex = this.knex): Promise<void> {
    const existing = new Set((await trx("roles").select("name")).map((row: { name: string }) => row.name));
    const missing = roles.filter((role) => !existing.has(role.name));
    if (missing.length > 0) {
      await trx("roles").insert(missing.map((role) => ({ name: role.name, school_id: schoolId, description: role.description })));
    }
  }

  async roles(): Promise<Role[]> {
    return (await this.knex("roles").orderBy("name")).map((row: { name: string; school_id: string; description: string }) => ({
      name: row.name,
      schoolId: row.school_id,
      description: row.description,
    }));
  }

  async create(user: NewUser, trx?: Knex): Promise<void> {
    const write = async (db: Knex) => {
      await db("users").insert({
        id: user.id,
        school_id: user.schoolId,
        username: user.username,
        display_name: user.displayName,
        password_hash: user.passwordHash,
        person_id: user.personId,
        disabled: false,
        created_at: Date.now(),
      });
      if (user.roles.length > 0) {
        await db("user_roles").insert(user.roles.map((role) => ({ user_id: user.id, role, school_id: user.schoolId })));
      }
    };
    if (trx) await write(trx);
    else await this.knex.transaction(write);
  }

  async byUsername(username: string): Promise<User | undefined> {
    const row = await this.knex<UserRow>("users").where({ username }).first();
    if (!row) return undefined;
    const roles = (await this.knex("user_roles").where({ user_id: row.id }).orderBy("role").select("role")).map(
      (r: { role: string }) => r.role,
    );
    return userFromRow(row, roles);
  }

  async list(schoolId: string): Promise<User[]> {
    const rows = await this.knex<UserRow>("users").where({ school_id: schoolId }).orderBy("username");
    const roleRows: { user_id: string; role: string }[] = await this.knex("user_roles")
      .where({ school_id: schoolId })
      .orderBy("role");
    return rows.map((row) =>
      userFromRow(
        row,
        roleRows.filter((r) => r.user_id === row.id).map((r) => r.role),
      ),
    );
  }
}

export class AuditRepository {
  constructor(private readonly knex: Knex) {}

  async record(entry: Omit<AuditEntry, "id" | "at"> & { atMs?: number }): Promise<void> {
    await this.knex("audit_log").insert({
      school_id: entry.schoolId,
      at: entry.atMs ?? Date.now(),
      actor: entry.actor,
      action: entry.action,
      target_type: entry.targetType,
      target_id: entry.targetId,
      details: toJsonColumn(entry.details),
    });
  }

  async list(schoolId: string, limit = 100): Promise<AuditEntry[]> {
    return (await this.knex<AuditRow>("audit_log").where({ school_id: schoolId }).orderBy("id", "desc").limit(limit)).map(
      auditFromRow,
    );
  }
}
