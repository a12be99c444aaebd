// Jobs a flow is working on: a task-worker node sends a job on in a msg, a complete-job node ends it later by key.
import type { ActivatedJob, JobOutcome } from "./engine";

interface Waiting {
  job: ActivatedJob;
  owner: object;
  resolve(outcome: JobOutcome): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** After the job's deadline the engine has taken the job back; the wait is dropped a little later. */
const DEADLINE_GRACE_MS = 1000;

export class PendingJobs {
  private readonly waiting = new Map<string, Waiting>();

  /**
   * The handler's answer for a job the flow finishes later: resolves with the outcome a complete-job node produced,
   * rejects once the job's deadline has passed (the engine has then taken the job back and ignores the rejection).
   */
  wait(job: ActivatedJob, owner: object): Promise<JobOutcome> {
    return new Promise<JobOutcome>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          if (this.waiting.get(job.key)?.timer !== timer) return;
          this.waiting.delete(job.key);
          reject(new Error(`job ${job.key} (${job.type}) was not finished by the flow before its deadline; it is offered again`));
        },
        Math.max(0, job.deadlineMs - Date.now()) + DEADLINE_GRACE_MS,
      );
      timer.unref();
      this.waiting.set(job.key, { job, owner, resolve, reject, timer });
    });
  }

  /** Hands an outcome to the handler that waits for it (no-op when none waits: the outcome stands all the same). */
  settle(outcome: JobOutcome): void {
    const waiting = this.waiting.get(outcome.jobKey);
    if (!waiting) return;
    clearTimeout(waiting.timer);
    this.waiting.delete(outcome.jobKey);
    waiting.resolve(outcome);
  }

  /** The job a flow holds, for a complete-job node that was given only its key. */
  get(jobKey: string): ActivatedJob | undefined {
    return this.waiting.get(jobKey)?.job;
  }

  countFor(owner: object): number {
    let count = 0;
    for (const waiting of this.waiting.values()) if (waiting.owner === owner) count += 1;
    return count;
  }

  /**
   * Gives back every job an owner (a task-worker node that stops) still holds, with its retries unchanged, so the
   * next worker gets them at once instead of after their timeout.
   */
  async giveBack(owner: object, reason: string): Promise<void> {
    const mine = [...this.waiting.values()].filter((waiting) => waiting.owner === owner);
    await Promise.all(
      mine.map(async (waiting) => {
        clearTimeout(waiting.timer);
        this.waiting.delete(waiting.job.key);
        try {
          waiting.resolve(await waiting.job.fail(waiting.job.retries, 0, reason));
        } catch (err) {
          waiting.reject(err as Error);
        }
      }),
    );
  }
}
