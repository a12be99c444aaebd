// What runs beside a school's engine in Node-RED: its deployed BPMN and forms, the jobs flows hold, and the lookup the
// task-list API uses to find a school's engine.
import path from "node:path";
import type { Store } from "../store";
import type { DeploymentProblem, DeployedProcess, ProcessEngine } from "./engine";
import { FormRegistry } from "./forms";
import { PendingJobs } from "./pending-jobs";
import { readBpmnFolder } from "./resources";

export interface DeploymentReport {
  deployed: DeployedProcess[];
  /** Files and elements that could not be deployed; the rest deployed all the same. */
  problems: DeploymentProblem[];
  forms: string[];
  formProblems: Array<{ file: string; message: string }>;
}

export interface ProcessHost {
  engine: ProcessEngine;
  store: Store;
  schoolId: string;
  forms: FormRegistry;
  jobs: PendingJobs;
}

const hosts = new WeakMap<ProcessEngine, ProcessHost>();
const bySchool = new Map<string, ProcessHost>();

export function hostFor(engine: ProcessEngine, store: Store, schoolId: string): ProcessHost {
  let host = hosts.get(engine);
  if (!host) {
    host = { engine, store, schoolId, forms: new FormRegistry(), jobs: new PendingJobs() };
    hosts.set(engine, host);
  }
  bySchool.set(schoolId, host);
  return host;
}

/** The host of a school's engine, for the task-list API; undefined when no engine of that school runs. */
export function hostOfSchool(schoolId: string): ProcessHost | undefined {
  return bySchool.get(schoolId);
}

export function allHosts(): ProcessHost[] {
  return [...bySchool.values()];
}

export function forgetHost(host: ProcessHost): void {
  if (bySchool.get(host.schoolId) === host) bySchool.delete(host.schoolId);
}

/**
 * Deploys every `*.bpmn` and loads every `*.form` of the given folders (later folders override earlier forms with the
 * same id). A broken file is reported with its file and element; the others deploy.
 */
export async function deployFolders(host: ProcessHost, folders: string[]): Promise<DeploymentReport> {
  const report: DeploymentReport = { deployed: [], problems: [], forms: [], formProblems: [] };
  for (const folder of folders) {
    const base = path.dirname(folder);
    const read = readBpmnFolder(folder, base);
    report.problems.push(...read.problems.map((problem) => ({ resourceName: problem.file, elementId: null, message: problem.message })));
    if (read.resources.length > 0) {
      const result = await host.engine.deploy(read.resources);
      report.deployed.push(...result.deployed);
      report.problems.push(...result.problems);
    }
    const forms = host.forms.loadDirectory(folder);
    report.forms.push(...forms.loaded.map((form) => form.id));
    report.formProblems.push(...forms.problems);
  }
  return report;
}
