// The core schema: schools, places, devices, people, the event journal, incidents, users and roles, audit log.
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("schools", (t) => {
    t.string("id", 64).primary();
    t.string("school_id", 64).notNullable();
    t.string("name", 200).notNullable();
    t.string("name_en", 200);
    t.string("time_zone", 64).notNullable().defaultTo("Asia/Shanghai");
    t.bigInteger("created_at").notNullable();
  });
  await knex.schema.createTable("sites", (t) => {
    t.string("id", 64).primary();
    t.string("school_id", 64).notNullable().references("id").inTable("schools");
    t.string("name", 200).notNullable();
    t.string("address", 400);
    t.index(["school_id"]);
  });
  await knex.schema.createTable("buildings", (t) => {
    t.string("id", 64).primary();
    t.string("school_id", 64).notNullable().references("id").inTable("schools");
    t.string("site_id", 64).notNullable().references("id").inTable("sites");
    t.string("name", 200).notNullable();
    t.integer("floors").notNullable().defaultTo(1);
    t.index(["school_id"]);
  });
  await knex.schema.createTable("zones", (t) => {
    t.string("id", 64).primary();
    t.string("school_id", 64).notNullable().references("id").inTable("schools");
    t.string("site_id", 64).notNullable().references("id").inTable("sites");
    t.string("building_id", 64).references("id").inTable("buildings");
    t.string("kind", 32).notNullable();
    t.string("name", 200).notNullable();
    t.integer("floor");
    t.index(["school_id", "kind"]);
  });
  await knex.schema.createTable("devices", (t) => {
    t.string("id", 128).primary();
    t.string("school_id", 64).notNullable().references("id").inTable("schools");
    t.string("kind", 32).notNullable();
    t.string("protocol", 32).notNullable();
    t.string("address", 255).notNullable();
    t.string("zone_id", 64).references("id").inTable("zones");
    t.string("name", 200).notNullable();
    t.string("status", 16).notNullable().defaultTo("unknown");
    t.bigInteger("last_seen");
    t.text("details").notNullable();
    t.index(["school_id", "status"]);
  });
  await knex.schema.createTable("classes", (t) => {
    t.string("id", 64).primary();
    t.string("school_id", 64).notNullable().references("id").inTable("schools");
    t.integer("grade").notNullable();
    t.string("name", 100).notNullable();
    t.string("classroom_zone_id", 64).references("id").inTable("zones");
    t.string("homeroom_teacher_id", 64);
    t.index(["school_id", "grade"]);
  });
  await knex.schema.createTable("people", (t) => {
    t.string("id", 64).primary();
    t.string("school_id", 64).notNullable().references("id").inTable("schools");
    t.string("role", 32).notNullable();
    t.string("name", 200).notNullable();
    t.integer("grade");
    t.string("class_id", 64).references("id").inTable("classes");
    t.string("status", 16).notNullable().defaultTo("active");
    t.bigInteger("created_at").notNullable();
    t.index(["school_id", "role"]);
    t.index(["class_id"]);
  });
  await knex.schema.createTable("events", (t) => {
    t.bigIncrements("seq").primary();
    t.string("event_id", 128).notNullable().unique();
    t.string("school_id", 64).notNullable();
    t.string("device_id", 128);
    t.string("zone_id", 64);
    t.string("kind", 64).notNullable();
    t.string("severity", 16).notNullable();
    t.string("source", 64).notNullable();
    t.bigInteger("occurred_at").notNullable();
    t.bigInteger("received_at").notNullable();
    t.text("payload").notNullable();
    t.index(["school_id", "occurred_at"]);
    t.index(["school_id", "kind", "occurred_at"]);
  });
  await knex.schema.createTable("incidents", (t) => {
    t.string("id", 64).primary();
    t.string("school_id", 64).notNullable().references("id").inTable("schools");
    t.string("kind", 64).notNullable();
    t.string("severity", 16).notNullable();
    t.string("status", 16).notNullable();
    t.string("dedupe_key", 200).notNullable();
    t.string("zone_id", 64);
    t.string("process_instance_id", 128);
    t.string("summary", 500).notNullable();
    t.bigInteger("opened_at").notNullable();
    t.bigInteger("updated_at").notNullable();
    t.bigInteger("closed_at");
    t.index(["school_id", "status"]);
    t.index(["school_id", "dedupe_key"]);
  });
  await knex.schema.createTable("incident_events", (t) => {
    t.string("incident_id", 64).notNullable().references("id").inTable("incidents");
    t.string("event_id", 128).notNullable();
    t.string("school_id", 64).notNullable();
    t.bigInteger("linked_at").notNullable();
    t.primary(["incident_id", "event_id"]);
  });
  await knex.schema.createTable("incident_timeline", (t) => {
    t.bigIncrements("id").primary();
    t.string("incident_id", 64).notNullable().references("id").inTable("incidents");
    t.string("school_id", 64).notNullable();
    t.bigInteger("at").notNullable();
    t.string("actor", 128).notNullable();
    t.string("action", 64).notNullable();
    t.text("details").notNullable();
    t.index(["incident_id", "at"]);
  });
  await knex.schema.createTable("roles", (t) => {
    t.string("name", 64).primary();
    t.string("school_id", 64).notNullable();
    t.string("description", 400).notNullable();
  });
  await knex.schema.createTable("users", (t) => {
    t.string("id", 64).primary();
    t.string("school_id", 64).notNullable();
    t.string("username", 128).notNullable().unique();
    t.string("display_name", 200).notNullable();
    t.string("password_hash", 200);
    t.string("person_id", 64);
    t.boolean("disabled").notNullable().defaultTo(false);
    t.bigInteger("created_at").notNullable();
  });
  await knex.schema.createTable("user_roles", (t) => {
    t.string("user_id", 64).notNullable().references("id").inTable("users");
    t.string("role", 64).notNullable().references("name").inTable("roles");
    t.string("school_id", 64).notNullable();
    t.primary(["user_id", "role", "school_id"]);
  });
  await knex.schema.createTable("audit_log", (t) => {
    t.bigIncrements("id").primary();
    t.string("school_id", 64).notNullable();
    t.bigInteger("at").notNullable();
    t.string("actor", 128).notNullable();
    t.string("action", 64).notNullable();
    t.string("target_type", 64).notNullable();
    t.string("target_id", 128);
    t.text("details").notNullable();
    t.index(["school_id", "at"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    "audit_log",
    "user_roles",
    "users",
    "roles",
    "incident_timeline",
    "incident_events",
    "incidents",
    "events",
    "people",
    "classes",
    "devices",
    "zones",
    "buildings",
    "sites",
    "schools",
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
