// One stretch of an instance's life in memory: rebuild bpmn-engine from the saved state, apply one thing that
// happened, run to the next waits, and describe them so the caller can save them and let the engine go.
import type { Variables } from "../engine";
import { evaluateFeel, isFeel } from "./feel";
import type { CompiledProcess, ElementModel } from "./model";
import { ENGINE_ELEMENTS, JOB_TASK_TYPES } from "./model";
import { bpmnElements, bpmnEngine, type BpmnEngine, type ElementApi, type EngineExecution } from "./modules";

export type WaitKind = "job" | "user-task" | "timer" | "message" | "signal" | "call";

export interface Wait {
  kind: WaitKind;
  executionId: string;
  /** The activity execution whose leaving ends this wait (the task for a multi-instance iteration). */
  ownerExecutionId: string;
  /** Executions of the sub-processes around it, innermost first: an interrupted sub-process ends its waits silently. */
  scopeExecutionIds: string[];
  elementId: string;
  element: ElementModel | undefined;
  /** Multi-instance element, loop counter and evaluated input mappings. */
  localVariables: Variables;
  /** Index of a multi-instance iteration, for its output element. */
  loopIndex: number | null;
  dueAtMs: number | null;
  correlationKey: string | null;
}

export interface HistoryNote {
  atMs: number;
  elementId: string | null;
  elementType: string | null;
  action: string;
  details: Record<string, unknown>;
}

export type RunAction =
  | { kind: "start" }
  | { kind: "resume" }
  | { kind: "complete"; elementId: string; executionId: string; result: Variables; loopIndex: number | null; localVariables: Variables }
  | { kind: "bpmn-error"; elementId: string; executionId: string; code: string; message: string; result: Variables }
  | { kind: "message"; elementId: string; messageRefId: string; result: Variables }
  | { kind: "signal"; signalRefId: string; result: Variables };

/** bpmn-elements' own `${…}` expressions, for attributes that are not FEEL. */
const defaultExpressions = new (bpmnElements.Environment as new () => {
  expressions: {
    resolveExpression(expression: unknown, context: unknown, fnContext?: unknown): unknown;
    isExpression(text: unknown): boolean;
    hasExpression(text: unknown): boolean;
  };
})().expressions;

function setPath(target: Variables, path: string, value: unknown): void {
  const parts = path.split(".");
  let cursor: Record<string, unknown> = target;
  for (const part of parts.slice(0, -1)) {
    const next = cursor[part];
    if (typeof next !== "object" || next === null || Array.isArray(next)) cursor[part] = {};
    cursor = cursor[part] as Record<string, unknown>;
  }
  cursor[parts[parts.length - 1]] = value;
}

/** Evaluates input mappings in order, each seeing the ones before it, as Zeebe does. */
export function applyInputs(element: ElementModel | undefined, variables: Variables, locals: Variables): Variables {
  const result: Variables = { ...locals };
  for (const mapping of element?.inputs ?? []) {
    setPath(result, mapping.target, evaluateFeel(mapping.source, { ...variables, ...result }));
  }
  return result;
}

/**
 * Merges what a job, user task or message brought into the process variables: through the output mappings when
 * there are any (as Camunda 8), all of it otherwise; a multi-instance output element lands at its index.
 */
export function mergeResult(
  element: ElementModel | undefined,
  variables: Variables,
  result: Variables,
  locals: Variables,
  loopIndex: number | null,
): void {
  const scope = { ...variables, ...locals, ...result };
  if (element && element.outputs.length > 0) {
    for (const mapping of element.outputs) setPath(variables, mapping.target, evaluateFeel(mapping.source, scope));
  } else {
    Object.assign(variables, result);
  }
  const multi = element?.multiInstance;
  if (multi?.outputCollection && multi.outputElement && loopIndex !== null) {
    const collection = Array.isArray(variables[multi.outputCollection]) ? (variables[multi.outputCollection] as unknown[]) : [];
    collection[loopIndex] = isFeel(multi.outputElement) ? evaluateFeel(multi.outputElement, scope) : scope[multi.outputElement] ?? null;
    variables[multi.outputCollection] = collection;
  }
}

export interface ThrownSignal {
  elementId: string;
  name: string;
  variables: Variables;
}

export class InstanceRun {
  readonly waits = new Map<string, Wait>();
  history: HistoryNote[] = [];
  /** Signals thrown in this stretch, for the school's other instances (bpmn-engine delivers them inside this one). */
  thrownSignals: ThrownSignal[] = [];
  completed = false;
  failure: { error: Error; elementId: string | null } | null = null;
  private engine: BpmnEngine | null = null;
  private execution: EngineExecution | null = null;
  private listening = true;

  constructor(
    readonly process: CompiledProcess,
    readonly instanceId: string,
    public variables: Variables,
  ) {}

  /** Continues with an engine kept in memory since its last save: fresh history, the saved variables. */
  beginStretch(variables: Variables): void {
    this.history = [];
    this.thrownSignals = [];
    this.variables = variables;
  }

  private localsOf(content: Record<string, unknown> | undefined): Variables {
    if (!content) return {};
    const multi = typeof content.id === "string" ? this.process.elements.get(content.id)?.multiInstance : undefined;
    if (!multi || typeof content.index !== "number") return {};
    const locals: Variables = { loopCounter: content.index + 1 };
    if (multi.inputElement) locals[multi.inputElement] = content[multi.inputElement] ?? null;
    return locals;
  }

  private buildEngine(): BpmnEngine {
    const expressions = {
      resolveExpression: (expression: unknown, context: { content?: Record<string, unknown> }, fnContext?: unknown) => {
        if (isFeel(expression)) return evaluateFeel(expression, { ...this.variables, ...this.localsOf(context?.content) });
        return defaultExpressions.resolveExpression(expression, context, fnContext);
      },
      isExpression: (text: unknown) => isFeel(text) || defaultExpressions.isExpression(text),
      hasExpression: (text: unknown) => isFeel(text) || defaultExpressions.hasExpression(text),
    };
    const engine = new bpmnEngine.Engine({
      name: this.instanceId,
      Logger: silentLogger,
      sourceContext: this.process.sourceContext,
      elements: ENGINE_ELEMENTS,
      expressions,
      listener: { emit: (name: string, api: ElementApi) => this.onEvent(name, api) },
    });
    engine.on("end", () => (this.completed = true));
    engine.on("error", (err: Error & { source?: { content?: { id?: string } } }) => {
      this.failure = { error: err, elementId: err.source?.content?.id ?? null };
    });
    return engine;
  }

  /** Starts the instance, or rebuilds it from its saved state, and runs it until it waits. */
  async open(savedState: string | null): Promise<void> {
    const engine = (this.engine = this.buildEngine());
    try {
      if (savedState === null) {
        this.history.push({ atMs: Date.now(), elementId: null, elementType: null, action: "started", details: {} });
        this.execution = await engine.execute();
      } else {
        const state = JSON.parse(savedState) as Record<string, unknown>;
        engine.recover(state);
        this.execution = await engine.resume();
      }
    } catch (err) {
      this.failure = { error: err instanceof Error ? err : new Error(String(err)), elementId: null };
    }
    await settle();
  }

  apply(action: RunAction): void {
    const execution = this.execution;
    if (!execution || this.failure || this.completed) return;
    try {
      switch (action.kind) {
        case "start":
        case "resume":
          return;
        case "complete":
          mergeResult(this.process.elements.get(action.elementId), this.variables, action.result, action.localVariables, action.loopIndex);
          this.waits.delete(action.executionId);
          execution.signal({ id: action.elementId, executionId: action.executionId });
          return;
        case "bpmn-error": {
          Object.assign(this.variables, action.result);
          this.waits.delete(action.executionId);
          const activity = execution.getActivityById(action.elementId);
          activity?.broker.publish(
            "api",
            `activity.error.${action.executionId}`,
            { message: action.message, code: action.code },
            { type: "error" },
          );
          return;
        }
        case "message":
          mergeResult(this.process.elements.get(action.elementId), this.variables, action.result, {}, null);
          execution.signal({ id: action.messageRefId });
          return;
        case "signal":
          Object.assign(this.variables, action.result);
          execution.signal({ id: action.signalRefId });
          return;
      }
    } catch (err) {
      this.failure = { error: err instanceof Error ? err : new Error(String(err)), elementId: null };
    }
  }

  async runToWait(): Promise<void> {
    await settle();
  }

  /** The engine's state without the process model (the deployment holds it): what is saved at a wait. */
  async compactState(): Promise<string> {
    if (!this.engine) throw new Error("instance is not open");
    const state = await this.engine.getState();
    for (const definition of state.definitions) delete definition.source;
    return JSON.stringify(state);
  }

  /**
   * Lets the engine go: its timers are cleared (the store has them) and nothing holds it any more. Clearing them is
   * enough; stopping a waiting engine walks every element's queues and cost a lockdown more than saving it.
   */
  async evict(): Promise<void> {
    this.listening = false;
    const engine = this.engine;
    this.engine = null;
    this.execution = null;
    const timers = engine?.environment.timers;
    for (const timer of timers?.executing ?? []) timers?.clearTimeout(timer);
  }

  private onEvent(name: string, api: ElementApi): void {
    if (!this.listening) return;
    switch (name) {
      case "activity.wait":
        return this.onWait(api);
      case "activity.call":
        return this.addWait("call", api, {});
      case "activity.timer":
        return this.addWait("timer", api, { dueAtMs: new Date(api.content.expireAt ?? Date.now()).getTime() });
      case "activity.leave":
      case "activity.discard":
        for (const [key, wait] of this.waits) {
          if (wait.ownerExecutionId === api.executionId || wait.executionId === api.executionId || wait.scopeExecutionIds.includes(api.executionId)) {
            this.waits.delete(key);
          }
        }
        return;
      case "activity.consumed":
      case "activity.timeout":
      case "activity.catch":
        this.waits.delete(api.executionId);
        return;
      case "activity.signal":
        return this.onSignalThrown(api);
      case "activity.end":
        if (!api.type.endsWith("EventDefinition") && !this.process.helperIds.has(api.id)) {
          this.history.push({ atMs: Date.now(), elementId: api.id, elementType: api.type.replace("bpmn:", ""), action: "completed", details: {} });
        }
        return;
    }
  }

  private onSignalThrown(api: ElementApi): void {
    const element = this.process.elements.get(api.id);
    if (!element?.signal) return;
    try {
      // As in Camunda 8, the signal carries the throw event's input mappings as its variables.
      this.thrownSignals.push({ elementId: api.id, name: element.signal.name, variables: applyInputs(element, this.variables, {}) });
    } catch (err) {
      this.failure = { error: err instanceof Error ? err : new Error(String(err)), elementId: api.id };
    }
  }

  private onWait(api: ElementApi): void {
    if (JOB_TASK_TYPES.has(api.type)) return this.addWait("job", api, {});
    if (api.type === "bpmn:UserTask") return this.addWait("user-task", api, {});
    if (api.type === "bpmn:ReceiveTask" || api.type === "bpmn:MessageEventDefinition") {
      const message = this.process.elements.get(api.id)?.message;
      const key = message?.correlationKey
        ? String(evaluateFeel(message.correlationKey, { ...this.variables, ...this.localsOf(api.content) }) ?? "")
        : null;
      return this.addWait("message", api, { correlationKey: key });
    }
    if (api.type === "bpmn:SignalEventDefinition") return this.addWait("signal", api, {});
  }

  private addWait(kind: WaitKind, api: ElementApi, extra: { dueAtMs?: number; correlationKey?: string | null }): void {
    const parent = api.content.parent;
    const ownerExecutionId = parent?.id === api.id && parent.executionId ? parent.executionId : api.executionId;
    const element = this.process.elements.get(api.id);
    const locals = this.localsOf(api.content);
    const index = typeof api.content.index === "number" && element?.multiInstance ? api.content.index : null;
    let localVariables: Variables = locals;
    try {
      if (kind === "job" || kind === "user-task" || kind === "call") localVariables = applyInputs(element, this.variables, locals);
    } catch (err) {
      this.failure = { error: err instanceof Error ? err : new Error(String(err)), elementId: api.id };
      return;
    }
    const scopeExecutionIds = [parent?.executionId, ...(parent?.path ?? []).map((scope) => scope.executionId)].filter(
      (executionId): executionId is string => typeof executionId === "string" && executionId !== ownerExecutionId,
    );
    this.waits.set(api.executionId, {
      kind,
      executionId: api.executionId,
      ownerExecutionId,
      scopeExecutionIds,
      elementId: api.id,
      element,
      localVariables,
      loopIndex: index,
      dueAtMs: extra.dueAtMs ?? null,
      correlationKey: extra.correlationKey ?? null,
    });
  }

  /** Starts the multi-instance output collection as Camunda does: one null per input item. */
  initialiseOutputCollections(): void {
    for (const wait of this.waits.values()) {
      const multi = wait.element?.multiInstance;
      if (!multi?.outputCollection) continue;
      if (!Array.isArray(this.variables[multi.outputCollection])) {
        const items = evaluateFeel(multi.inputCollection, this.variables);
        this.variables[multi.outputCollection] = Array.isArray(items) ? items.map(() => null) : [];
      }
    }
  }
}

/** bpmn-engine's default logger builds a `debug` instance per element and instance: measurable at hundreds per second. */
const SILENT = { debug: () => undefined, error: () => undefined, warn: () => undefined };
function silentLogger() {
  return SILENT;
}

/**
 * bpmn-engine runs an instance synchronously once `execute()` / `resume()` has resolved (bpmn-elements defers nothing
 * but its timers), so a step is complete after the promise jobs already queued. Waiting for a later turn of the event
 * loop instead let other instances' steps in between: a lockdown's first job waited for them, and every engine lived
 * long enough to be promoted to the old generation.
 */
function settle(): Promise<void> {
  return Promise.resolve();
}
