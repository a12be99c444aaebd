// Shared steps for the process-engine scenarios: an engine on a test store with the fixtures deployed, and waiting.
import fs from "node:fs";
import path from "node:path";
import { EmbeddedProcessEngine, type BpmnResource } from "../../../lib/process";
import type { Store } from "../../../lib/store";

/** Source folders, resolved from the compiled spec's location (dist/test/lib/process). */
export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..", "..");
export const FIXTURES = path.join(REPO_ROOT, "test", "lib", "process", "fixtures");
export const BROKEN_FIXTURES = path.join(REPO_ROOT, "test", "lib", "process", "broken");

export function fixture(name: string, folder = FIXTURES): BpmnResource {
  return { name, xml: fs.readFileSync(path.join(folder, name), "utf8") };
}

export function allFixtures(): BpmnResource[] {
  return fs
    .readdirSync(FIXTURES)
    .filter((file) => file.endsWith(".bpmn"))
    .sort()
    .map((file) => fixture(file));
}

export async function engineWithFixtures(store: Store, options: { timerPollMs?: number; defaultJobTimeoutMs?: number } = {}): Promise<EmbeddedProcessEngine> {
  const engine = await EmbeddedProcessEngine.open({ store, ...options });
  const result = await engine.deploy(allFixtures());
  if (result.problems.length > 0) throw new Error(`fixtures did not deploy: ${JSON.stringify(result.problems)}`);
  return engine;
}

export async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last = await probe();
  while (!accept(last)) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    last = await probe();
  }
  return last;
}

let counter = 0;
export function incidentId(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now()}-${counter}`;
}
