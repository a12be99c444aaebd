// Reads a Camunda 8 BPMN file: checks what the embedded engine needs from it and prepares one runnable context per process.
import type { DeploymentProblem } from "../engine";
import { hasEventSubProcesses, rewriteEventSubProcesses, type RewriteResult } from "./event-subprocess";
import { feelSyntaxProblem, isFeel } from "./feel";
import { hasTriggeredStarts, rewriteStartEvents, type StartTrigger } from "./start-events";
import { BpmnModdle, bpmnElements, serializer, zeebeSchema, type ModdleElement, type SourceContext } from "./modules";

export interface IoMapping {
  source: string;
  target: string;
}

export interface JobModel {
  type: string;
  retries: number;
  headers: Record<string, string>;
}

export interface UserTaskModel {
  assignee: string | null;
  candidateGroups: string | null;
  formId: string | null;
}

export interface MultiInstanceModel {
  inputCollection: string;
  inputElement: string | null;
  outputCollection: string | null;
  outputElement: string | null;
}

export interface ElementModel {
  id: string;
  type: string;
  name: string | null;
  inputs: IoMapping[];
  outputs: IoMapping[];
  job: JobModel | null;
  userTask: UserTaskModel | null;
  multiInstance: MultiInstanceModel | null;
  message: { id: string; name: string; correlationKey: string | null } | null;
  signal: { id: string; name: string } | null;
  calledProcessId: string | null;
  propagateAllChildVariables: boolean;
}

export interface CompiledProcess {
  bpmnProcessId: string;
  resourceName: string;
  elements: Map<string, ElementModel>;
  /** Elements added to run event sub-processes and start events (see event-subprocess.ts, start-events.ts): not the author's, kept out of history. */
  helperIds: Set<string>;
  /** Message and signal start events (see start-events.ts); none when the process starts only by startInstance. */
  startTriggers: StartTrigger[];
  /** Whether startInstance can start it (it has a none start event). */
  hasNoneStart: boolean;
  sourceContext: SourceContext;
}

export interface CompiledResource {
  processes: CompiledProcess[];
  problems: DeploymentProblem[];
}

/** Tasks that hand work to a worker by zeebe:taskDefinition type. */
export const JOB_TASK_TYPES = new Set(["bpmn:ServiceTask", "bpmn:SendTask", "bpmn:BusinessRuleTask", "bpmn:ScriptTask"]);

/** bpmn-elements with the job tasks waiting for their worker the way a user task waits for its person. */
export const ENGINE_ELEMENTS: Record<string, unknown> = {
  ...bpmnElements,
  ServiceTask: bpmnElements.SignalTask,
  SendTask: bpmnElements.SignalTask,
  BusinessRuleTask: bpmnElements.SignalTask,
  ScriptTask: bpmnElements.SignalTask,
};

const typeResolver = serializer.TypeResolver(ENGINE_ELEMENTS);

function extensionValues(element: ModdleElement | undefined): ModdleElement[] {
  const extensionElements = element?.extensionElements as { values?: ModdleElement[] } | undefined;
  return extensionElements?.values ?? [];
}

function extension(element: ModdleElement | undefined, type: string): ModdleElement | undefined {
  return extensionValues(element).find((value) => value.$type === type);
}

function str(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

class ProblemList {
  readonly problems: DeploymentProblem[] = [];
  constructor(private readonly resourceName: string) {}
  add(elementId: string | null, message: string): void {
    this.problems.push({ resourceName: this.resourceName, elementId, message });
  }
  feel(elementId: string, what: string, text: string | null): void {
    if (!text || !isFeel(text)) return;
    const problem = feelSyntaxProblem(text);
    if (problem) this.add(elementId, `${what} "${text}" is not valid FEEL: ${problem}`);
  }
}

function mappings(element: ModdleElement, kind: "inputParameters" | "outputParameters"): IoMapping[] {
  const io = extension(element, "zeebe:IoMapping");
  const list = (io?.[kind] as ModdleElement[] | undefined) ?? [];
  return list.map((entry) => ({ source: String(entry.source ?? "=null"), target: String(entry.target ?? "") }));
}

function describeElement(element: ModdleElement, problems: ProblemList): ElementModel {
  const id = element.id ?? "";
  const model: ElementModel = {
    id,
    type: element.$type,
    name: str(element.name),
    inputs: mappings(element, "inputParameters"),
    outputs: mappings(element, "outputParameters"),
    job: null,
    userTask: null,
    multiInstance: null,
    message: null,
    signal: null,
    calledProcessId: null,
    propagateAllChildVariables: true,
  };
  for (const mapping of [...model.inputs, ...model.outputs]) {
    if (!mapping.target) problems.add(id, "an input/output mapping has no target");
    problems.feel(id, "mapping source", mapping.source);
  }
  if (JOB_TASK_TYPES.has(element.$type)) {
    const definition = extension(element, "zeebe:TaskDefinition");
    const type = str(definition?.type);
    if (!type) problems.add(id, `${element.$type.replace("bpmn:", "")} needs <zeebe:taskDefinition type="…"/> naming its worker`);
    const retries = definition?.retries === undefined ? 3 : Number(definition.retries);
    if (!Number.isInteger(retries) || retries < 0) problems.add(id, `zeebe:taskDefinition retries must be a whole number, got "${String(definition?.retries)}"`);
    const headers: Record<string, string> = {};
    for (const header of (extension(element, "zeebe:TaskHeaders")?.values as ModdleElement[] | undefined) ?? []) {
      headers[String(header.key)] = String(header.value ?? "");
    }
    model.job = { type: type ?? "", retries: Number.isInteger(retries) ? retries : 3, headers };
  }
  if (element.$type === "bpmn:UserTask") {
    const assignment = extension(element, "zeebe:AssignmentDefinition");
    const form = extension(element, "zeebe:FormDefinition");
    model.userTask = {
      assignee: str(assignment?.assignee),
      candidateGroups: str(assignment?.candidateGroups),
      formId: str(form?.formId) ?? str(form?.formKey),
    };
    problems.feel(id, "assignee", model.userTask.assignee);
    problems.feel(id, "candidateGroups", model.userTask.candidateGroups);
  }
  if (element.$type === "bpmn:CallActivity") {
    const called = extension(element, "zeebe:CalledElement");
    model.calledProcessId = str(called?.processId);
    if (!model.calledProcessId) problems.add(id, 'call activity needs <zeebe:calledElement processId="…"/>');
    model.propagateAllChildVariables = called?.propagateAllChildVariables !== false && called?.propagateAllChildVariables !== "false";
  }
  const loop = element.loopCharacteristics as ModdleElement | undefined;
  if (loop && loop.$type === "bpmn:MultiInstanceLoopCharacteristics") {
    const zeebeLoop = extension(loop, "zeebe:LoopCharacteristics");
    const inputCollection = str(zeebeLoop?.inputCollection);
    if (!inputCollection) problems.add(id, 'multi-instance needs <zeebe:loopCharacteristics inputCollection="=…"/>');
    problems.feel(id, "inputCollection", inputCollection);
    problems.feel(id, "outputElement", str(zeebeLoop?.outputElement));
    model.multiInstance = {
      inputCollection: inputCollection ?? "=[]",
      inputElement: str(zeebeLoop?.inputElement),
      outputCollection: str(zeebeLoop?.outputCollection),
      outputElement: str(zeebeLoop?.outputElement),
    };
  }
  const eventDefinitions = (element.eventDefinitions as ModdleElement[] | undefined) ?? [];
  const messageRef = (element.messageRef as ModdleElement | undefined) ??
    (eventDefinitions.find((definition) => definition.$type === "bpmn:MessageEventDefinition")?.messageRef as ModdleElement | undefined);
  const catchesMessage = element.$type === "bpmn:ReceiveTask" || eventDefinitions.some((d) => d.$type === "bpmn:MessageEventDefinition");
  const isThrow = element.$type === "bpmn:IntermediateThrowEvent" || element.$type === "bpmn:EndEvent";
  if (catchesMessage && !isThrow) {
    if (!messageRef) problems.add(id, "message event has no message");
    else {
      const name = str(messageRef.name);
      const correlationKey = str(extension(messageRef, "zeebe:Subscription")?.correlationKey);
      if (!name) problems.add(id, `message ${messageRef.id ?? ""} has no name`);
      const isProcessStart = element.$type === "bpmn:StartEvent";
      if (!correlationKey && !isProcessStart) {
        problems.add(id, `message ${name ?? messageRef.id ?? ""} needs <zeebe:subscription correlationKey="=…"/>`);
      }
      problems.feel(id, "correlationKey", correlationKey);
      model.message = { id: String(messageRef.id), name: name ?? "", correlationKey };
    }
  }
  const signalDefinition = eventDefinitions.find((definition) => definition.$type === "bpmn:SignalEventDefinition");
  if (signalDefinition) {
    const signalRef = signalDefinition.signalRef as ModdleElement | undefined;
    if (!signalRef || !str(signalRef.name)) problems.add(id, "signal event has no named signal");
    else model.signal = { id: String(signalRef.id), name: String(signalRef.name) };
  }
  const timer = eventDefinitions.find((definition) => definition.$type === "bpmn:TimerEventDefinition");
  if (timer) {
    const body = ["timeDuration", "timeDate", "timeCycle"]
      .map((kind) => (timer[kind] as ModdleElement | undefined)?.body)
      .find((value) => typeof value === "string") as string | undefined;
    if (!body) problems.add(id, "timer has no timeDuration, timeDate or timeCycle");
    else problems.feel(id, "timer", body.trim());
  }
  return model;
}

function collectElements(container: ModdleElement, into: Map<string, ElementModel>, problems: ProblemList): void {
  for (const element of (container.flowElements as ModdleElement[] | undefined) ?? []) {
    if (element.$type === "bpmn:SequenceFlow") {
      const condition = element.conditionExpression as ModdleElement | undefined;
      if (condition && typeof condition.body === "string") problems.feel(element.id ?? "", "condition", condition.body.trim());
      continue;
    }
    into.set(element.id ?? "", describeElement(element, problems));
    if (element.flowElements) collectElements(element, into, problems);
  }
}

/** FEEL conditions and timers arrive in bpmn-elements as expressions; trimmed bodies keep `=` first. */
function trimExpressionBodies(definitions: ModdleElement): void {
  const visit = (element: ModdleElement) => {
    for (const flow of (element.flowElements as ModdleElement[] | undefined) ?? []) {
      const condition = flow.conditionExpression as ModdleElement | undefined;
      if (condition && typeof condition.body === "string") condition.body = condition.body.trim();
      for (const definition of (flow.eventDefinitions as ModdleElement[] | undefined) ?? []) {
        for (const kind of ["timeDuration", "timeDate", "timeCycle"]) {
          const expression = definition[kind] as ModdleElement | undefined;
          if (expression && typeof expression.body === "string") expression.body = expression.body.trim();
        }
      }
      visit(flow);
    }
  };
  for (const root of (definitions.rootElements as ModdleElement[] | undefined) ?? []) visit(root);
}

function prepareContext(moddleContext: unknown, bpmnProcessId: string, models: Map<string, ElementModel>): SourceContext {
  const context = serializer.default(moddleContext, typeResolver);
  // bpmn-engine's getState writes the whole model into every saved state; ours never carry it (the deployment row
  // holds it), so writing it only to drop it again is skipped.
  context.serialize = () => undefined;
  const internal = context;
  for (const process of internal.elements.processes) process.behaviour.isExecutable = process.id === bpmnProcessId;
  for (const activity of internal.elements.activities) {
    const multiInstance = models.get(activity.id)?.multiInstance;
    const loop = activity.behaviour.loopCharacteristics;
    if (!multiInstance || !loop) continue;
    loop.behaviour.collection = multiInstance.inputCollection;
    loop.behaviour.elementVariable = multiInstance.inputElement ?? "item";
  }
  return context;
}

export async function compileResource(resourceName: string, xml: string): Promise<CompiledResource> {
  const problems = new ProblemList(resourceName);
  const moddle = new BpmnModdle({ zeebe: zeebeSchema });
  let parsed: Awaited<ReturnType<InstanceType<typeof BpmnModdle>["fromXML"]>>;
  try {
    parsed = await moddle.fromXML(xml);
  } catch (err) {
    problems.add(null, `not readable BPMN XML: ${(err instanceof Error ? err.message : String(err)).split("\n")[0]}`);
    return { processes: [], problems: problems.problems };
  }
  for (const warning of parsed.warnings) {
    problems.add(warning.element?.id ?? null, warning.message.split("\n")[0]);
  }
  const executableIn = (root: ModdleElement) =>
    ((root.rootElements as ModdleElement[] | undefined) ?? []).filter((element) => element.$type === "bpmn:Process" && element.isExecutable === true);
  const toRewrite = executableIn(parsed.rootElement).filter((process) => hasTriggeredStarts(process) || hasEventSubProcesses(process));
  const unrunnable = new Set<string>();
  const helperIds = new Map<string, Set<string>>();
  const startTriggers = new Map<string, { triggers: StartTrigger[]; hasNoneStart: boolean }>();
  if (toRewrite.length > 0 && parsed.warnings.length === 0) {
    // Rewritten on the object tree, then written out and read again so every reference is resolved as in a file.
    for (const process of toRewrite) {
      const id = process.id ?? "";
      const helpers = new Set<string>();
      const rewrites: RewriteResult[] = [];
      if (hasTriggeredStarts(process)) {
        const starts = rewriteStartEvents(moddle, process);
        startTriggers.set(id, { triggers: starts.triggers, hasNoneStart: starts.hasNoneStart });
        rewrites.push(starts);
      }
      if (hasEventSubProcesses(process)) rewrites.push(rewriteEventSubProcesses(moddle, process));
      for (const rewrite of rewrites) {
        for (const problem of rewrite.problems) problems.add(problem.elementId, problem.message);
        if (rewrite.problems.length > 0) unrunnable.add(id);
        for (const helperId of rewrite.helperIds) helpers.add(helperId);
      }
      helperIds.set(id, helpers);
    }
    parsed = await moddle.fromXML((await moddle.toXML(parsed.rootElement)).xml);
  }
  const executable = executableIn(parsed.rootElement);
  if (executable.length === 0) problems.add(null, 'no executable process (isExecutable="true")');
  const compiled: CompiledProcess[] = [];
  trimExpressionBodies(parsed.rootElement);
  for (const process of executable) {
    const models = new Map<string, ElementModel>();
    const before = problems.problems.length;
    collectElements(process, models, problems);
    if (problems.problems.length > before || parsed.warnings.length > 0 || unrunnable.has(process.id ?? "")) continue;
    try {
      compiled.push({
        bpmnProcessId: process.id ?? "",
        resourceName,
        elements: models,
        helperIds: helperIds.get(process.id ?? "") ?? new Set(),
        startTriggers: startTriggers.get(process.id ?? "")?.triggers ?? [],
        hasNoneStart: startTriggers.get(process.id ?? "")?.hasNoneStart ?? true,
        sourceContext: prepareContext(parsed, process.id ?? "", models),
      });
    } catch (err) {
      problems.add(process.id ?? null, err instanceof Error ? err.message : String(err));
    }
  }
  return { processes: compiled, problems: problems.problems };
}
