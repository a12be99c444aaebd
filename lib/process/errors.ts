// Typed errors of the process engine: broken BPMN, unknown processes, tasks and jobs in the wrong state.
import { SafetyFlowsError } from "../errors";

/** A BPMN file that cannot be deployed; names the file and, where one is to blame, the element. */
export class ProcessDefinitionError extends SafetyFlowsError {
  readonly i18nKey = "errors.processDefinition";
  constructor(
    message: string,
    readonly resourceName: string,
    readonly elementId: string | null,
    options?: { cause?: unknown },
  ) {
    super(`${resourceName}${elementId ? ` (element ${elementId})` : ""}: ${message}`, options);
  }
}

/** A process id, instance, task, job or incident the engine does not know. */
export class ProcessNotFoundError extends SafetyFlowsError {
  readonly i18nKey = "errors.processNotFound";
}

/** An action that does not fit the current state: completing a completed task, claiming someone else's task. */
export class ProcessStateError extends SafetyFlowsError {
  readonly i18nKey = "errors.processState";
}
