// BPMN process engine: deployments, instances with their saved state, jobs, user tasks, timers, message
// subscriptions, buffered messages, incidents and history.
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("process_deployments", (t) => {
    t.string("id", 64).primary();
    t.string("school_id", 64).notNullable();
    t.string("bpmn_process_id", 128).notNullable();
    t.integer("version").notNullable();
    t.string("resource_name", 255).notNullable();
    t.string("checksum", 64).notNullable();
    t.text("source", "longtext").notNullable();
    t.bigInteger("deployed_at").notNullable();
    t.unique(["school_id", "bpmn_process_id", "version"]);
  });
  await knex.schema.createTable("process_instances", (t) => {
    t.string("id", 64).primary();
    t.string("school_id", 64).notNullable();
    t.string("deployment_id", 64).notNullable().references("id").inTable("process_deployments");
    t.string("bpmn_process_id", 128).notNullable();
    t.integer("version").notNullable();
    t.string("business_key", 128);
    t.string("status", 16).notNullable();
    // The engine's state at its last wait, without the process model (that is in the deployment).
    t.text("state", "longtext");
    t.text("variables", "longtext").notNullable();
    t.string("parent_instance_id", 64);
    t.string("parent_execution_id", 128);
    t.bigInteger("started_at").notNullable();
    t.bigInteger("updated_at").notNullable();
    t.bigInteger("ended_at");
    t.index(["school_id", "status"]);
    t.index(["business_key"]);
    t.index(["parent_instance_id"]);
  });
  await knex.schema.createTable("process_jobs", (t) => {
    t.string("id", 200).primary();
    t.string("school_id", 64).notNullable();
    t.string("instance_id", 64).notNullable();
    t.string("execution_id", 128).notNullable();
    t.string("element_id", 128).notNullable();
    t.string("type", 128).notNullable();
    t.integer("retries").notNullable();
    t.string("status", 16).notNullable();
    t.text("headers").notNullable();
    t.text("local_variables").notNullable();
    t.bigInteger("due_at").notNullable();
    t.text("error_message");
    t.bigInteger("created_at").notNullable();
    t.unique(["instance_id", "execution_id"]);
    t.index(["type", "status", "due_at"]);
  });
  await knex.schema.createTable("process_user_tasks", (t) => {
    t.string("id", 200).primary();
    t.string("school_id", 64).notNullable();
    t.string("instance_id", 64).notNullable();
    t.string("execution_id", 128).notNullable();
    t.string("element_id", 128).notNullable();
    t.string("bpmn_process_id", 128).notNullable();
    t.string("business_key", 128);
    t.string("name", 255);
    t.string("assignee", 128);
    t.text("candidate_groups").notNullable();
    t.string("form_id", 128);
    t.text("local_variables").notNullable();
    t.string("status", 16).notNullable();
    t.bigInteger("created_at").notNullable();
    t.bigInteger("completed_at");
    t.string("completed_by", 128);
    t.unique(["instance_id", "execution_id"]);
    t.index(["status", "bpmn_process_id"]);
    t.index(["business_key"]);
    t.index(["assignee"]);
  });
  await knex.schema.createTable("process_timers", (t) => {
    t.string("id", 200).primary();
    t.string("school_id", 64).notNullable();
    t.string("instance_id", 64).notNullable();
    t.string("execution_id", 128).notNullable();
    t.string("element_id", 128).notNullable();
    t.bigInteger("due_at").notNullable();
    t.unique(["instance_id", "execution_id"]);
    t.index(["due_at"]);
  });
  await knex.schema.createTable("process_subscriptions", (t) => {
    t.string("id", 200).primary();
    t.string("school_id", 64).notNullable();
    t.string("instance_id", 64).notNullable();
    t.string("execution_id", 128).notNullable();
    t.string("element_id", 128).notNullable();
    // message, signal, or call (a call activity waiting for its child instance, named in correlation_key)
    t.string("kind", 16).notNullable();
    t.string("name", 255).notNullable();
    t.string("correlation_key", 255);
    t.bigInteger("created_at").notNullable();
    t.unique(["instance_id", "execution_id"]);
    t.index(["kind", "name", "correlation_key"]);
  });
  await knex.schema.createTable("process_messages", (t) => {
    t.string("id", 64).primary();
    t.string("school_id", 64).notNullable();
    t.string("name", 255).notNullable();
    t.string("correlation_key", 255).notNullable();
    t.string("message_id", 255);
    t.text("variables", "longtext").notNullable();
    t.bigInteger("published_at").notNullable();
    t.bigInteger("expires_at").notNullable();
    t.index(["name", "correlation_key"]);
    t.index(["expires_at"]);
  });
  await knex.schema.createTable("process_incidents", (t) => {
    t.string("id", 64).primary();
    t.string("school_id", 64).notNullable();
    t.string("instance_id", 64).notNullable();
    t.string("element_id", 128).notNullable();
    t.string("job_id", 200);
    t.string("kind", 32).notNullable();
    t.text("message").notNullable();
    t.bigInteger("created_at").notNullable();
    t.bigInteger("resolved_at");
    t.index(["instance_id"]);
    t.index(["resolved_at"]);
  });
  await knex.schema.createTable("process_history", (t) => {
    t.bigIncrements("id").primary();
    t.string("school_id", 64).notNullable();
    t.string("instance_id", 64).notNullable();
    t.bigInteger("at").notNullable();
    t.string("element_id", 128);
    t.string("element_type", 64);
    t.string("action", 32).notNullable();
    t.text("details").notNullable();
    t.index(["instance_id"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    "process_history",
    "process_incidents",
    "process_messages",
    "process_subscriptions",
    "process_timers",
    "process_user_tasks",
    "process_jobs",
    "process_instances",
    "process_deployments",
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
