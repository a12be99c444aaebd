// Group commit for the event journal: appends that arrive while a write is in flight go together in the next one.
import type { JournalRepository } from "../store/repositories/journal";
import type { SafetyEvent } from "./safety-event";

export interface AppendResult {
  /** True when the journal already held this eventId: it was not stored again. */
  duplicate: boolean;
  receivedAt: string;
}

interface Pending {
  event: SafetyEvent;
  resolve(result: AppendResult): void;
  reject(err: unknown): void;
}

export interface JournalWriterOptions {
  /** Most events written in one transaction. */
  maxBatch?: number;
}

export class JournalWriter {
  private queue: Pending[] = [];
  private running: Promise<void> | null = null;
  private readonly maxBatch: number;

  constructor(
    private readonly journal: JournalRepository,
    options: JournalWriterOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
  }

  /** Resolves once the event is durably in the journal (or known to be there already). */
  append(event: SafetyEvent): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      if (!this.running) this.running = this.writeLoop();
    });
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Waits until everything appended so far has been written. */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  private async writeLoop(): Promise<void> {
    // Let the appends of the current tick join the first batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        const receivedAtMs = Date.now();
        try {
          const inserted = await this.journal.appendBatch(
            batch.map((p) => p.event),
            receivedAtMs,
          );
          const receivedAt = new Date(receivedAtMs).toISOString();
          for (const pending of batch) {
            // The first occurrence of an id in a batch is the stored one; repeats are duplicates.
            const isNew = inserted.delete(pending.event.eventId);
            pending.resolve({ duplicate: !isNew, receivedAt });
          }
        } catch (err) {
          for (const pending of batch) pending.reject(err);
        }
      }
    } finally {
      this.running = null;
    }
  }
}

const sharedWriters = new WeakMap<JournalRepository, JournalWriter>();

/** One writer per store, so every journal node on it shares the same group commit. */
export function sharedJournalWriter(store: { journal: JournalRepository }): JournalWriter {
  let writer = sharedWriters.get(store.journal);
  if (!writer) {
    writer = new JournalWriter(store.journal);
    sharedWriters.set(store.journal, writer);
  }
  return writer;
}
