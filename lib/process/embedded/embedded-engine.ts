// The embedded ProcessEngine: bpmn-engine in this process, every wait saved to the store and the instance evicted.
import crypto from "node:crypto";
import type { Store } from "../../store";
import type {
  NewWaits,
  ProcessIncidentRecord,
  ProcessInstanceRecord,
  ProcessJobRecord,
  ProcessSubscriptionRecord,
  ProcessTimerRecord,
  ProcessUserTaskRecord,
  ThrownSignalRecord,
} from "../../store/repositories/process";
import type {
  ActivatedJob,
  BpmnResource,
  BroadcastSignalRequest,
  DeploymentResult,
  HistoryEntry,
  Incident,
  InstanceSnapshot,
  JobHandler,
  JobOutcome,
  ProcessEngine,
  PublishedMessage,
  PublishMessageRequest,
  StartedInstance,
  StartInstanceRequest,
  UserTask,
  UserTaskQuery,
  Variables,
  Worker,
  WorkerOptions,
} from "../engine";
import { ProcessDefinitionError, ProcessNotFoundError, ProcessStateError } from "../errors";
import { evaluateFeel } from "./feel";
import { InstanceRun, type RunAction, type Wait } from "./instance-run";
import { compileResource, type CompiledProcess } from "./model";
import { STARTED_BY } from "./start-events";

export interface EmbeddedEngineOptions {
  store: Store;
  schoolId?: string;
  /** A job without an outcome by then is offered again (WorkerOptions.timeoutMs overrides it per worker). */
  defaultJobTimeoutMs?: number;
  /** Longest sleep of the timer loop; timers added by this engine wake it earlier. */
  timerPollMs?: number;
}

interface LoadedProcess extends CompiledProcess {
  deploymentId: string;
  version: number;
}

interface WorkerState {
  type: string;
  handler: JobHandler;
  timeoutMs: number;
  maxJobsActive: number;
  active: number;
  stopped: boolean;
  drained: Array<() => void>;
  /** Jobs may be waiting for a free slot or a due time: look in the store when a slot frees. */
  backlog: boolean;
}

interface HotInstance {
  run: InstanceRun;
  /** updatedAtMs of the save it matches; a different row means the store moved on and the copy is stale. */
  savedAtMs: number;
}

const HOT_INSTANCES = 256;

interface ActiveJob {
  /** The row as offered (or as read for an outcome by key): an outcome for a held job needs no read. */
  job: ProcessJobRecord;
  attempt: number;
  worker: WorkerState;
  timeout: NodeJS.Timeout | null;
}

const outcomeOf = (jobKey: string, outcome: JobOutcome["outcome"]): JobOutcome => ({ jobKey, outcome }) as unknown as JobOutcome;

function newId(): string {
  return crypto.randomBytes(8).toString("hex");
}

function rowKey(instanceId: string, executionId: string): string {
  return `${instanceId}.${executionId}`;
}

function listOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String).filter(Boolean);
  if (typeof value === "string") return value.split(",").map((entry) => entry.trim()).filter(Boolean);
  return [];
}

export class EmbeddedProcessEngine implements ProcessEngine {
  private readonly processes = new Map<string, LoadedProcess>();
  private readonly latest = new Map<string, string>();
  private readonly instanceQueues = new Map<string, Promise<unknown>>();
  private readonly workers = new Map<string, WorkerState>();
  private readonly activeJobs = new Map<string, ActiveJob>();
  private readonly backoffTimers = new Set<NodeJS.Timeout>();
  private readonly firingTimers = new Set<string>();
  private readonly hot = new Map<string, HotInstance>();
  private readonly schoolId: string;
  private readonly defaultJobTimeoutMs: number;
  private readonly timerPollMs: number;
  private timerWake: NodeJS.Timeout | null = null;
  private timerWakeAtMs = Infinity;
  private attempts = 0;
  private closed = false;

  private constructor(
    private readonly store: Store,
    options: EmbeddedEngineOptions,
  ) {
    this.schoolId = options.schoolId ?? "default";
    this.defaultJobTimeoutMs = options.defaultJobTimeoutMs ?? 5 * 60_000;
    this.timerPollMs = options.timerPollMs ?? 30_000;
  }

  /** Loads what is deployed, fires overdue timers and resumes interrupted call activities. */
  static async open(options: EmbeddedEngineOptions): Promise<EmbeddedProcessEngine> {
    const engine = new EmbeddedProcessEngine(options.store, options);
    for (const deployment of await options.store.processes.deployments(engine.schoolId)) {
      const compiled = await compileResource(deployment.resourceName, deployment.source);
      const process = compiled.processes.find((candidate) => candidate.bpmnProcessId === deployment.bpmnProcessId);
      if (!process) continue;
      engine.processes.set(deployment.id, { ...process, deploymentId: deployment.id, version: deployment.version });
      engine.latest.set(deployment.bpmnProcessId, deployment.id);
    }
    await engine.recoverCallActivities();
    for (const signal of await options.store.processes.thrownSignals(engine.schoolId)) engine.background(engine.deliverThrownSignal(signal));
    engine.wakeTimersAt(Date.now());
    return engine;
  }

  private get repo() {
    return this.store.processes;
  }

  async deploy(resources: BpmnResource[]): Promise<DeploymentResult> {
    const result: DeploymentResult = { deployed: [], problems: [] };
    for (const resource of resources) {
      const compiled = await compileResource(resource.name, resource.xml);
      result.problems.push(...compiled.problems);
      for (const process of compiled.processes) {
        const record = await this.repo.addDeployment({
          id: newId(),
          schoolId: this.schoolId,
          bpmnProcessId: process.bpmnProcessId,
          resourceName: resource.name,
          checksum: crypto.createHash("sha256").update(resource.xml).digest("hex"),
          source: resource.xml,
          deployedAtMs: Date.now(),
        });
        if (!this.processes.has(record.id)) this.processes.set(record.id, { ...process, deploymentId: record.id, version: record.version });
        this.latest.set(process.bpmnProcessId, record.id);
        result.deployed.push({ bpmnProcessId: process.bpmnProcessId, version: record.version, deploymentId: record.id, resourceName: resource.name });
      }
    }
    return result;
  }

  /** Deploys and throws the first problem as a ProcessDefinitionError (for callers that need all or nothing). */
  async deployOrThrow(resources: BpmnResource[]): Promise<DeploymentResult> {
    const result = await this.deploy(resources);
    const problem = result.problems[0];
    if (problem) throw new ProcessDefinitionError(problem.message, problem.resourceName, problem.elementId);
    return result;
  }

  async startInstance(request: StartInstanceRequest): Promise<StartedInstance> {
    const deploymentId = this.latest.get(request.bpmnProcessId);
    if (!deploymentId) throw new ProcessNotFoundError(`no process "${request.bpmnProcessId}" is deployed`);
    const process = this.processes.get(deploymentId);
    if (process && !process.hasNoneStart) {
      const triggers = process.startTriggers.map((trigger) => `${trigger.kind} "${trigger.name}"`).join(", ");
      throw new ProcessStateError(`process "${request.bpmnProcessId}" has no plain start event: it starts by ${triggers}`);
    }
    const instance = await this.createInstance(deploymentId, request.variables ?? {}, request.businessKey ?? null, null, null);
    return { instanceId: instance.id, bpmnProcessId: instance.bpmnProcessId, version: instance.version, businessKey: instance.businessKey };
  }

  private async createInstance(
    deploymentId: string,
    variables: Variables,
    businessKey: string | null,
    parentInstanceId: string | null,
    parentExecutionId: string | null,
    instanceId = newId(),
    startedBy: string | null = null,
  ): Promise<ProcessInstanceRecord> {
    const process = this.processes.get(deploymentId);
    if (!process) throw new ProcessNotFoundError(`deployment ${deploymentId} is not loaded`);
    const now = Date.now();
    const instance: ProcessInstanceRecord = {
      id: instanceId,
      schoolId: this.schoolId,
      deploymentId,
      bpmnProcessId: process.bpmnProcessId,
      version: process.version,
      businessKey,
      status: "active",
      state: null,
      // A process with message or signal start events routes on this to the start event it was started at.
      variables: startedBy ? { ...variables, [STARTED_BY]: startedBy } : { ...variables },
      parentInstanceId,
      parentExecutionId,
      startedAtMs: now,
      updatedAtMs: now,
      endedAtMs: null,
    };
    await this.serialized(instance.id, () => this.run(instance, true, { kind: "start" }));
    return instance;
  }

  /** Runs `work` after everything already queued for the instance: one stretch of an instance at a time. */
  private serialized<T>(instanceId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.instanceQueues.get(instanceId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    this.instanceQueues.set(instanceId, tail);
    void tail.then(() => {
      if (this.instanceQueues.get(instanceId) === tail) this.instanceQueues.delete(instanceId);
    });
    return next;
  }

  private async loadActive(instanceId: string): Promise<ProcessInstanceRecord> {
    const instance = await this.repo.instance(instanceId);
    if (!instance) throw new ProcessNotFoundError(`no process instance ${instanceId}`);
    if (instance.status !== "active") throw new ProcessStateError(`process instance ${instanceId} is ${instance.status}`);
    return instance;
  }

  /**
   * Rehydrates the instance, applies the action, runs to the next waits and saves state and wait rows together.
   * Returns the waits so the caller's follow-ups (jobs to hand out, buffered messages) can start after the commit.
   */
  private async run(
    instance: ProcessInstanceRecord,
    isNew: boolean,
    action: RunAction,
    extra: { completedUserTask?: { id: string; completedBy: string | null }; consumedMessageId?: string } = {},
  ): Promise<void> {
    const process = this.processes.get(instance.deploymentId);
    if (!process) throw new ProcessNotFoundError(`deployment ${instance.deploymentId} of instance ${instance.id} is not loaded`);
    const variables = { ...instance.variables };
    const hot = this.hot.get(instance.id);
    this.hot.delete(instance.id);
    let run: InstanceRun;
    if (hot && !isNew && hot.savedAtMs === instance.updatedAtMs) {
      run = hot.run;
      run.beginStretch(variables);
    } else {
      if (hot) await hot.run.evict();
      run = new InstanceRun(process, instance.id, variables);
      await run.open(isNew ? null : instance.state);
    }
    run.apply(action);
    await run.runToWait();
    // The route to the start event is behind the instance now.
    if (isNew && STARTED_BY in variables) delete variables[STARTED_BY];
    if (!run.failure && !run.completed) {
      try {
        run.initialiseOutputCollections();
      } catch (err) {
        run.failure = { error: err instanceof Error ? err : new Error(String(err)), elementId: null };
      }
    }
    const now = Date.now();
    const waits = run.completed || run.failure ? [] : [...run.waits.values()];
    const state = run.completed || run.failure ? null : await run.compactState();
    const status = run.failure ? "failed" : run.completed ? "completed" : "active";
    const updated: ProcessInstanceRecord = {
      ...instance,
      status,
      state,
      variables,
      updatedAtMs: now,
      endedAtMs: status === "active" ? null : now,
    };
    const incidents: ProcessIncidentRecord[] = [];
    const history = run.history.map((note) => ({ ...note, schoolId: this.schoolId, instanceId: instance.id }));
    if (run.failure) {
      incidents.push({
        id: newId(),
        schoolId: this.schoolId,
        instanceId: instance.id,
        elementId: run.failure.elementId ?? "",
        jobId: null,
        kind: "engine-error",
        message: run.failure.error.message,
        createdAtMs: now,
        resolvedAtMs: null,
      });
      history.push({ schoolId: this.schoolId, instanceId: instance.id, atMs: now, elementId: run.failure.elementId, elementType: null, action: "failed", details: { message: run.failure.error.message } });
    } else if (run.completed) {
      history.push({ schoolId: this.schoolId, instanceId: instance.id, atMs: now, elementId: null, elementType: null, action: "completed", details: {} });
    }
    const thrownSignals: ThrownSignalRecord[] = run.failure
      ? []
      : run.thrownSignals.map((signal) => ({
          id: newId(),
          schoolId: this.schoolId,
          name: signal.name,
          sourceInstanceId: instance.id,
          variables: signal.variables,
          thrownAtMs: now,
        }));
    for (const signal of run.thrownSignals) {
      history.push({ schoolId: this.schoolId, instanceId: instance.id, atMs: now, elementId: signal.elementId, elementType: null, action: "signal-thrown", details: { name: signal.name } });
    }
    const rows = this.waitRows(updated, waits, now);
    let created: NewWaits;
    try {
      created = await this.repo.commit({
        instance: updated,
        isNew,
        ...rows,
        history,
        incidents,
        completedUserTask: extra.completedUserTask ? { ...extra.completedUserTask, atMs: now } : undefined,
        consumedMessageId: extra.consumedMessageId,
        thrownSignals,
      });
    } catch (err) {
      await run.evict();
      throw err;
    }
    await this.keepHotOrEvict(run, updated, waits, created);
    Object.assign(instance, updated);
    this.afterCommit(updated, waits, created);
    for (const signal of thrownSignals) this.background(this.deliverThrownSignal(signal));
  }

  /**
   * The state is saved either way. An instance whose next step is a job this engine's own worker takes now stays
   * in memory, up to HOT_INSTANCES of them, so the job's result does not pay for a rebuild; any other is let go.
   * One with a pending timer never stays: bpmn-engine would fire it in memory, behind the store's back.
   */
  private async keepHotOrEvict(run: InstanceRun, instance: ProcessInstanceRecord, waits: Wait[], created: NewWaits): Promise<void> {
    const workerTakesJob = created.jobs.some((job) => {
      const worker = this.workers.get(job.type);
      return worker !== undefined && !worker.stopped;
    });
    if (this.closed || instance.status !== "active" || !workerTakesJob || waits.some((wait) => wait.kind === "timer")) {
      await run.evict();
      return;
    }
    this.hot.set(instance.id, { run, savedAtMs: instance.updatedAtMs });
    if (this.hot.size > HOT_INSTANCES) {
      const [oldestId, oldest] = this.hot.entries().next().value as [string, HotInstance];
      this.hot.delete(oldestId);
      await oldest.run.evict();
    }
  }

  private waitRows(instance: ProcessInstanceRecord, waits: Wait[], now: number) {
    const jobs: ProcessJobRecord[] = [];
    const userTasks: ProcessUserTaskRecord[] = [];
    const timers: ProcessTimerRecord[] = [];
    const subscriptions: ProcessSubscriptionRecord[] = [];
    const base = { schoolId: this.schoolId, instanceId: instance.id };
    for (const wait of waits) {
      const id = rowKey(instance.id, wait.executionId);
      const common = { ...base, id, executionId: wait.executionId, elementId: wait.elementId };
      switch (wait.kind) {
        case "job": {
          const job = wait.element?.job;
          jobs.push({
            ...common,
            type: job?.type ?? "",
            retries: job?.retries ?? 3,
            status: "activatable",
            headers: job?.headers ?? {},
            localVariables: { ...wait.localVariables, ...(wait.loopIndex !== null ? { "#loopIndex": wait.loopIndex } : {}) },
            dueAtMs: now,
            errorMessage: null,
            createdAtMs: now,
          });
          break;
        }
        case "user-task": {
          const model = wait.element?.userTask;
          const scope = { ...instance.variables, ...wait.localVariables };
          const assignee = model?.assignee ? evaluateFeel(model.assignee, scope) : null;
          userTasks.push({
            ...common,
            bpmnProcessId: instance.bpmnProcessId,
            businessKey: instance.businessKey,
            name: wait.element?.name ?? null,
            assignee: typeof assignee === "string" && assignee ? assignee : null,
            candidateGroups: model?.candidateGroups ? listOf(evaluateFeel(model.candidateGroups, scope)) : [],
            formId: model?.formId ?? null,
            localVariables: { ...wait.localVariables, ...(wait.loopIndex !== null ? { "#loopIndex": wait.loopIndex } : {}) },
            status: "created",
            createdAtMs: now,
            completedAtMs: null,
            completedBy: null,
          });
          break;
        }
        case "timer":
          timers.push({ ...common, dueAtMs: wait.dueAtMs ?? now });
          break;
        case "message":
          subscriptions.push({ ...common, kind: "message", name: wait.element?.message?.name ?? "", correlationKey: wait.correlationKey, createdAtMs: now });
          break;
        case "signal":
          subscriptions.push({ ...common, kind: "signal", name: wait.element?.signal?.name ?? "", correlationKey: null, createdAtMs: now });
          break;
        case "call":
          subscriptions.push({
            ...common,
            kind: "call",
            name: wait.element?.calledProcessId ?? "",
            correlationKey: this.childInstanceId(instance.id, wait.executionId),
            createdAtMs: now,
          });
          break;
      }
    }
    return { jobs, userTasks, timers, subscriptions };
  }

  private childInstanceId(parentInstanceId: string, executionId: string): string {
    return crypto.createHash("sha256").update(`${parentInstanceId}/${executionId}`).digest("hex").slice(0, 16);
  }

  private afterCommit(instance: ProcessInstanceRecord, waits: Wait[], created: NewWaits): void {
    if (this.closed) return;
    for (const job of created.jobs) this.offerJob(job, instance);
    const fresh = new Set([...created.timers, ...created.subscriptions].map((row) => row.executionId));
    for (const wait of waits) {
      if (!fresh.has(wait.executionId)) continue;
      if (wait.kind === "timer" && wait.dueAtMs !== null) this.wakeTimersAt(wait.dueAtMs);
      if (wait.kind === "message" && wait.correlationKey !== null) this.deliverBuffered(instance.id, wait);
      if (wait.kind === "call") this.background(this.startChild(instance, wait));
    }
    if (instance.status !== "active" && instance.parentInstanceId && instance.parentExecutionId) {
      this.background(this.returnToParent(instance));
    }
  }

  private background(work: Promise<unknown>): void {
    work.catch((err: unknown) => {
      if (!this.closed) console.warn(`process engine: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  // ---- call activities -------------------------------------------------------------------------------------------

  private async startChild(parent: ProcessInstanceRecord, wait: Wait): Promise<void> {
    const calledProcessId = wait.element?.calledProcessId ?? "";
    const childId = this.childInstanceId(parent.id, wait.executionId);
    if (await this.repo.instance(childId)) return;
    const deploymentId = this.latest.get(calledProcessId);
    if (!deploymentId) throw new ProcessNotFoundError(`call activity ${wait.elementId} calls "${calledProcessId}", which is not deployed`);
    await this.createInstance(deploymentId, { ...parent.variables, ...wait.localVariables }, parent.businessKey, parent.id, wait.executionId, childId);
  }

  private async returnToParent(child: ProcessInstanceRecord): Promise<void> {
    const parentId = child.parentInstanceId as string;
    const executionId = child.parentExecutionId as string;
    await this.serialized(parentId, async () => {
      const parent = await this.repo.instance(parentId);
      if (!parent || parent.status !== "active") return;
      const process = this.processes.get(parent.deploymentId);
      const subscription = (await this.repo.subscriptions({ schoolId: this.schoolId, kind: "call", name: child.bpmnProcessId })).find(
        (candidate) => candidate.instanceId === parentId && candidate.executionId === executionId,
      );
      if (!subscription || !process) return;
      const element = process.elements.get(subscription.elementId);
      const result = child.status === "completed" && element?.propagateAllChildVariables !== false ? child.variables : {};
      await this.run(parent, false, { kind: "complete", elementId: subscription.elementId, executionId, result, loopIndex: null, localVariables: {} });
    });
  }

  /** After a crash between a parent's save and its child's start (or the child's end and the parent's step). */
  private async recoverCallActivities(): Promise<void> {
    for (const process of new Set([...this.processes.values()].map((candidate) => candidate.bpmnProcessId))) {
      for (const subscription of await this.repo.subscriptions({ schoolId: this.schoolId, kind: "call", name: process })) {
        const child = await this.repo.instance(subscription.correlationKey ?? "");
        const parent = await this.repo.instance(subscription.instanceId);
        if (!parent || parent.status !== "active") continue;
        if (!child) {
          const processModel = this.processes.get(parent.deploymentId);
          const element = processModel?.elements.get(subscription.elementId);
          this.background(
            this.startChild(parent, {
              kind: "call",
              executionId: subscription.executionId,
              ownerExecutionId: subscription.executionId,
              scopeExecutionIds: [],
              elementId: subscription.elementId,
              element,
              localVariables: {},
              loopIndex: null,
              dueAtMs: null,
              correlationKey: null,
            }),
          );
        } else if (child.status !== "active") {
          this.background(this.returnToParent(child));
        }
      }
    }
  }

  // ---- messages and signals --------------------------------------------------------------------------------------

  async publishMessage(request: PublishMessageRequest): Promise<PublishedMessage> {
    const subscriptions = await this.repo.subscriptions({
      schoolId: this.schoolId,
      kind: "message",
      name: request.name,
      correlationKey: request.correlationKey,
    });
    const correlated: string[] = [];
    for (const subscription of subscriptions) {
      if (correlated.includes(subscription.instanceId)) continue;
      const delivered = await this.deliverMessage(subscription, request.variables ?? {});
      if (delivered) correlated.push(subscription.instanceId);
    }
    correlated.push(...(await this.startByTrigger("message", request.name, request.variables ?? {}, request.correlationKey || null)));
    if (correlated.length > 0) return { correlatedInstanceIds: correlated, buffered: false };
    const ttl = request.timeToLiveMs ?? 0;
    if (ttl <= 0) return { correlatedInstanceIds: [], buffered: false };
    const now = Date.now();
    const buffered = await this.repo.bufferMessage({
      id: newId(),
      schoolId: this.schoolId,
      name: request.name,
      correlationKey: request.correlationKey,
      messageId: request.messageId ?? null,
      variables: request.variables ?? {},
      publishedAtMs: now,
      expiresAtMs: now + ttl,
    });
    return { correlatedInstanceIds: [], buffered };
  }

  private deliverMessage(subscription: ProcessSubscriptionRecord, variables: Variables, consumedMessageId?: string): Promise<boolean> {
    return this.serialized(subscription.instanceId, async () => {
      const instance = await this.repo.instance(subscription.instanceId);
      if (!instance || instance.status !== "active") return false;
      const still = (await this.repo.subscriptions({ schoolId: this.schoolId, kind: "message", name: subscription.name, correlationKey: subscription.correlationKey ?? undefined })).some(
        (candidate) => candidate.id === subscription.id,
      );
      if (!still) return false;
      const message = this.processes.get(instance.deploymentId)?.elements.get(subscription.elementId)?.message;
      if (!message) return false;
      await this.run(instance, false, { kind: "message", elementId: subscription.elementId, messageRefId: message.id, result: variables }, { consumedMessageId });
      return true;
    });
  }

  private deliverBuffered(instanceId: string, wait: Wait): void {
    this.background(
      (async () => {
        const name = wait.element?.message?.name ?? "";
        const message = await this.repo.bufferedMessage(this.schoolId, name, wait.correlationKey ?? "", Date.now());
        if (!message) return;
        const subscription = (await this.repo.subscriptions({ schoolId: this.schoolId, kind: "message", name, correlationKey: wait.correlationKey ?? "" })).find(
          (candidate) => candidate.instanceId === instanceId && candidate.executionId === wait.executionId,
        );
        if (subscription) await this.deliverMessage(subscription, message.variables, message.id);
      })(),
    );
  }

  async broadcastSignal(request: BroadcastSignalRequest): Promise<{ signaledInstanceIds: string[] }> {
    return { signaledInstanceIds: await this.deliverSignal(request.name, request.variables ?? {}, null) };
  }

  /** A signal a process threw reaches every other instance waiting for it; then it leaves the outbox. */
  private async deliverThrownSignal(signal: ThrownSignalRecord): Promise<void> {
    await this.deliverSignal(signal.name, signal.variables, signal.sourceInstanceId);
    await this.repo.signalDelivered(signal.id);
  }

  /**
   * Starts the latest version of every process with a message or signal start event of this name, at that start
   * event. A message with a correlation key starts no second instance of a process while one it started with that key
   * (its business key) is active, as in Camunda 8.
   */
  private async startByTrigger(kind: "message" | "signal", name: string, variables: Variables, correlationKey: string | null): Promise<string[]> {
    const started: string[] = [];
    for (const [bpmnProcessId, deploymentId] of [...this.latest]) {
      const trigger = this.processes.get(deploymentId)?.startTriggers.find((candidate) => candidate.kind === kind && candidate.name === name);
      if (!trigger) continue;
      const instanceId = await this.serialized(`start:${bpmnProcessId}:${correlationKey ?? newId()}`, async () => {
        if (kind === "message" && correlationKey) {
          const active = await this.repo.instances({ schoolId: this.schoolId, status: "active", businessKey: correlationKey });
          if (active.some((instance) => instance.bpmnProcessId === bpmnProcessId)) return null;
        }
        const instance = await this.createInstance(deploymentId, variables, correlationKey, null, null, newId(), trigger.elementId);
        return instance.id;
      });
      if (instanceId) started.push(instanceId);
    }
    return started;
  }

  private async deliverSignal(name: string, variables: Variables, exceptInstanceId: string | null): Promise<string[]> {
    const subscriptions = await this.repo.subscriptions({ schoolId: this.schoolId, kind: "signal", name });
    const signaled: string[] = [];
    for (const subscription of subscriptions) {
      if (signaled.includes(subscription.instanceId) || subscription.instanceId === exceptInstanceId) continue;
      const delivered = await this.serialized(subscription.instanceId, async () => {
        const instance = await this.repo.instance(subscription.instanceId);
        const signal = instance && this.processes.get(instance.deploymentId)?.elements.get(subscription.elementId)?.signal;
        if (!instance || instance.status !== "active" || !signal) return false;
        await this.run(instance, false, { kind: "signal", signalRefId: signal.id, result: variables });
        return true;
      });
      if (delivered) signaled.push(subscription.instanceId);
    }
    signaled.push(...(await this.startByTrigger("signal", name, variables, null)));
    return signaled;
  }

  // ---- timers ----------------------------------------------------------------------------------------------------

  private wakeTimersAt(atMs: number): void {
    if (this.closed || atMs >= this.timerWakeAtMs) return;
    if (this.timerWake) clearTimeout(this.timerWake);
    this.timerWakeAtMs = atMs;
    this.timerWake = setTimeout(() => {
      this.timerWake = null;
      this.timerWakeAtMs = Infinity;
      this.background(this.fireDueTimers());
    }, Math.max(0, atMs - Date.now()));
  }

  private async fireDueTimers(): Promise<void> {
    if (this.closed) return;
    const now = Date.now();
    const due = await this.repo.timersDueBefore(this.schoolId, now, 500);
    await this.repo.dropExpiredMessages(this.schoolId, now);
    await Promise.all(
      due
        .filter((timer) => !this.firingTimers.has(timer.id))
        .map(async (timer) => {
          this.firingTimers.add(timer.id);
          try {
            await this.serialized(timer.instanceId, async () => {
              const instance = await this.repo.instance(timer.instanceId);
              if (!instance || instance.status !== "active") return;
              await this.run(instance, false, { kind: "resume" });
            });
          } finally {
            this.firingTimers.delete(timer.id);
          }
        }),
    );
    if (this.closed) return;
    const next = await this.repo.nextTimerDueAt(this.schoolId);
    const soonest = Math.min(next ?? Infinity, Date.now() + this.timerPollMs);
    this.wakeTimersAt(due.length === 500 ? Date.now() : Math.max(soonest, Date.now() + 1));
  }

  // ---- jobs ------------------------------------------------------------------------------------------------------

  registerWorker(type: string, handler: JobHandler, options: WorkerOptions = {}): Worker {
    if (this.workers.has(type)) throw new ProcessStateError(`a worker for job type "${type}" is already registered`);
    const worker: WorkerState = {
      type,
      handler,
      timeoutMs: options.timeoutMs ?? this.defaultJobTimeoutMs,
      maxJobsActive: options.maxJobsActive ?? 32,
      active: 0,
      stopped: false,
      drained: [],
      backlog: true,
    };
    this.workers.set(type, worker);
    this.background(this.offerWaitingJobs(type));
    return {
      type,
      stop: async () => {
        worker.stopped = true;
        if (this.workers.get(type) === worker) this.workers.delete(type);
        if (worker.active > 0) await new Promise<void>((resolve) => worker.drained.push(resolve));
      },
    };
  }

  /** Jobs due and not held by a worker, for a worker that just registered or freed a slot. */
  private async offerWaitingJobs(type: string): Promise<void> {
    const worker = this.workers.get(type);
    if (!worker || worker.stopped) return;
    worker.backlog = false;
    const now = Date.now();
    const jobs = (await this.repo.activatableJobs(this.schoolId)).filter(
      (job) => job.type === type && job.dueAtMs <= now && !this.activeJobs.has(job.id),
    );
    for (const job of jobs) {
      if (worker.active >= worker.maxJobsActive) {
        worker.backlog = true;
        break;
      }
      const instance = await this.repo.instance(job.instanceId);
      if (instance && instance.status === "active") this.offerJob(job, instance);
    }
  }

  private offerJob(job: ProcessJobRecord, instance: ProcessInstanceRecord): void {
    const worker = this.workers.get(job.type);
    if (!worker || worker.stopped || this.activeJobs.has(job.id)) return;
    if (worker.active >= worker.maxJobsActive) {
      worker.backlog = true;
      return;
    }
    if (job.dueAtMs > Date.now()) {
      this.retryLater(job.type, job.dueAtMs - Date.now());
      return;
    }
    const attempt = ++this.attempts;
    worker.active += 1;
    const deadlineMs = Date.now() + worker.timeoutMs;
    const timeout = setTimeout(() => {
      if (this.activeJobs.get(job.id)?.attempt !== attempt) return;
      worker.backlog = true;
      this.releaseJob(job.id);
    }, worker.timeoutMs);
    timeout.unref();
    this.activeJobs.set(job.id, { job, attempt, worker, timeout });
    const { "#loopIndex": _loopIndex, ...locals } = job.localVariables;
    const activated: ActivatedJob = {
      key: job.id,
      type: job.type,
      instanceId: job.instanceId,
      bpmnProcessId: instance.bpmnProcessId,
      businessKey: instance.businessKey,
      elementId: job.elementId,
      retries: job.retries,
      customHeaders: job.headers,
      variables: { ...instance.variables, ...locals },
      deadlineMs,
      complete: (variables) => this.completeJob(job.id, variables),
      fail: (retries, backoffMs, message) => this.failJob(job.id, retries, backoffMs, message),
      bpmnError: (code, message, variables) => this.throwJobError(job.id, code, message, variables),
    };
    void Promise.resolve()
      .then(() => worker.handler(activated))
      .then(
        (outcome) => {
          if (outcome?.jobKey === job.id) return;
          if (this.activeJobs.get(job.id)?.attempt === attempt) {
            return this.failJob(job.id, job.retries - 1, 0, "the job handler ended without complete, fail or bpmnError");
          }
        },
        (err: unknown) => {
          if (this.activeJobs.get(job.id)?.attempt !== attempt) return;
          return this.failJob(job.id, job.retries - 1, 0, err instanceof Error ? err.message : String(err));
        },
      )
      .catch((err: unknown) => this.background(Promise.reject(err)));
  }

  /** Keeps the job from being offered again while its outcome is saved (outcomes by key arrive without an offer). */
  private holdJob(job: ProcessJobRecord): void {
    const active = this.activeJobs.get(job.id);
    if (active) {
      if (active.timeout) clearTimeout(active.timeout);
      active.timeout = null;
      active.attempt = -1;
      return;
    }
    const worker = this.workers.get(job.type) ?? this.detachedWorker(job.type);
    worker.active += 1;
    this.activeJobs.set(job.id, { job, attempt: -1, worker, timeout: null });
  }

  private detachedWorker(type: string): WorkerState {
    return { type, handler: () => Promise.reject(new Error("no worker")), timeoutMs: 0, maxJobsActive: Infinity, active: 0, stopped: true, drained: [], backlog: false };
  }

  private releaseJob(jobKey: string): void {
    const active = this.activeJobs.get(jobKey);
    if (!active) return;
    if (active.timeout) clearTimeout(active.timeout);
    this.activeJobs.delete(jobKey);
    active.worker.active -= 1;
    if (active.worker.stopped && active.worker.active === 0) for (const resolve of active.worker.drained.splice(0)) resolve();
    else if (!active.worker.stopped && active.worker.backlog) this.background(this.offerWaitingJobs(active.worker.type));
  }

  private retryLater(type: string, delayMs: number): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.backoffTimers.delete(timer);
      const worker = this.workers.get(type);
      if (worker) worker.backlog = true;
      this.background(this.offerWaitingJobs(type));
    }, Math.max(0, delayMs));
    this.backoffTimers.add(timer);
  }

  private async jobOrThrow(jobKey: string): Promise<ProcessJobRecord> {
    const job = this.activeJobs.get(jobKey)?.job ?? (await this.repo.job(jobKey));
    if (!job) throw new ProcessNotFoundError(`no job ${jobKey} (it may have been completed already)`);
    return job;
  }

  async completeJob(jobKey: string, variables: Variables = {}): Promise<JobOutcome> {
    const job = await this.jobOrThrow(jobKey);
    this.holdJob(job);
    try {
      await this.serialized(job.instanceId, async () => {
      const instance = await this.loadActive(job.instanceId);
      const { "#loopIndex": loopIndex, ...locals } = job.localVariables;
      await this.run(instance, false, {
        kind: "complete",
        elementId: job.elementId,
        executionId: job.executionId,
        result: variables,
        loopIndex: typeof loopIndex === "number" ? loopIndex : null,
        localVariables: locals,
      });
      });
    } finally {
      this.releaseJob(jobKey);
    }
    return outcomeOf(jobKey, "completed");
  }

  async failJob(jobKey: string, retries: number, backoffMs: number, message: string): Promise<JobOutcome> {
    const job = await this.jobOrThrow(jobKey);
    this.holdJob(job);
    const now = Date.now();
    const left = Math.max(0, retries);
    const incident: ProcessIncidentRecord | null =
      left === 0
        ? {
            id: newId(),
            schoolId: this.schoolId,
            instanceId: job.instanceId,
            elementId: job.elementId,
            jobId: job.id,
            kind: "job-no-retries",
            message,
            createdAtMs: now,
            resolvedAtMs: null,
          }
        : null;
    try {
      await this.repo.failJob(job, left, now + Math.max(0, backoffMs), message, incident);
    } finally {
      this.releaseJob(jobKey);
    }
    if (!incident) this.retryLater(job.type, backoffMs);
    return outcomeOf(jobKey, "failed");
  }

  async throwJobError(jobKey: string, code: string, message: string, variables: Variables = {}): Promise<JobOutcome> {
    const job = await this.jobOrThrow(jobKey);
    this.holdJob(job);
    try {
      await this.serialized(job.instanceId, async () => {
        const instance = await this.loadActive(job.instanceId);
        await this.run(instance, false, { kind: "bpmn-error", elementId: job.elementId, executionId: job.executionId, code, message, result: variables });
      });
    } finally {
      this.releaseJob(jobKey);
    }
    return outcomeOf(jobKey, "bpmn-error");
  }

  // ---- user tasks ------------------------------------------------------------------------------------------------

  private async toUserTask(record: ProcessUserTaskRecord): Promise<UserTask> {
    const instance = await this.repo.instance(record.instanceId);
    const { "#loopIndex": _loopIndex, ...locals } = record.localVariables;
    return {
      key: record.id,
      instanceId: record.instanceId,
      bpmnProcessId: record.bpmnProcessId,
      businessKey: record.businessKey,
      elementId: record.elementId,
      name: record.name,
      assignee: record.assignee,
      candidateGroups: record.candidateGroups,
      formId: record.formId,
      variables: { ...(instance?.variables ?? {}), ...locals },
      status: record.status,
      createdAt: new Date(record.createdAtMs).toISOString(),
      completedAt: record.completedAtMs === null ? null : new Date(record.completedAtMs).toISOString(),
      completedBy: record.completedBy,
    };
  }

  async listUserTasks(query: UserTaskQuery): Promise<UserTask[]> {
    const records = await this.repo.userTasks({ schoolId: this.schoolId, ...query });
    return Promise.all(records.map((record) => this.toUserTask(record)));
  }

  async getUserTask(taskKey: string): Promise<UserTask | undefined> {
    const record = await this.repo.userTask(taskKey);
    return record ? this.toUserTask(record) : undefined;
  }

  async claimUserTask(taskKey: string, assignee: string): Promise<UserTask> {
    const record = await this.repo.userTask(taskKey);
    if (!record) throw new ProcessNotFoundError(`no user task ${taskKey}`);
    if (!(await this.repo.claimUserTask(taskKey, assignee))) {
      throw new ProcessStateError(
        record.status !== "created" ? `user task ${taskKey} is ${record.status}` : `user task ${taskKey} is assigned to ${record.assignee ?? "someone else"}`,
      );
    }
    return (await this.getUserTask(taskKey)) as UserTask;
  }

  async completeUserTask(taskKey: string, variables: Variables = {}, completedBy?: string): Promise<void> {
    const record = await this.repo.userTask(taskKey);
    if (!record) throw new ProcessNotFoundError(`no user task ${taskKey}`);
    await this.serialized(record.instanceId, async () => {
      const current = await this.repo.userTask(taskKey);
      if (!current || current.status !== "created") throw new ProcessStateError(`user task ${taskKey} is ${current?.status ?? "gone"}`);
      const instance = await this.loadActive(record.instanceId);
      const { "#loopIndex": loopIndex, ...locals } = current.localVariables;
      await this.run(
        instance,
        false,
        {
          kind: "complete",
          elementId: current.elementId,
          executionId: current.executionId,
          result: variables,
          loopIndex: typeof loopIndex === "number" ? loopIndex : null,
          localVariables: locals,
        },
        { completedUserTask: { id: taskKey, completedBy: completedBy ?? current.assignee } },
      );
    });
  }

  // ---- instances and incidents -----------------------------------------------------------------------------------

  async cancelInstance(instanceId: string): Promise<void> {
    await this.serialized(instanceId, async () => {
      const instance = await this.loadActive(instanceId);
      const now = Date.now();
      for (const job of await this.repo.activatableJobs(this.schoolId)) if (job.instanceId === instanceId) this.releaseJob(job.id);
      await this.repo.commit({
        instance: { ...instance, status: "canceled", state: null, updatedAtMs: now, endedAtMs: now },
        isNew: false,
        jobs: [],
        userTasks: [],
        timers: [],
        subscriptions: [],
        incidents: [],
        history: [{ schoolId: this.schoolId, instanceId, atMs: now, elementId: null, elementType: null, action: "canceled", details: {} }],
      });
    });
    for (const child of await this.repo.instances({ schoolId: this.schoolId, status: "active" })) {
      if (child.parentInstanceId === instanceId) await this.cancelInstance(child.id);
    }
  }

  private toIncident(record: ProcessIncidentRecord): Incident {
    return {
      key: record.id,
      instanceId: record.instanceId,
      elementId: record.elementId,
      jobKey: record.jobId,
      kind: record.kind,
      message: record.message,
      createdAt: new Date(record.createdAtMs).toISOString(),
      resolvedAt: record.resolvedAtMs === null ? null : new Date(record.resolvedAtMs).toISOString(),
    };
  }

  async getInstance(instanceId: string): Promise<InstanceSnapshot | undefined> {
    const instance = await this.repo.instance(instanceId);
    if (!instance) return undefined;
    return {
      instanceId: instance.id,
      bpmnProcessId: instance.bpmnProcessId,
      version: instance.version,
      businessKey: instance.businessKey,
      status: instance.status,
      variables: instance.variables,
      waitingAt: instance.status === "active" ? await this.repo.instanceWaits(instanceId) : [],
      incidents: (await this.repo.incidents({ schoolId: this.schoolId, instanceId })).map((record) => this.toIncident(record)),
      startedAt: new Date(instance.startedAtMs).toISOString(),
      endedAt: instance.endedAtMs === null ? null : new Date(instance.endedAtMs).toISOString(),
    };
  }

  async history(instanceId: string): Promise<HistoryEntry[]> {
    return (await this.repo.history(instanceId)).map((record) => ({
      at: new Date(record.atMs).toISOString(),
      elementId: record.elementId,
      elementType: record.elementType,
      action: record.action,
      details: record.details,
    }));
  }

  async listIncidents(query: { instanceId?: string; unresolvedOnly?: boolean } = {}): Promise<Incident[]> {
    return (await this.repo.incidents({ schoolId: this.schoolId, ...query })).map((record) => this.toIncident(record));
  }

  async resolveIncident(incidentKey: string, retries = 1): Promise<void> {
    const incident = await this.repo.incident(incidentKey);
    if (!incident) throw new ProcessNotFoundError(`no incident ${incidentKey}`);
    if (incident.resolvedAtMs !== null) throw new ProcessStateError(`incident ${incidentKey} is already resolved`);
    if (!incident.jobId) throw new ProcessStateError(`incident ${incidentKey} stopped the instance itself; it cannot be retried`);
    await this.repo.resolveIncident(incident, Math.max(1, retries), Date.now());
    const job = await this.repo.job(incident.jobId);
    const worker = job && this.workers.get(job.type);
    if (worker) {
      worker.backlog = true;
      await this.offerWaitingJobs(worker.type);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timerWake) clearTimeout(this.timerWake);
    for (const timer of this.backoffTimers) clearTimeout(timer);
    this.backoffTimers.clear();
    for (const worker of this.workers.values()) worker.stopped = true;
    for (const active of this.activeJobs.values()) if (active.timeout) clearTimeout(active.timeout);
    this.activeJobs.clear();
    await Promise.all([...this.instanceQueues.values()]);
    for (const { run } of this.hot.values()) await run.evict();
    this.hot.clear();
  }
}
