// Message and signal start events of a process, as bpmn-elements runs them: bpmn-elements starts every start event of
// a process at once (the none start runs on while the message and signal starts sit waiting), so at deploy a process
// that has message or signal start events is rewritten into a shape that starts at one of them only:
//
//   start events S1 (none), S2 (message), S3 (signal), each with its outgoing flows
//   becomes
//   <process>__route-start (none) → <process>__start-route (exclusive gateway)
//     → S1 (default flow), → S2 when `__startedBy = "S2"`, → S3 when `__startedBy = "S3"`
//   where each Si is now an intermediate throw event (no trigger) with the same id and the same outgoing flows.
//
// The engine starts such a process with `__startedBy` naming the start event the message or signal matched (none for
// a plain start) and drops the variable once the instance has left the gateway. Element ids are kept, so history names
// the start event the author drew.
import type { ModdleElement } from "./modules";
import { flowElements, type EventSubProcessProblem, type ModdleFactory } from "./event-subprocess";

/** The variable the route's conditions read: the id of the start event an instance was started at. */
export const STARTED_BY = "__startedBy";

export interface StartTrigger {
  elementId: string;
  kind: "message" | "signal";
  name: string;
}

export interface StartEventsRewrite {
  /** The message and signal start events, with their message's or signal's name. */
  triggers: StartTrigger[];
  /** Whether the process also has a none start event (startInstance needs one). */
  hasNoneStart: boolean;
  helperIds: string[];
  problems: EventSubProcessProblem[];
}

function triggerOf(start: ModdleElement): ModdleElement | undefined {
  return ((start.eventDefinitions as ModdleElement[] | undefined) ?? [])[0];
}

/** True when the process has a message or signal start event of its own (not one of an event sub-process). */
export function hasTriggeredStarts(process: ModdleElement): boolean {
  return flowElements(process).some((element) => element.$type === "bpmn:StartEvent" && triggerOf(element) !== undefined);
}

export function rewriteStartEvents(moddle: ModdleFactory, process: ModdleElement): StartEventsRewrite {
  const processId = process.id ?? "process";
  const result: StartEventsRewrite = { triggers: [], hasNoneStart: false, helperIds: [], problems: [] };
  const starts = flowElements(process).filter((element) => element.$type === "bpmn:StartEvent");
  const flows = flowElements(process).filter((element) => element.$type === "bpmn:SequenceFlow");
  const routeStart = moddle.create("bpmn:StartEvent", { id: `${processId}__route-start` });
  const route = moddle.create("bpmn:ExclusiveGateway", { id: `${processId}__start-route` });
  result.helperIds.push(routeStart.id ?? "", route.id ?? "");
  const added: ModdleElement[] = [routeStart, route, moddle.create("bpmn:SequenceFlow", { id: `${processId}__to-route`, sourceRef: routeStart, targetRef: route })];
  const replaced = new Map<ModdleElement, ModdleElement>();
  for (const start of starts) {
    const id = start.id ?? "";
    const trigger = triggerOf(start);
    if (trigger) {
      const definitions = (start.eventDefinitions as ModdleElement[]).length;
      const reference = trigger.$type === "bpmn:MessageEventDefinition" ? (trigger.messageRef as ModdleElement | undefined) : (trigger.signalRef as ModdleElement | undefined);
      const name = typeof reference?.name === "string" ? reference.name : "";
      if (definitions !== 1 || (trigger.$type !== "bpmn:MessageEventDefinition" && trigger.$type !== "bpmn:SignalEventDefinition")) {
        result.problems.push({ elementId: id, message: "a process can start by a message or a signal; this start event has another trigger" });
        continue;
      }
      if (!name) {
        result.problems.push({ elementId: id, message: `the ${trigger.$type === "bpmn:MessageEventDefinition" ? "message" : "signal"} of this start event has no name` });
        continue;
      }
      result.triggers.push({ elementId: id, kind: trigger.$type === "bpmn:MessageEventDefinition" ? "message" : "signal", name });
    } else {
      if (result.hasNoneStart) {
        result.problems.push({ elementId: id, message: "a process can have one none start event" });
        continue;
      }
      result.hasNoneStart = true;
    }
    // The start event becomes a pass-through with the same id, name and outgoing flows.
    const passThrough = moddle.create("bpmn:IntermediateThrowEvent", { id, name: start.name, extensionElements: start.extensionElements });
    replaced.set(start, passThrough);
    const routed = moddle.create("bpmn:SequenceFlow", { id: `${id}__routed`, sourceRef: route, targetRef: passThrough });
    if (trigger) {
      routed.conditionExpression = moddle.create("bpmn:FormalExpression", { body: `=${STARTED_BY} = ${JSON.stringify(id)}` });
    } else {
      route.default = routed;
    }
    result.helperIds.push(routed.id ?? "");
    added.push(routed);
  }
  for (const flow of flows) {
    const source = replaced.get(flow.sourceRef as ModdleElement);
    if (source) flow.sourceRef = source;
  }
  process.flowElements = [...flowElements(process).map((element) => replaced.get(element) ?? element), ...added];
  return result;
}
