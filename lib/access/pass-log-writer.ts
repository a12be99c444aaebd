// Writes every decision to the pass log in batches, off the decision path; drains on close so none is lost.
import type { PassLogEntry } from "../store";

interface PassLogSink {
  appendPassLog(entries: readonly PassLogEntry[]): Promise<void>;
}

export class PassLogWriter {
  private queue: PassLogEntry[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private failures = 0;
  written = 0;

  constructor(
    private readonly sink: PassLogSink,
    private readonly options: { maxBatch?: number; flushMs?: number; onError?: (err: unknown, kept: number) => void } = {},
  ) {}

  add(entry: PassLogEntry): void {
    this.queue.push(entry);
    if (this.queue.length >= (this.options.maxBatch ?? 2000)) this.flushSoon(0);
    else this.flushSoon(this.options.flushMs ?? 50);
  }

  get pending(): number {
    return this.queue.length;
  }

  private flushSoon(delayMs: number): void {
    if (this.writing) return;
    if (this.timer && delayMs > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, delayMs);
  }

  /** Writes what is queued; on failure the entries stay queued and are retried with the next flush. */
  async flush(): Promise<void> {
    if (this.writing) return this.writing;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.writing = this.sink
      .appendPassLog(batch)
      .then(
        () => {
          this.written += batch.length;
          this.failures = 0;
        },
        (err: unknown) => {
          this.queue = batch.concat(this.queue);
          this.failures += 1;
          this.options.onError?.(err, this.queue.length);
        },
      )
      .finally(() => {
        this.writing = null;
        if (this.queue.length > 0) this.flushSoon(Math.min(5000, 50 * 2 ** this.failures));
      });
    return this.writing;
  }

  /** Writes everything queued; gives up after `attempts` failed writes and reports how many were kept back. */
  async drain(attempts = 3): Promise<number> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (let i = 0; i < attempts && (this.queue.length > 0 || this.writing); i += 1) {
      await this.flush();
      if (this.writing) await this.writing;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return this.queue.length;
  }
}
