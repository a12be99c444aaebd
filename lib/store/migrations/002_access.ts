// Access control: credentials, door groups, rules, school calendar, modes, pass log, and protected face data.
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("people", (t) => {
    t.string("birth_date", 10);
    t.bigInteger("valid_from");
    t.bigInteger("valid_until");
  });
  await knex.schema.createTable("teacher_classes", (t) => {
    t.string("school_id", 64).notNullable();
    t.string("teacher_id", 64).notNullable().references("id").inTable("people");
    t.string("class_id", 64).notNullable().references("id").inTable("classes");
    t.primary(["teacher_id", "class_id"]);
  });
  await knex.schema.createTable("visitors", (t) => {
    t.string("person_id", 64).primary().references("id").inTable("people");
    t.string("school_id", 64).notNullable();
    t.string("host_id", 64).references("id").inTable("people");
    t.string("purpose", 400).notNullable();
  });
  await knex.schema.createTable("guardians", (t) => {
    t.string("school_id", 64).notNullable();
    t.string("parent_id", 64).notNullable().references("id").inTable("people");
    t.string("child_id", 64).notNullable().references("id").inTable("people");
    t.primary(["parent_id", "child_id"]);
  });
  await knex.schema.createTable("credentials", (t) => {
    t.bigIncrements("id").primary();
    t.string("school_id", 64).notNullable();
    t.string("person_id", 64).notNullable().references("id").inTable("people");
    t.string("kind", 16).notNullable();
    t.string("value", 128).notNullable();
    t.integer("facility_code");
    t.boolean("disabled").notNullable().defaultTo(false);
    t.bigInteger("valid_from");
    t.bigInteger("valid_until");
    t.unique(["school_id", "kind", "value"]);
    t.index(["person_id"]);
  });
  await knex.schema.createTable("door_groups", (t) => {
    t.string("id", 64).primary();
    t.string("school_id", 64).notNullable();
    t.string("kind", 32).notNullable();
    t.string("name", 200).notNullable();
    t.text("door_ids").notNullable();
  });
  await knex.schema.createTable("access_rules", (t) => {
    t.string("id", 64).primary();
    t.string("school_id", 64).notNullable();
    t.string("name", 200).notNullable();
    t.text("who").notNullable();
    t.string("door_group_id", 64).notNullable().references("id").inTable("door_groups");
    t.text("windows").notNullable();
    t.text("calendar").notNullable();
    t.index(["school_id"]);
  });
  await knex.schema.createTable("school_calendar", (t) => {
    t.bigIncrements("id").primary();
    t.string("school_id", 64).notNullable();
    t.string("kind", 16).notNullable();
    t.string("date_from", 10).notNullable();
    t.string("date_to", 10).notNullable();
    t.string("name", 200).notNullable();
    t.index(["school_id"]);
  });
  await knex.schema.createTable("access_settings", (t) => {
    t.string("school_id", 64).primary();
    t.string("mode", 16).notNullable().defaultTo("normal");
    t.text("settings").notNullable();
    t.bigInteger("mode_set_at");
    t.string("mode_set_by", 128);
  });
  await knex.schema.createTable("pass_log", (t) => {
    t.bigIncrements("id").primary();
    t.string("school_id", 64).notNullable();
    t.string("request_id", 128).notNullable();
    t.string("door_id", 64).notNullable();
    t.string("reader_id", 128).notNullable();
    t.string("person_id", 64);
    t.string("class_id", 64);
    t.string("credential_kind", 16).notNullable();
    t.boolean("granted").notNullable();
    t.string("reason", 32).notNullable();
    t.string("direction", 8);
    t.bigInteger("at").notNullable();
    t.index(["school_id", "person_id", "at"]);
    t.index(["school_id", "class_id", "at"]);
    t.index(["school_id", "door_id", "at"]);
    t.index(["school_id", "at"]);
  });
  await knex.schema.createTable("face_data", (t) => {
    t.string("person_id", 64).primary().references("id").inTable("people");
    t.string("school_id", 64).notNullable();
    t.text("ciphertext").notNullable();
    t.string("iv", 32).notNullable();
    t.string("tag", 32).notNullable();
    t.bigInteger("stored_at").notNullable();
  });
  await knex.schema.createTable("consents", (t) => {
    t.bigIncrements("id").primary();
    t.string("school_id", 64).notNullable();
    t.string("person_id", 64).notNullable().references("id").inTable("people");
    t.string("purpose", 32).notNullable();
    t.string("given_by", 64).notNullable();
    t.bigInteger("given_at").notNullable();
    t.bigInteger("withdrawn_at");
    t.index(["person_id", "purpose"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    "consents",
    "face_data",
    "pass_log",
    "access_settings",
    "school_calendar",
    "access_rules",
    "door_groups",
    "credentials",
    "guardians",
    "visitors",
    "teacher_classes",
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
  await knex.schema.alterTable("people", (t) => {
    t.dropColumn("birth_date");
    t.dropColumn("valid_from");
    t.dropColumn("valid_until");
  });
}
