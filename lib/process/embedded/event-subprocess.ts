// Event sub-processes as bpmn-elements runs them: bpmn-elements never arms the start event of an event sub-process, so
// before the model is read each scope that has them is rewritten into a shape it does run, with the same behaviour:
//
//   scope: [main flow…] + event sub-processes I (interrupting) and N (non-interrupting), each a start with trigger T
//   becomes
//   scope: start → <scope>__body (an embedded sub-process holding the main flow) → end
//          <I>__trigger: an interrupting boundary event with T → I, now a plain embedded sub-process
//          <N>__trigger: a non-interrupting boundary event on <scope>__body with T → N, likewise
//
// When the scope has both kinds, the body and every N with its trigger sit inside one more sub-process,
// <scope>__scope, and the interrupting triggers are on that: an interrupting event sub-process then also ends the
// non-interrupting ones that are running, as BPMN has it. (With one kind only, the triggers are all on the body.)
//
// The body is entered when the scope is, so the triggers are armed then (a message's correlation key is read then, a
// timer counts from then), as Camunda 8 does. An interrupting trigger ends the main flow and the scope goes on with
// I; a non-interrupting one runs N beside it. Element ids of the main flow and of the event sub-processes are kept, so
// tasks, jobs, history and saved states name the elements the author drew.
import type { ModdleElement } from "./modules";

export interface ModdleFactory {
  create(type: string, properties?: Record<string, unknown>): ModdleElement;
}

const TRIGGERS = new Set(["bpmn:MessageEventDefinition", "bpmn:TimerEventDefinition", "bpmn:SignalEventDefinition", "bpmn:ErrorEventDefinition"]);

export interface EventSubProcessProblem {
  elementId: string;
  message: string;
}

export function flowElements(container: ModdleElement): ModdleElement[] {
  return (container.flowElements as ModdleElement[] | undefined) ?? [];
}

function isEventSubProcess(element: ModdleElement): boolean {
  return element.$type === "bpmn:SubProcess" && element.triggeredByEvent === true;
}

/** True when some scope under `root` (a process) has an event sub-process. */
export function hasEventSubProcesses(root: ModdleElement): boolean {
  return flowElements(root).some((element) => isEventSubProcess(element) || (element.$type === "bpmn:SubProcess" && hasEventSubProcesses(element)));
}

export interface RewriteResult {
  /** What could not be rewritten (the process is not runnable then). */
  problems: EventSubProcessProblem[];
  /** Ids of the elements the rewrite added: kept out of the instance's history. */
  helperIds: string[];
}

/** Rewrites every scope of `process` that has event sub-processes. */
export function rewriteEventSubProcesses(moddle: ModdleFactory, process: ModdleElement): RewriteResult {
  const result: RewriteResult = { problems: [], helperIds: [] };
  rewriteScope(moddle, process, result);
  return result;
}

interface Triggered {
  eventSubProcess: ModdleElement;
  trigger: ModdleElement;
  startEvent: ModdleElement;
  interrupting: boolean;
}

/**
 * A sub-process holding `inner`, entered from a start event and left through an end event, all helpers with the ids
 * given (the body's are the ids saved states of running instances already name).
 */
function wrap(
  moddle: ModdleFactory,
  ids: { scope: string; start: string; end: string; in: string; out: string },
  name: unknown,
  inner: ModdleElement[],
  result: RewriteResult,
): ModdleElement[] {
  const scope = moddle.create("bpmn:SubProcess", { id: ids.scope, name, flowElements: inner });
  const start = moddle.create("bpmn:StartEvent", { id: ids.start });
  const end = moddle.create("bpmn:EndEvent", { id: ids.end });
  result.helperIds.push(ids.scope, ids.start, ids.end);
  return [
    scope,
    start,
    end,
    moddle.create("bpmn:SequenceFlow", { id: ids.in, sourceRef: start, targetRef: scope }),
    moddle.create("bpmn:SequenceFlow", { id: ids.out, sourceRef: scope, targetRef: end }),
  ];
}

/** The boundary event that starts `triggered` when the activity it is attached to runs, and the flow into it. */
function triggerOn(moddle: ModdleFactory, attachedTo: ModdleElement, triggered: Triggered, result: RewriteResult): ModdleElement[] {
  const id = triggered.eventSubProcess.id ?? "";
  const boundary = moddle.create("bpmn:BoundaryEvent", {
    id: `${id}__trigger`,
    name: triggered.startEvent.name,
    attachedToRef: attachedTo,
    cancelActivity: triggered.interrupting,
    eventDefinitions: [triggered.trigger],
    extensionElements: triggered.startEvent.extensionElements,
  });
  result.helperIds.push(boundary.id ?? "");
  triggered.startEvent.eventDefinitions = [];
  triggered.startEvent.isInterrupting = undefined;
  triggered.eventSubProcess.triggeredByEvent = false;
  return [boundary, moddle.create("bpmn:SequenceFlow", { id: `${id}__triggered`, sourceRef: boundary, targetRef: triggered.eventSubProcess })];
}

function rewriteScope(moddle: ModdleFactory, scope: ModdleElement, result: RewriteResult): void {
  for (const element of flowElements(scope)) if (element.$type === "bpmn:SubProcess") rewriteScope(moddle, element, result);
  const eventSubProcesses = flowElements(scope).filter(isEventSubProcess);
  if (eventSubProcesses.length === 0) return;
  const scopeId = scope.id ?? "process";
  const triggered: Triggered[] = [];
  for (const eventSubProcess of eventSubProcesses) {
    const starts = flowElements(eventSubProcess).filter((element) => element.$type === "bpmn:StartEvent");
    const trigger = starts.length === 1 ? ((starts[0].eventDefinitions as ModdleElement[] | undefined) ?? []) : [];
    if (starts.length !== 1 || trigger.length !== 1 || !TRIGGERS.has(trigger[0].$type)) {
      result.problems.push({
        elementId: eventSubProcess.id ?? "",
        message: "an event sub-process needs exactly one start event with a message, timer, signal or error trigger",
      });
      continue;
    }
    // Error triggers always interrupt; the others as the start event says (BPMN's default: interrupting).
    const interrupting = trigger[0].$type === "bpmn:ErrorEventDefinition" || starts[0].isInterrupting !== false;
    triggered.push({ eventSubProcess, trigger: trigger[0], startEvent: starts[0], interrupting });
  }
  const main = flowElements(scope).filter((element) => !isEventSubProcess(element));
  const bodyLevel = wrap(
    moddle,
    { scope: `${scopeId}__body`, start: `${scopeId}__start`, end: `${scopeId}__end`, in: `${scopeId}__to-body`, out: `${scopeId}__from-body` },
    scope.name,
    main,
    result,
  );
  const body = bodyLevel[0];
  const interrupting = triggered.filter((entry) => entry.interrupting);
  const beside = triggered.filter((entry) => !entry.interrupting);
  for (const entry of beside) bodyLevel.push(...triggerOn(moddle, body, entry, result), entry.eventSubProcess);
  if (interrupting.length === 0 || beside.length === 0) {
    for (const entry of interrupting) bodyLevel.push(...triggerOn(moddle, body, entry, result), entry.eventSubProcess);
    scope.flowElements = bodyLevel;
    return;
  }
  const elements = wrap(
    moddle,
    { scope: `${scopeId}__scope`, start: `${scopeId}__scope-start`, end: `${scopeId}__scope-end`, in: `${scopeId}__to-scope`, out: `${scopeId}__from-scope` },
    scope.name,
    bodyLevel,
    result,
  );
  for (const entry of interrupting) elements.push(...triggerOn(moddle, elements[0], entry, result), entry.eventSubProcess);
  scope.flowElements = elements;
}
