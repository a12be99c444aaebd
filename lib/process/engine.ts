// The ProcessEngine port: what flows, nodes and the task list need from a BPMN engine, whichever engine runs it.

export type Variables = Record<string, unknown>;

/** One BPMN file to deploy: its name is used in errors, so it should be the file's path or name. */
export interface BpmnResource {
  name: string;
  xml: string;
}

export interface DeployedProcess {
  bpmnProcessId: string;
  version: number;
  deploymentId: string;
  resourceName: string;
}

/** A resource that could not be deployed: which file, which element (when one is to blame) and why. */
export interface DeploymentProblem {
  resourceName: string;
  elementId: string | null;
  message: string;
}

export interface DeploymentResult {
  deployed: DeployedProcess[];
  problems: DeploymentProblem[];
}

export interface StartInstanceRequest {
  bpmnProcessId: string;
  variables?: Variables;
  /** The incident id for emergency processes: messages and the task list find instances by it. */
  businessKey?: string;
}

export interface StartedInstance {
  instanceId: string;
  bpmnProcessId: string;
  version: number;
  businessKey: string | null;
}

export interface PublishMessageRequest {
  name: string;
  correlationKey: string;
  variables?: Variables;
  /** How long a message that no instance waits for yet is kept for one that will; 0 drops it at once. */
  timeToLiveMs?: number;
  /** Publishing the same messageId again while the first is buffered is a no-op. */
  messageId?: string;
}

export interface PublishedMessage {
  /** Instances the message was delivered to now. */
  correlatedInstanceIds: string[];
  /** Whether it was kept for an instance that is not waiting yet. */
  buffered: boolean;
}

export interface BroadcastSignalRequest {
  name: string;
  variables?: Variables;
}

export interface Job {
  key: string;
  type: string;
  instanceId: string;
  bpmnProcessId: string;
  businessKey: string | null;
  elementId: string;
  retries: number;
  /** zeebe:taskHeaders of the task. */
  customHeaders: Record<string, string>;
  /** Process variables with the task's input mappings applied. */
  variables: Variables;
  /** When the engine takes the job back and offers it again if no outcome arrived. */
  deadlineMs: number;
}

declare const jobOutcomeBrand: unique symbol;

/**
 * Proof that a job was ended. Only complete(), fail() and bpmnError() create one, so a handler that forgets to end
 * its job does not compile.
 */
export interface JobOutcome {
  readonly [jobOutcomeBrand]: true;
  readonly jobKey: string;
  readonly outcome: "completed" | "failed" | "bpmn-error";
}

export interface JobActions {
  /** Ends the job; its variables merge into the process (through the task's output mappings, if any). */
  complete(variables?: Variables): Promise<JobOutcome>;
  /** Gives the job back with `retries` left, offered again after `backoffMs`; at 0 retries it becomes an incident. */
  fail(retries: number, backoffMs: number, message: string): Promise<JobOutcome>;
  /** Throws a BPMN error at the task, caught by an error boundary event with this code. */
  bpmnError(code: string, message: string, variables?: Variables): Promise<JobOutcome>;
}

export type ActivatedJob = Job & JobActions;

export type JobHandler = (job: ActivatedJob) => Promise<JobOutcome>;

export interface WorkerOptions {
  /** A job without an outcome by then is taken back and offered again (retries unchanged). */
  timeoutMs?: number;
  maxJobsActive?: number;
}

export interface Worker {
  readonly type: string;
  /** Stops taking jobs and waits for the active ones to end. */
  stop(): Promise<void>;
}

export type UserTaskStatus = "created" | "completed" | "canceled";

export interface UserTask {
  key: string;
  instanceId: string;
  bpmnProcessId: string;
  businessKey: string | null;
  elementId: string;
  name: string | null;
  assignee: string | null;
  candidateGroups: string[];
  formId: string | null;
  /** Process variables plus the task's input mappings, as the form sees them. */
  variables: Variables;
  status: UserTaskStatus;
  createdAt: string;
  completedAt: string | null;
  completedBy: string | null;
}

export interface UserTaskQuery {
  candidateGroups?: string[];
  assignee?: string;
  bpmnProcessId?: string;
  businessKey?: string;
  instanceId?: string;
  status?: UserTaskStatus;
}

export type InstanceStatus = "active" | "completed" | "canceled" | "failed";

export interface Incident {
  key: string;
  instanceId: string;
  elementId: string;
  jobKey: string | null;
  kind: "job-no-retries" | "engine-error";
  message: string;
  createdAt: string;
  resolvedAt: string | null;
}

export interface HistoryEntry {
  at: string;
  elementId: string | null;
  elementType: string | null;
  action: string;
  details: Record<string, unknown>;
}

export interface InstanceSnapshot {
  instanceId: string;
  bpmnProcessId: string;
  version: number;
  businessKey: string | null;
  status: InstanceStatus;
  variables: Variables;
  /** Elements the instance waits at now (tasks, timers, messages). */
  waitingAt: string[];
  incidents: Incident[];
  startedAt: string;
  endedAt: string | null;
}

export interface ProcessEngine {
  deploy(resources: BpmnResource[]): Promise<DeploymentResult>;
  startInstance(request: StartInstanceRequest): Promise<StartedInstance>;
  publishMessage(request: PublishMessageRequest): Promise<PublishedMessage>;
  broadcastSignal(request: BroadcastSignalRequest): Promise<{ signaledInstanceIds: string[] }>;

  registerWorker(type: string, handler: JobHandler, options?: WorkerOptions): Worker;
  /** The same outcomes as a handler's, by job key: for workers whose outcome arrives later (a complete-job node). */
  completeJob(jobKey: string, variables?: Variables): Promise<JobOutcome>;
  failJob(jobKey: string, retries: number, backoffMs: number, message: string): Promise<JobOutcome>;
  throwJobError(jobKey: string, code: string, message: string, variables?: Variables): Promise<JobOutcome>;

  listUserTasks(query: UserTaskQuery): Promise<UserTask[]>;
  getUserTask(taskKey: string): Promise<UserTask | undefined>;
  claimUserTask(taskKey: string, assignee: string): Promise<UserTask>;
  completeUserTask(taskKey: string, variables?: Variables, completedBy?: string): Promise<void>;

  cancelInstance(instanceId: string): Promise<void>;
  getInstance(instanceId: string): Promise<InstanceSnapshot | undefined>;
  history(instanceId: string): Promise<HistoryEntry[]>;
  listIncidents(query?: { instanceId?: string; unresolvedOnly?: boolean }): Promise<Incident[]>;
  /** Retries what the incident stopped (the job, with `retries` fresh retries). */
  resolveIncident(incidentKey: string, retries?: number): Promise<void>;

  close(): Promise<void>;
}
