// Rows of the BPMN process engine; an instance's state and everything it waits on are written in one transaction.
import type { Knex } from "knex";
import { fromJsonColumn, toJsonColumn, toNullableNumber, toNumber } from "../json";
import { insertRows, queryShaped, shaped, transaction } from "../sqlite-direct";

type Variables = Record<string, unknown>;

export interface ProcessDeploymentRecord {
  id: string;
  schoolId: string;
  bpmnProcessId: string;
  version: number;
  resourceName: string;
  checksum: string;
  source: string;
  deployedAtMs: number;
}

export type ProcessInstanceStatus = "active" | "completed" | "canceled" | "failed";

export interface ProcessInstanceRecord {
  id: string;
  schoolId: string;
  deploymentId: string;
  bpmnProcessId: string;
  version: number;
  businessKey: string | null;
  status: ProcessInstanceStatus;
  state: string | null;
  variables: Variables;
  parentInstanceId: string | null;
  parentExecutionId: string | null;
  startedAtMs: number;
  updatedAtMs: number;
  endedAtMs: number | null;
}

export interface ProcessJobRecord {
  id: string;
  schoolId: string;
  instanceId: string;
  executionId: string;
  elementId: string;
  type: string;
  retries: number;
  status: "activatable" | "incident";
  headers: Record<string, string>;
  localVariables: Variables;
  dueAtMs: number;
  errorMessage: string | null;
  createdAtMs: number;
}

export interface ProcessUserTaskRecord {
  id: string;
  schoolId: string;
  instanceId: string;
  executionId: string;
  elementId: string;
  bpmnProcessId: string;
  businessKey: string | null;
  name: string | null;
  assignee: string | null;
  candidateGroups: string[];
  formId: string | null;
  localVariables: Variables;
  status: "created" | "completed" | "canceled";
  createdAtMs: number;
  completedAtMs: number | null;
  completedBy: string | null;
}

export interface ProcessTimerRecord {
  id: string;
  schoolId: string;
  instanceId: string;
  executionId: string;
  elementId: string;
  dueAtMs: number;
}

export interface ProcessSubscriptionRecord {
  id: string;
  schoolId: string;
  instanceId: string;
  executionId: string;
  elementId: string;
  kind: "message" | "signal" | "call";
  name: string;
  correlationKey: string | null;
  createdAtMs: number;
}

export interface BufferedMessageRecord {
  id: string;
  schoolId: string;
  name: string;
  correlationKey: string;
  messageId: string | null;
  variables: Variables;
  publishedAtMs: number;
  expiresAtMs: number;
}

/** A signal a process threw, waiting to reach the school's other instances. */
export interface ThrownSignalRecord {
  id: string;
  schoolId: string;
  name: string;
  sourceInstanceId: string;
  variables: Variables;
  thrownAtMs: number;
}

export interface ProcessIncidentRecord {
  id: string;
  schoolId: string;
  instanceId: string;
  elementId: string;
  jobId: string | null;
  kind: "job-no-retries" | "engine-error";
  message: string;
  createdAtMs: number;
  resolvedAtMs: number | null;
}

export interface ProcessHistoryRecord {
  schoolId: string;
  instanceId: string;
  atMs: number;
  elementId: string | null;
  elementType: string | null;
  action: string;
  details: Record<string, unknown>;
}

/** Everything that changes when an instance reaches its next wait (or its end), written atomically. */
export interface InstanceCommit {
  instance: ProcessInstanceRecord;
  isNew: boolean;
  /** What the instance waits on now; rows it no longer waits on are removed (user tasks are marked canceled). */
  jobs: ProcessJobRecord[];
  userTasks: ProcessUserTaskRecord[];
  timers: ProcessTimerRecord[];
  subscriptions: ProcessSubscriptionRecord[];
  history: ProcessHistoryRecord[];
  incidents: ProcessIncidentRecord[];
  completedUserTask?: { id: string; completedBy: string | null; atMs: number };
  consumedMessageId?: string;
  /** Signals the step threw, delivered to other instances after the commit. */
  thrownSignals?: ThrownSignalRecord[];
}

export interface NewWaits {
  jobs: ProcessJobRecord[];
  userTasks: ProcessUserTaskRecord[];
  timers: ProcessTimerRecord[];
  subscriptions: ProcessSubscriptionRecord[];
}

const deploymentFromRow = (row: Record<string, unknown>): ProcessDeploymentRecord => ({
  id: String(row.id),
  schoolId: String(row.school_id),
  bpmnProcessId: String(row.bpmn_process_id),
  version: toNumber(row.version),
  resourceName: String(row.resource_name),
  checksum: String(row.checksum),
  source: String(row.source),
  deployedAtMs: toNumber(row.deployed_at),
});

const instanceFromRow = (row: Record<string, unknown>): ProcessInstanceRecord => ({
  id: String(row.id),
  schoolId: String(row.school_id),
  deploymentId: String(row.deployment_id),
  bpmnProcessId: String(row.bpmn_process_id),
  version: toNumber(row.version),
  businessKey: (row.business_key as string | null) ?? null,
  status: row.status as ProcessInstanceStatus,
  state: (row.state as string | null) ?? null,
  variables: fromJsonColumn<Variables>(row.variables, {}),
  parentInstanceId: (row.parent_instance_id as string | null) ?? null,
  parentExecutionId: (row.parent_execution_id as string | null) ?? null,
  startedAtMs: toNumber(row.started_at),
  updatedAtMs: toNumber(row.updated_at),
  endedAtMs: toNullableNumber(row.ended_at),
});

const instanceToRow = (record: ProcessInstanceRecord) => ({
  id: record.id,
  school_id: record.schoolId,
  deployment_id: record.deploymentId,
  bpmn_process_id: record.bpmnProcessId,
  version: record.version,
  business_key: record.businessKey,
  status: record.status,
  state: record.state,
  variables: toJsonColumn(record.variables),
  parent_instance_id: record.parentInstanceId,
  parent_execution_id: record.parentExecutionId,
  started_at: record.startedAtMs,
  updated_at: record.updatedAtMs,
  ended_at: record.endedAtMs,
});

const jobFromRow = (row: Record<string, unknown>): ProcessJobRecord => ({
  id: String(row.id),
  schoolId: String(row.school_id),
  instanceId: String(row.instance_id),
  executionId: String(row.execution_id),
  elementId: String(row.element_id),
  type: String(row.type),
  retries: toNumber(row.retries),
  status: row.status as ProcessJobRecord["status"],
  headers: fromJsonColumn<Record<string, string>>(row.headers, {}),
  localVariables: fromJsonColumn<Variables>(row.local_variables, {}),
  dueAtMs: toNumber(row.due_at),
  errorMessage: (row.error_message as string | null) ?? null,
  createdAtMs: toNumber(row.created_at),
});

const jobToRow = (record: ProcessJobRecord) => ({
  id: record.id,
  school_id: record.schoolId,
  instance_id: record.instanceId,
  execution_id: record.executionId,
  element_id: record.elementId,
  type: record.type,
  retries: record.retries,
  status: record.status,
  headers: toJsonColumn(record.headers),
  local_variables: toJsonColumn(record.localVariables),
  due_at: record.dueAtMs,
  error_message: record.errorMessage,
  created_at: record.createdAtMs,
});

const userTaskFromRow = (row: Record<string, unknown>): ProcessUserTaskRecord => ({
  id: String(row.id),
  schoolId: String(row.school_id),
  instanceId: String(row.instance_id),
  executionId: String(row.execution_id),
  elementId: String(row.element_id),
  bpmnProcessId: String(row.bpmn_process_id),
  businessKey: (row.business_key as string | null) ?? null,
  name: (row.name as string | null) ?? null,
  assignee: (row.assignee as string | null) ?? null,
  candidateGroups: fromJsonColumn<string[]>(row.candidate_groups, []),
  formId: (row.form_id as string | null) ?? null,
  localVariables: fromJsonColumn<Variables>(row.local_variables, {}),
  status: row.status as ProcessUserTaskRecord["status"],
  createdAtMs: toNumber(row.created_at),
  completedAtMs: toNullableNumber(row.completed_at),
  completedBy: (row.completed_by as string | null) ?? null,
});

const userTaskToRow = (record: ProcessUserTaskRecord) => ({
  id: record.id,
  school_id: record.schoolId,
  instance_id: record.instanceId,
  execution_id: record.executionId,
  element_id: record.elementId,
  bpmn_process_id: record.bpmnProcessId,
  business_key: record.businessKey,
  name: record.name,
  assignee: record.assignee,
  candidate_groups: toJsonColumn(record.candidateGroups),
  form_id: record.formId,
  local_variables: toJsonColumn(record.localVariables),
  status: record.status,
  created_at: record.createdAtMs,
  completed_at: record.completedAtMs,
  completed_by: record.completedBy,
});

const timerFromRow = (row: Record<string, unknown>): ProcessTimerRecord => ({
  id: String(row.id),
  schoolId: String(row.school_id),
  instanceId: String(row.instance_id),
  executionId: String(row.execution_id),
  elementId: String(row.element_id),
  dueAtMs: toNumber(row.due_at),
});

const subscriptionFromRow = (row: Record<string, unknown>): ProcessSubscriptionRecord => ({
  id: String(row.id),
  schoolId: String(row.school_id),
  instanceId: String(row.instance_id),
  executionId: String(row.execution_id),
  elementId: String(row.element_id),
  kind: row.kind as ProcessSubscriptionRecord["kind"],
  name: String(row.name),
  correlationKey: (row.correlation_key as string | null) ?? null,
  createdAtMs: toNumber(row.created_at),
});

const messageFromRow = (row: Record<string, unknown>): BufferedMessageRecord => ({
  id: String(row.id),
  schoolId: String(row.school_id),
  name: String(row.name),
  correlationKey: String(row.correlation_key),
  messageId: (row.message_id as string | null) ?? null,
  variables: fromJsonColumn<Variables>(row.variables, {}),
  publishedAtMs: toNumber(row.published_at),
  expiresAtMs: toNumber(row.expires_at),
});

const signalToRow = (record: ThrownSignalRecord) => ({
  id: record.id,
  school_id: record.schoolId,
  name: record.name,
  source_instance_id: record.sourceInstanceId,
  variables: toJsonColumn(record.variables),
  thrown_at: record.thrownAtMs,
});

const signalFromRow = (row: Record<string, unknown>): ThrownSignalRecord => ({
  id: String(row.id),
  schoolId: String(row.school_id),
  name: String(row.name),
  sourceInstanceId: String(row.source_instance_id),
  variables: fromJsonColumn<Variables>(row.variables, {}),
  thrownAtMs: toNumber(row.thrown_at),
});

const incidentFromRow = (row: Record<string, unknown>): ProcessIncidentRecord => ({
  id: String(row.id),
  schoolId: String(row.school_id),
  instanceId: String(row.instance_id),
  elementId: String(row.element_id),
  jobId: (row.job_id as string | null) ?? null,
  kind: row.kind as ProcessIncidentRecord["kind"],
  message: String(row.message),
  createdAtMs: toNumber(row.created_at),
  resolvedAtMs: toNullableNumber(row.resolved_at),
});

const incidentToRow = (record: ProcessIncidentRecord) => ({
  id: record.id,
  school_id: record.schoolId,
  instance_id: record.instanceId,
  element_id: record.elementId,
  job_id: record.jobId,
  kind: record.kind,
  message: record.message,
  created_at: record.createdAtMs,
  resolved_at: record.resolvedAtMs,
});

const historyToRow = (record: ProcessHistoryRecord) => ({
  school_id: record.schoolId,
  instance_id: record.instanceId,
  at: record.atMs,
  element_id: record.elementId,
  element_type: record.elementType,
  action: record.action,
  details: toJsonColumn(record.details),
});

const WAIT_TABLES = ["process_jobs", "process_user_tasks", "process_timers", "process_subscriptions"] as const;
type WaitTable = (typeof WAIT_TABLES)[number];

/** The execution ids an instance waits on, per table, in one query (open user tasks only). */
async function existingWaits(trx: Knex.Transaction, instanceId: string): Promise<Map<WaitTable, Set<string>>> {
  // Each branch names its table in a column; the table names are the constants above.
  const rows = await shaped<Array<{ wait_table: WaitTable; execution_id: string }>>(trx, "existing waits", [instanceId], ([id]) => {
    const rowsOf = (query: Knex.QueryBuilder, table: WaitTable) => {
      query.from(table).where({ instance_id: id });
      if (table === "process_user_tasks") query.where({ status: "created" });
      return query;
    };
    const column = (table: WaitTable) => trx.raw(`'${table}' as wait_table`);
    const [first, ...others] = WAIT_TABLES;
    const union = rowsOf(trx.select(column(first), "execution_id"), first);
    for (const table of others) union.unionAll((branch) => void rowsOf(branch.select(column(table), "execution_id"), table));
    return union;
  });
  const existing = new Map<WaitTable, Set<string>>(WAIT_TABLES.map((table) => [table, new Set<string>()]));
  for (const row of rows) existing.get(row.wait_table)?.add(row.execution_id);
  return existing;
}

/** Rows the instance no longer waits on go; new ones come; rows that stay keep what happened to them (retries). */
async function reconcile<T extends { executionId: string }>(
  trx: Knex.Transaction,
  table: WaitTable,
  instanceId: string,
  existing: Set<string>,
  wanted: T[],
  toRow: (record: T) => Record<string, unknown>,
  openOnly?: { column: string; open: string; closed: string },
): Promise<T[]> {
  const wantedIds = new Set(wanted.map((record) => record.executionId));
  const gone = [...existing].filter((id) => !wantedIds.has(id));
  if (gone.length > 0) {
    await shaped(trx, `end waits ${table} ${gone.length}`, [instanceId, ...gone], ([id, ...executionIds]) => {
      const removal = trx(table).where({ instance_id: id }).whereIn("execution_id", executionIds as string[]);
      if (openOnly) return removal.where(openOnly.column, openOnly.open).update({ [openOnly.column]: openOnly.closed });
      return removal.delete();
    });
  }
  const fresh = wanted.filter((record) => !existing.has(record.executionId));
  if (fresh.length > 0) await insertRows(trx, table, fresh.map(toRow));
  return fresh;
}

/** The row with this id (the engine reads instances, jobs and user tasks by key at every step). */
function byId(knex: Knex, table: string, id: string): Promise<Record<string, unknown> | undefined> {
  return queryShaped(knex, `by id ${table}`, [id], (start, [key]) => start(table).where({ id: key }).first());
}

function updateById(trx: Knex.Transaction, table: string, id: string, row: Record<string, unknown>): Promise<unknown> {
  const columns = Object.keys(row);
  return shaped(trx, `update ${table} ${columns.join(",")}`, [id, ...columns.map((column) => row[column])], ([key, ...values]) =>
    trx(table)
      .where({ id: key })
      .update(Object.fromEntries(columns.map((column, index) => [column, values[index]]))),
  );
}

export class ProcessRepository {
  constructor(private readonly knex: Knex) {}

  async deployments(schoolId: string, bpmnProcessId?: string): Promise<ProcessDeploymentRecord[]> {
    const query = this.knex("process_deployments").where({ school_id: schoolId }).orderBy(["bpmn_process_id", "version"]);
    if (bpmnProcessId) query.where({ bpmn_process_id: bpmnProcessId });
    return (await query).map(deploymentFromRow);
  }

  async deployment(id: string): Promise<ProcessDeploymentRecord | undefined> {
    const row = await this.knex("process_deployments").where({ id }).first();
    return row ? deploymentFromRow(row) : undefined;
  }

  async latestDeployment(schoolId: string, bpmnProcessId: string): Promise<ProcessDeploymentRecord | undefined> {
    const row = await this.knex("process_deployments")
      .where({ school_id: schoolId, bpmn_process_id: bpmnProcessId })
      .orderBy("version", "desc")
      .first();
    return row ? deploymentFromRow(row) : undefined;
  }

  /** Stores a new version unless the latest one has the same checksum; returns what is now the latest. */
  async addDeployment(record: Omit<ProcessDeploymentRecord, "version">): Promise<ProcessDeploymentRecord> {
    return transaction(this.knex, async (trx) => {
      const latest = await trx("process_deployments")
        .where({ school_id: record.schoolId, bpmn_process_id: record.bpmnProcessId })
        .orderBy("version", "desc")
        .first();
      if (latest && latest.checksum === record.checksum) return deploymentFromRow(latest);
      const version = latest ? toNumber(latest.version) + 1 : 1;
      await trx("process_deployments").insert({
        id: record.id,
        school_id: record.schoolId,
        bpmn_process_id: record.bpmnProcessId,
        version,
        resource_name: record.resourceName,
        checksum: record.checksum,
        source: record.source,
        deployed_at: record.deployedAtMs,
      });
      return { ...record, version };
    });
  }

  async instance(id: string): Promise<ProcessInstanceRecord | undefined> {
    const row = await byId(this.knex, "process_instances", id);
    return row ? instanceFromRow(row) : undefined;
  }

  async instances(query: { schoolId: string; status?: ProcessInstanceStatus; businessKey?: string }): Promise<ProcessInstanceRecord[]> {
    const builder = this.knex("process_instances").where({ school_id: query.schoolId }).orderBy("started_at");
    if (query.status) builder.where({ status: query.status });
    if (query.businessKey) builder.where({ business_key: query.businessKey });
    return (await builder).map(instanceFromRow);
  }

  async countInstances(schoolId: string, status: ProcessInstanceStatus): Promise<number> {
    const row = await this.knex("process_instances").where({ school_id: schoolId, status }).count({ count: "*" }).first();
    return toNumber(row?.count ?? 0);
  }

  /** Returns the wait rows that are new with this commit (the others were already there). */
  async commit(change: InstanceCommit): Promise<NewWaits> {
    return transaction(this.knex, async (trx) => {
      const instanceId = change.instance.id;
      const row = instanceToRow(change.instance);
      if (change.isNew) await insertRows(trx, "process_instances", [row]);
      else await updateById(trx, "process_instances", instanceId, row);
      if (change.completedUserTask) {
        const done = change.completedUserTask;
        await trx("process_user_tasks")
          .where({ id: done.id })
          .update({ status: "completed", completed_at: done.atMs, completed_by: done.completedBy });
      }
      if (change.consumedMessageId) await trx("process_messages").where({ id: change.consumedMessageId }).delete();
      let created: NewWaits;
      if (change.isNew) {
        if (change.jobs.length) await insertRows(trx, "process_jobs", change.jobs.map(jobToRow));
        if (change.userTasks.length) await insertRows(trx, "process_user_tasks", change.userTasks.map(userTaskToRow));
        if (change.timers.length) await insertRows(trx, "process_timers", change.timers.map(timerToRow));
        if (change.subscriptions.length) await insertRows(trx, "process_subscriptions", change.subscriptions.map(subscriptionToRow));
        created = { jobs: change.jobs, userTasks: change.userTasks, timers: change.timers, subscriptions: change.subscriptions };
      } else {
        const existing = await existingWaits(trx, instanceId);
        const of = (table: WaitTable) => existing.get(table) as Set<string>;
        created = {
          jobs: await reconcile(trx, "process_jobs", instanceId, of("process_jobs"), change.jobs, jobToRow),
          userTasks: await reconcile(trx, "process_user_tasks", instanceId, of("process_user_tasks"), change.userTasks, userTaskToRow, {
            column: "status",
            open: "created",
            closed: "canceled",
          }),
          timers: await reconcile(trx, "process_timers", instanceId, of("process_timers"), change.timers, timerToRow),
          subscriptions: await reconcile(trx, "process_subscriptions", instanceId, of("process_subscriptions"), change.subscriptions, subscriptionToRow),
        };
      }
      const waiting = [...created.jobs, ...created.userTasks].map((row) => ({
        schoolId: row.schoolId,
        instanceId,
        atMs: change.instance.updatedAtMs,
        elementId: row.elementId,
        elementType: "type" in row ? "job" : "user-task",
        action: "waiting",
        details: { key: row.id },
      }));
      if (change.incidents.length) await trx("process_incidents").insert(change.incidents.map(incidentToRow));
      if (change.thrownSignals?.length) await trx("process_signal_outbox").insert(change.thrownSignals.map(signalToRow));
      const history = [...change.history, ...waiting];
      if (history.length) await insertRows(trx, "process_history", history.map(historyToRow));
      return created;
    });
  }

  async job(id: string): Promise<ProcessJobRecord | undefined> {
    const row = await byId(this.knex, "process_jobs", id);
    return row ? jobFromRow(row) : undefined;
  }

  async activatableJobs(schoolId: string): Promise<ProcessJobRecord[]> {
    return (await this.knex("process_jobs").where({ school_id: schoolId, status: "activatable" }).orderBy("created_at")).map(jobFromRow);
  }

  /** A failed attempt: fewer retries and a later due time, or an incident when none are left. */
  async failJob(job: ProcessJobRecord, retries: number, dueAtMs: number, message: string, incident: ProcessIncidentRecord | null): Promise<void> {
    await transaction(this.knex, async (trx) => {
      await trx("process_jobs")
        .where({ id: job.id })
        .update({ retries, due_at: dueAtMs, error_message: message, status: incident ? "incident" : "activatable" });
      if (incident) await trx("process_incidents").insert(incidentToRow(incident));
      await trx("process_history").insert(
        historyToRow({
          schoolId: job.schoolId,
          instanceId: job.instanceId,
          atMs: Date.now(),
          elementId: job.elementId,
          elementType: "job",
          action: incident ? "incident" : "job-failed",
          details: { jobKey: job.id, retries, message },
        }),
      );
    });
  }

  async userTask(id: string): Promise<ProcessUserTaskRecord | undefined> {
    const row = await byId(this.knex, "process_user_tasks", id);
    return row ? userTaskFromRow(row) : undefined;
  }

  async userTasks(query: {
    schoolId: string;
    candidateGroups?: string[];
    assignee?: string;
    bpmnProcessId?: string;
    businessKey?: string;
    instanceId?: string;
    status?: ProcessUserTaskRecord["status"];
  }): Promise<ProcessUserTaskRecord[]> {
    const builder = this.knex("process_user_tasks").where({ school_id: query.schoolId }).orderBy("created_at");
    builder.where({ status: query.status ?? "created" });
    if (query.assignee) builder.where({ assignee: query.assignee });
    if (query.bpmnProcessId) builder.where({ bpmn_process_id: query.bpmnProcessId });
    if (query.businessKey) builder.where({ business_key: query.businessKey });
    if (query.instanceId) builder.where({ instance_id: query.instanceId });
    const groups = query.candidateGroups;
    if (groups && groups.length > 0) {
      // Groups are a JSON array of strings; a quoted match cannot hit a group that merely contains the name.
      builder.where((inner) => {
        for (const group of groups) inner.orWhere("candidate_groups", "like", `%${JSON.stringify(group)}%`);
      });
    }
    return (await builder).map(userTaskFromRow);
  }

  async claimUserTask(id: string, assignee: string): Promise<boolean> {
    const updated = await this.knex("process_user_tasks")
      .where({ id, status: "created" })
      .where((inner) => inner.whereNull("assignee").orWhere({ assignee }))
      .update({ assignee });
    return updated > 0;
  }

  async timersDueBefore(schoolId: string, dueAtMs: number, limit: number): Promise<ProcessTimerRecord[]> {
    return (
      await this.knex("process_timers").where({ school_id: schoolId }).where("due_at", "<=", dueAtMs).orderBy("due_at").limit(limit)
    ).map(timerFromRow);
  }

  async nextTimerDueAt(schoolId: string): Promise<number | null> {
    const row = await this.knex("process_timers").where({ school_id: schoolId }).min({ due: "due_at" }).first();
    return toNullableNumber(row?.due);
  }

  async subscriptions(query: { schoolId: string; kind: "message" | "signal" | "call"; name: string; correlationKey?: string }): Promise<ProcessSubscriptionRecord[]> {
    const builder = this.knex("process_subscriptions")
      .where({ school_id: query.schoolId, kind: query.kind, name: query.name })
      .orderBy("created_at");
    if (query.correlationKey !== undefined) builder.where({ correlation_key: query.correlationKey });
    return (await builder).map(subscriptionFromRow);
  }

  async instanceWaits(instanceId: string): Promise<string[]> {
    const [jobs, tasks, timers, subscriptions] = await Promise.all([
      this.knex("process_jobs").where({ instance_id: instanceId }).select("element_id"),
      this.knex("process_user_tasks").where({ instance_id: instanceId, status: "created" }).select("element_id"),
      this.knex("process_timers").where({ instance_id: instanceId }).select("element_id"),
      this.knex("process_subscriptions").where({ instance_id: instanceId }).select("element_id"),
    ]);
    return [...jobs, ...tasks, ...timers, ...subscriptions].map((row: { element_id: string }) => row.element_id);
  }

  async bufferMessage(record: BufferedMessageRecord): Promise<boolean> {
    if (record.messageId) {
      const same = await this.knex("process_messages")
        .where({ school_id: record.schoolId, message_id: record.messageId })
        .where("expires_at", ">", record.publishedAtMs)
        .first();
      if (same) return false;
    }
    await this.knex("process_messages").insert({
      id: record.id,
      school_id: record.schoolId,
      name: record.name,
      correlation_key: record.correlationKey,
      message_id: record.messageId,
      variables: toJsonColumn(record.variables),
      published_at: record.publishedAtMs,
      expires_at: record.expiresAtMs,
    });
    return true;
  }

  async bufferedMessage(schoolId: string, name: string, correlationKey: string, nowMs: number): Promise<BufferedMessageRecord | undefined> {
    const row = await this.knex("process_messages")
      .where({ school_id: schoolId, name, correlation_key: correlationKey })
      .where("expires_at", ">", nowMs)
      .orderBy("published_at")
      .first();
    return row ? messageFromRow(row) : undefined;
  }

  /** Thrown signals not yet delivered (after a crash), oldest first. */
  async thrownSignals(schoolId: string): Promise<ThrownSignalRecord[]> {
    return (await this.knex("process_signal_outbox").where({ school_id: schoolId }).orderBy("thrown_at")).map(signalFromRow);
  }

  async signalDelivered(id: string): Promise<void> {
    await this.knex("process_signal_outbox").where({ id }).delete();
  }

  async dropExpiredMessages(schoolId: string, nowMs: number): Promise<number> {
    return this.knex("process_messages").where({ school_id: schoolId }).where("expires_at", "<=", nowMs).delete();
  }

  async incident(id: string): Promise<ProcessIncidentRecord | undefined> {
    const row = await this.knex("process_incidents").where({ id }).first();
    return row ? incidentFromRow(row) : undefined;
  }

  async incidents(query: { schoolId: string; instanceId?: string; unresolvedOnly?: boolean }): Promise<ProcessIncidentRecord[]> {
    const builder = this.knex("process_incidents").where({ school_id: query.schoolId }).orderBy("created_at");
    if (query.instanceId) builder.where({ instance_id: query.instanceId });
    if (query.unresolvedOnly) builder.whereNull("resolved_at");
    return (await builder).map(incidentFromRow);
  }

  /** Marks the incident resolved and gives its job fresh retries, due now. */
  async resolveIncident(incident: ProcessIncidentRecord, retries: number, atMs: number): Promise<void> {
    await transaction(this.knex, async (trx) => {
      await trx("process_incidents").where({ id: incident.id }).update({ resolved_at: atMs });
      if (incident.jobId) {
        await trx("process_jobs").where({ id: incident.jobId }).update({ status: "activatable", retries, due_at: atMs });
      }
      await trx("process_history").insert(
        historyToRow({
          schoolId: incident.schoolId,
          instanceId: incident.instanceId,
          atMs,
          elementId: incident.elementId,
          elementType: null,
          action: "incident-resolved",
          details: { incidentKey: incident.id, retries },
        }),
      );
    });
  }

  async history(instanceId: string): Promise<ProcessHistoryRecord[]> {
    return (await this.knex("process_history").where({ instance_id: instanceId }).orderBy("id")).map((row: Record<string, unknown>) => ({
      schoolId: String(row.school_id),
      instanceId: String(row.instance_id),
      atMs: toNumber(row.at),
      elementId: (row.element_id as string | null) ?? null,
      elementType: (row.element_type as string | null) ?? null,
      action: String(row.action),
      details: fromJsonColumn<Record<string, unknown>>(row.details, {}),
    }));
  }
}

function timerToRow(record: ProcessTimerRecord) {
  return {
    id: record.id,
    school_id: record.schoolId,
    instance_id: record.instanceId,
    execution_id: record.executionId,
    element_id: record.elementId,
    due_at: record.dueAtMs,
  };
}

function subscriptionToRow(record: ProcessSubscriptionRecord) {
  return {
    id: record.id,
    school_id: record.schoolId,
    instance_id: record.instanceId,
    execution_id: record.executionId,
    element_id: record.elementId,
    kind: record.kind,
    name: record.name,
    correlation_key: record.correlationKey,
    created_at: record.createdAtMs,
  };
}
