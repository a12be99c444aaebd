// Child process for speedups.spec: runs every fixture through bpmn-engine step by step (the way the embedded engine
// does, saving and rebuilding the instance between steps) and prints what happened, with generated ids and times
// replaced by their order of appearance, so a run with the speedups and one without can be compared.
import { speedupsInstalled } from "../../../lib/process/embedded/speedups";
import { InstanceRun, type Wait } from "../../../lib/process/embedded/instance-run";
import { compileResource } from "../../../lib/process/embedded/model";
import { allFixtures } from "./support";

const MAX_STEPS = 40;

/** Generated ids (`<element>_<id>`, `smq.<kind>-<id>`) and clock readings differ between runs; their order does not. */
function normalise(text: string): string {
  const seen = new Map<string, string>();
  return text
    .replace(/("(?:timestamp|expireAt|startedAt|timeout|ttl|expires|now)":)(?:"[^"]*"|\d+)/g, "$1<time>")
    .replace(/(smq\.[a-z]+-|_)[0-9a-f]{6}[0-9a-z]*/g, (id, kind: string) => {
      if (!seen.has(id)) seen.set(id, `${kind}#${seen.size}`);
      return seen.get(id) as string;
    });
}

function describeWaits(run: InstanceRun): string[] {
  return [...run.waits.values()].map((wait) => `${wait.kind}:${wait.elementId}:${wait.loopIndex ?? "-"}`).sort();
}

/** The next thing a person or worker would finish: jobs and user tasks in element order, then messages and signals. */
function nextWait(run: InstanceRun): Wait | undefined {
  const order = ["job", "user-task", "message", "signal"];
  return [...run.waits.values()]
    .filter((wait) => order.includes(wait.kind))
    .sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.elementId.localeCompare(b.elementId) || (a.loopIndex ?? 0) - (b.loopIndex ?? 0))[0];
}

async function runFixture(name: string, xml: string): Promise<Record<string, unknown>> {
  const compiled = await compileResource(name, xml);
  const results: Record<string, unknown> = {};
  for (const process of compiled.processes) {
    const steps: unknown[] = [];
    const variables = { incidentId: "INC-1", classes: ["a", "b", "c"], verifyWithin: "PT1H", alarmKind: "panic" };
    let run = new InstanceRun(process, "instance", variables);
    await run.open(null);
    for (let step = 0; step < MAX_STEPS && !run.completed && !run.failure; step += 1) {
      const state = await run.compactState();
      steps.push({ waits: describeWaits(run), history: run.history.map((note) => `${note.action}:${note.elementId}`), state: normalise(state) });
      const wait = nextWait(run);
      if (!wait) break;
      // Every step starts from the saved state, as after an eviction.
      await run.evict();
      const saved = run;
      run = new InstanceRun(process, "instance", { ...saved.variables });
      await run.open(state);
      const result = { [`${wait.elementId}Done`]: true };
      if (wait.kind === "message" && wait.element?.message) run.apply({ kind: "message", elementId: wait.elementId, messageRefId: wait.element.message.id, result });
      else if (wait.kind === "signal" && wait.element?.signal) run.apply({ kind: "signal", signalRefId: wait.element.signal.id, result });
      else run.apply({ kind: "complete", elementId: wait.elementId, executionId: wait.executionId, result, loopIndex: wait.loopIndex, localVariables: wait.localVariables });
      await run.runToWait();
    }
    steps.push({ completed: run.completed, failure: run.failure?.error.message ?? null, waits: describeWaits(run), variables: run.variables });
    await run.evict();
    results[process.bpmnProcessId] = steps;
  }
  return results;
}

async function main(): Promise<void> {
  const report: Record<string, unknown> = { speedups: speedupsInstalled() };
  for (const resource of allFixtures()) report[resource.name] = await runFixture(resource.name, resource.xml);
  // A pipe takes a large write in pieces: exit only once all of it is out.
  await new Promise<void>((resolve) => process.stdout.write(`${JSON.stringify(report)}\n`, () => resolve()));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
