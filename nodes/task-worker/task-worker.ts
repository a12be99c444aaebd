// task-worker: takes the jobs of one task type and sends each on as a msg; a complete-job node ends it. A job the flow
// does not end before its timeout is taken back and offered again.
import type { Node, NodeAPI, NodeDef } from "node-red";
import { ConfigError, errorMessage } from "../../lib/errors";
import { processEngineNode } from "../../lib/nodered/process";
import { StatusThrottle, shortReason, statusDegraded, statusFailed, statusOk } from "../../lib/nodered/status";
import type { ActivatedJob, Worker } from "../../lib/process/engine";
import type { ProcessHost } from "../../lib/process/host";

interface WorkerDef extends NodeDef {
  engine: string;
  taskType: string;
  timeoutSec: string | number;
  maxJobsActive: string | number;
}

/** What a job msg carries besides its variables in msg.payload. */
function jobSummary(job: ActivatedJob) {
  return {
    key: job.key,
    type: job.type,
    instanceId: job.instanceId,
    bpmnProcessId: job.bpmnProcessId,
    businessKey: job.businessKey,
    elementId: job.elementId,
    retries: job.retries,
    customHeaders: job.customHeaders,
    deadline: new Date(job.deadlineMs).toISOString(),
  };
}

export = function register(RED: NodeAPI): void {
  function TaskWorker(this: Node, def: WorkerDef): void {
    RED.nodes.createNode(this, def);
    const engineNode = processEngineNode(RED.nodes.getNode, def.engine);
    const taskType = (def.taskType || "").trim();
    const status = new StatusThrottle((s) => this.status(s));
    let taken = 0;
    let worker: Worker | null = null;
    let host: ProcessHost | null = null;
    let closed = false;
    const owner = {};

    const showCounts = () => status.set(statusOk(RED._("task-worker.status.counts", { type: taskType, active: host?.jobs.countFor(owner) ?? 0, taken })));

    const starting = (async () => {
      if (!engineNode) throw new ConfigError(RED._("task-worker.errors.engine"), "engine");
      if (!taskType) throw new ConfigError(RED._("task-worker.errors.type"), "taskType");
      const timeoutMs = Number(def.timeoutSec || 300) * 1000;
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new ConfigError(RED._("task-worker.errors.timeout"), "timeoutSec");
      host = await engineNode.host();
      if (closed) return;
      const jobs = host.jobs;
      worker = host.engine.registerWorker(
        taskType,
        (job) => {
          taken += 1;
          const outcome = jobs.wait(job, owner);
          this.send({ topic: taskType, payload: job.variables, job: jobSummary(job) });
          showCounts();
          // The count drops once the job ends, whichever way.
          outcome.then(showCounts, showCounts);
          return outcome;
        },
        { timeoutMs, maxJobsActive: Number(def.maxJobsActive || 32) },
      );
      status.now(statusOk(RED._("task-worker.status.waiting", { type: taskType })));
    })();
    starting.catch((err: unknown) => {
      status.now(statusFailed(shortReason(errorMessage(err))));
      this.error(RED._("task-worker.errors.start", { type: taskType, reason: errorMessage(err) }));
    });

    this.on("close", (done: () => void) => {
      closed = true;
      status.cancel();
      void (async () => {
        await starting.catch(() => undefined);
        if (host) await host.jobs.giveBack(owner, RED._("task-worker.status.stopped"));
        await worker?.stop();
      })()
        .catch((err: unknown) => this.warn(errorMessage(err)))
        .finally(done);
    });

    if (!engineNode) this.status(statusDegraded(RED._("task-worker.errors.engine")));
  }

  RED.nodes.registerType("task-worker", TaskWorker as unknown as (this: Node, def: NodeDef) => void);
};
