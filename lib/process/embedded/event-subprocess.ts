// Event sub-processes as bpmn-elements runs them: bpmn-elements never arms the start event of an event sub-process, so
// before the model is read each scope that has them is rewritten into a shape it does run, with the same behaviour:
//
//   scope: [main flow…] + event sub-process E (start S with trigger T, interrupting or not)
//   becomes
//   scope: start → <scope>__body (an embedded sub-process holding the main flow) → end
//          <E>__trigger: a boundary event on <scope>__body with T, cancelActivity = S is interrupting
//          <E>__trigger → E, now a plain embedded sub-process whose start S has no trigger
//
// The body is entered when the scope is, so the trigger is armed then (a message's correlation key is read then, a
// timer counts from then), as Camunda 8 does. An interrupting trigger ends the main flow and the scope goes on with
// E; a non-interrupting one runs E beside it. Element ids of the main flow and of E are kept, so tasks, jobs, history
// and saved states name the elements the author drew.
import type { ModdleElement } from "./modules";

export interface ModdleFactory {
  create(type: string, properties?: Record<string, unknown>): ModdleElement;
}

const TRIGGERS = new Set(["bpmn:MessageEventDefinition", "bpmn:TimerEventDefinition", "bpmn:SignalEventDefinition", "bpmn:ErrorEventDefinition"]);

export interface EventSubProcessProblem {
  elementId: string;
  message: string;
}

function flowElements(container: ModdleElement): ModdleElement[] {
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

function rewriteScope(moddle: ModdleFactory, scope: ModdleElement, result: RewriteResult): void {
  const problems = result.problems;
  for (const element of flowElements(scope)) if (element.$type === "bpmn:SubProcess") rewriteScope(moddle, element, result);
  const eventSubProcesses = flowElements(scope).filter(isEventSubProcess);
  if (eventSubProcesses.length === 0) return;
  const scopeId = scope.id ?? "process";
  const main = flowElements(scope).filter((element) => !isEventSubProcess(element));
  const body = moddle.create("bpmn:SubProcess", { id: `${scopeId}__body`, name: scope.name, flowElements: main });
  const start = moddle.create("bpmn:StartEvent", { id: `${scopeId}__start` });
  const end = moddle.create("bpmn:EndEvent", { id: `${scopeId}__end` });
  result.helperIds.push(start.id ?? "", body.id ?? "", end.id ?? "");
  const elements: ModdleElement[] = [
    start,
    body,
    end,
    moddle.create("bpmn:SequenceFlow", { id: `${scopeId}__to-body`, sourceRef: start, targetRef: body }),
    moddle.create("bpmn:SequenceFlow", { id: `${scopeId}__from-body`, sourceRef: body, targetRef: end }),
  ];
  for (const eventSubProcess of eventSubProcesses) {
    const id = eventSubProcess.id ?? "";
    const starts = flowElements(eventSubProcess).filter((element) => element.$type === "bpmn:StartEvent");
    const trigger = starts.length === 1 ? ((starts[0].eventDefinitions as ModdleElement[] | undefined) ?? []) : [];
    if (starts.length !== 1 || trigger.length !== 1 || !TRIGGERS.has(trigger[0].$type)) {
      problems.push({
        elementId: id,
        message: "an event sub-process needs exactly one start event with a message, timer, signal or error trigger",
      });
      continue;
    }
    const startEvent = starts[0];
    const boundary = moddle.create("bpmn:BoundaryEvent", {
      id: `${id}__trigger`,
      name: startEvent.name,
      attachedToRef: body,
      // Error triggers always interrupt; the others as the start event says (BPMN's default: interrupting).
      cancelActivity: trigger[0].$type === "bpmn:ErrorEventDefinition" || startEvent.isInterrupting !== false,
      eventDefinitions: trigger,
      extensionElements: startEvent.extensionElements,
    });
    result.helperIds.push(boundary.id ?? "");
    startEvent.eventDefinitions = [];
    startEvent.isInterrupting = undefined;
    eventSubProcess.triggeredByEvent = false;
    elements.push(boundary, eventSubProcess, moddle.create("bpmn:SequenceFlow", { id: `${id}__triggered`, sourceRef: boundary, targetRef: eventSubProcess }));
  }
  scope.flowElements = elements;
}
