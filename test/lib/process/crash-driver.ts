// Child process for the SIGKILL trials: `work <db>` drives door drills and prints an ack after each saved step;
// `finish <db>` reopens the store, finishes whatever is left and prints every instance's end state as JSON.
import { EmbeddedProcessEngine } from "../../../lib/process";
import { Store } from "../../../lib/store";
import { fixture } from "./support";

const CONCURRENT_DRILLS = 4;

async function openEngine(filename: string): Promise<{ store: Store; engine: EmbeddedProcessEngine }> {
  const store = await Store.open({ dialect: "sqlite", filename });
  const engine = await EmbeddedProcessEngine.open({ store, timerPollMs: 200 });
  const deployed = await engine.deploy([fixture("door-drill.bpmn")]);
  if (deployed.problems.length > 0) throw new Error(JSON.stringify(deployed.problems));
  engine.registerWorker("lock-doors", async (job) => job.complete({ doorLocked: true }));
  return { store, engine };
}

async function drill(engine: EmbeddedProcessEngine, key: string): Promise<void> {
  const { instanceId } = await engine.startInstance({ bpmnProcessId: "door-drill", businessKey: key, variables: { incidentId: key } });
  process.stdout.write(`ack start ${key} ${instanceId}\n`);
  let tasks = await engine.listUserTasks({ businessKey: key });
  while (tasks.length === 0) {
    await new Promise((resolve) => setTimeout(resolve, 2));
    tasks = await engine.listUserTasks({ businessKey: key });
  }
  await engine.completeUserTask(tasks[0].key, { confirmedBy: "driver" }, "driver");
  process.stdout.write(`ack task ${key}\n`);
  const published = await engine.publishMessage({ name: "drill-observed", correlationKey: key, variables: { observedBy: "driver" } });
  if (published.correlatedInstanceIds.length > 0) process.stdout.write(`ack message ${key}\n`);
}

async function work(filename: string, trial: string): Promise<void> {
  const { engine } = await openEngine(filename);
  process.stdout.write("ready\n");
  let next = 0;
  const lane = async () => {
    for (;;) await drill(engine, `${trial}-${next++}`);
  };
  await Promise.all(Array.from({ length: CONCURRENT_DRILLS }, lane));
}

async function finish(filename: string): Promise<void> {
  const { store, engine } = await openEngine(filename);
  const until = Date.now() + 15000;
  for (;;) {
    const active = await store.processes.instances({ schoolId: "default", status: "active" });
    if (active.length === 0 || Date.now() > until) break;
    for (const instance of active) {
      for (const task of await engine.listUserTasks({ instanceId: instance.id })) {
        await engine.completeUserTask(task.key, { confirmedBy: "finisher" }, "finisher").catch(() => undefined);
      }
      const snapshot = await engine.getInstance(instance.id);
      if (snapshot?.waitingAt.includes("drill-observed")) {
        await engine.publishMessage({ name: "drill-observed", correlationKey: instance.businessKey ?? "", variables: { observedBy: "finisher" } });
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const instances = await store.processes.instances({ schoolId: "default" });
  const summary = await Promise.all(
    instances.map(async (instance) => {
      const [task] = await store.processes.userTasks({ schoolId: "default", instanceId: instance.id, status: "completed" });
      return {
        key: instance.businessKey,
        status: instance.status,
        observedBy: instance.variables.observedBy ?? null,
        taskCompletedBy: task?.completedBy ?? null,
        waits: await store.processes.instanceWaits(instance.id),
      };
    }),
  );
  process.stdout.write(`summary ${JSON.stringify(summary)}\n`);
  await engine.close();
  await store.close();
}

const [mode, filename, trial = "t"] = process.argv.slice(2);
(mode === "work" ? work(filename, trial) : finish(filename)).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
