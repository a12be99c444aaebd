// Signals thrown by a process (intermediate throw or end event): kept in the same transaction as the step that threw
// them and delivered to the school's other instances afterwards, so a crash between the two delays them, never loses them.
// And the wait tables get the index every step of an instance reads them by.
import type { Knex } from "knex";

const WAIT_TABLES = ["process_jobs", "process_user_tasks", "process_timers", "process_subscriptions"];

export async function up(knex: Knex): Promise<void> {
  for (const table of WAIT_TABLES) {
    await knex.schema.alterTable(table, (t) => {
      t.index(["instance_id"], `${table}_instance_id_index`);
    });
  }
  await knex.schema.createTable("process_signal_outbox", (t) => {
    t.string("id", 64).primary();
    t.string("school_id", 64).notNullable();
    t.string("name", 255).notNullable();
    t.string("source_instance_id", 64).notNullable();
    t.text("variables", "longtext").notNullable();
    t.bigInteger("thrown_at").notNullable();
    t.index(["school_id", "thrown_at"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("process_signal_outbox");
  for (const table of WAIT_TABLES) {
    await knex.schema.alterTable(table, (t) => {
      t.dropIndex(["instance_id"], `${table}_instance_id_index`);
    });
  }
}
