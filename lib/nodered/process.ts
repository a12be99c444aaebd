// The process-engine config node as the process nodes see it.
import type { Node } from "node-red";
import { errorMessage } from "../errors";
import { shortReason } from "./status";
import type { DeploymentReport, ProcessHost } from "../process/host";

export interface ProcessEngineNode extends Node {
  schoolId: string;
  /** The engine with every BPMN file deployed; rejects with the reason it cannot run. */
  host(): Promise<ProcessHost>;
  /** What the start-up deployment did (deployed processes, problems by file and element). */
  deployment(): Promise<DeploymentReport>;
}

/** Reads a config node reference that must be a process-engine node. */
export function processEngineNode(getNode: (id: string) => Node | null, id: string | undefined): ProcessEngineNode | null {
  const node = id ? (getNode(id) as ProcessEngineNode | null) : null;
  return node && typeof node.host === "function" ? node : null;
}

/** msg.payload when it is a plain object (variables for the engine), else an empty object. */
export function variablesOf(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !Buffer.isBuffer(value) ? { ...(value as Record<string, unknown>) } : {};
}

/** A non-empty string from the first of the candidates that has one. */
export function firstText(...candidates: unknown[]): string | null {
  for (const candidate of candidates) {
    if (typeof candidate === "string" && candidate.trim() !== "") return candidate.trim();
    if (typeof candidate === "number" && Number.isFinite(candidate)) return String(candidate);
  }
  return null;
}

/** Ends an input handler's work: done() on success; on failure the node shows the reason and done(err) reaches Catch nodes. */
export function settleInput(work: Promise<void>, done: (err?: Error) => void, showFailure: (reason: string) => void): void {
  work.then(
    () => done(),
    (err: unknown) => {
      showFailure(shortReason(errorMessage(err)));
      done(err as Error);
    },
  );
}
