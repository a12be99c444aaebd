// complete-job: ends the job a task-worker node sent (msg.job.key): complete with msg.payload as variables, fail with
// retries, or throw a BPMN error that an error boundary event catches.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { ValidationError } from "../../lib/errors";
import { firstText, processEngineNode, settleInput, variablesOf } from "../../lib/nodered/process";
import { StatusThrottle, statusFailed, statusOk } from "../../lib/nodered/status";
import type { JobOutcome } from "../../lib/process/engine";

type Outcome = "complete" | "fail" | "error";
const OUTCOMES: readonly Outcome[] = ["complete", "fail", "error"];

interface CompleteDef extends NodeDef {
  engine: string;
  outcome: Outcome | "msg";
  errorCode: string;
  backoffSec: string | number;
}

type JobMessage = NodeMessageInFlow & {
  job?: { key?: unknown; retries?: unknown };
  jobKey?: unknown;
  outcome?: unknown;
  errorCode?: unknown;
  errorMessage?: unknown;
  retries?: unknown;
  error?: { message?: unknown };
};

export = function register(RED: NodeAPI): void {
  function CompleteJob(this: Node, def: CompleteDef): void {
    RED.nodes.createNode(this, def);
    const engineNode = processEngineNode(RED.nodes.getNode, def.engine);
    const status = new StatusThrottle((s) => this.status(s));
    const counts: Record<Outcome, number> = { complete: 0, fail: 0, error: 0 };
    if (!engineNode) this.status(statusFailed(RED._("complete-job.errors.engine")));

    this.on("input", (msg: JobMessage, send, done) => {
      settleInput(
        (async () => {
          if (!engineNode) throw new ValidationError(RED._("complete-job.errors.engine"), "engine");
          const jobKey = firstText(msg.job?.key, msg.jobKey);
          if (!jobKey) throw new ValidationError(RED._("complete-job.errors.jobKey"), "job.key");
          const outcome = (def.outcome === "msg" || !def.outcome ? firstText(msg.outcome) ?? "complete" : def.outcome) as Outcome;
          if (!OUTCOMES.includes(outcome)) throw new ValidationError(RED._("complete-job.errors.outcome", { outcome }), "outcome");
          const host = await engineNode.host();
          let result: JobOutcome;
          if (outcome === "complete") {
            result = await host.engine.completeJob(jobKey, variablesOf(msg.payload));
          } else if (outcome === "error") {
            const code = firstText(msg.errorCode, def.errorCode);
            if (!code) throw new ValidationError(RED._("complete-job.errors.errorCode"), "errorCode");
            result = await host.engine.throwJobError(jobKey, code, firstText(msg.errorMessage, msg.error?.message) ?? code, variablesOf(msg.payload));
          } else {
            const held = Number(msg.job?.retries ?? host.jobs.get(jobKey)?.retries ?? 1);
            const retries = msg.retries !== undefined ? Number(msg.retries) : held - 1;
            if (!Number.isInteger(retries) || retries < 0) throw new ValidationError(RED._("complete-job.errors.retries"), "retries");
            result = await host.engine.failJob(jobKey, retries, Number(def.backoffSec || 0) * 1000, firstText(msg.errorMessage, msg.error?.message) ?? RED._("complete-job.status.failedByFlow"));
          }
          host.jobs.settle(result);
          counts[outcome] += 1;
          status.set(statusOk(RED._("complete-job.status.counts", counts)));
          send({ ...msg, outcome: result.outcome });
        })(),
        done,
        (reason) => status.now(statusFailed(reason)),
      );
    });

    this.on("close", () => status.cancel());
  }

  RED.nodes.registerType("complete-job", CompleteJob as unknown as (this: Node, def: NodeDef) => void);
};
