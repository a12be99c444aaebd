// Life-safety events first: panics pass straight through; detections wait in a bounded queue that coalesces and sheds, counted.
import { severityRank, type SafetyEvent } from "../events";

/** Kinds that never wait behind anything. Any critical event is treated the same. */
export const LIFE_SAFETY_KINDS: ReadonlySet<string> = new Set(["panic", "panic-silent", "duress", "fire", "medical"]);

export function isLifeSafety(event: Pick<SafetyEvent, "kind" | "severity">): boolean {
  return LIFE_SAFETY_KINDS.has(event.kind) || severityRank(event.severity) >= severityRank("critical");
}

export interface DispatcherOptions {
  /** Most detections held at once; beyond it new ones are shed (and counted). */
  maxQueued: number;
  /** Detections of the same device and kind within this window merge into the one already queued; 0 merges nothing. */
  coalesceWindowMs: number;
  /** Detections released per turn of the event loop, so that a burst never builds a long line in front of a panic. */
  drainPerTick: number;
  lifeSafety(event: SafetyEvent): void;
  detection(event: SafetyEvent): void;
  now?(): number;
}

export interface DispatcherCounters {
  lifeSafety: number;
  detectionsIn: number;
  released: number;
  coalesced: number;
  shed: number;
  queued: number;
}

interface Queued {
  event: SafetyEvent;
  firstAtMs: number;
  merged: number;
}

export class PriorityDispatcher {
  private readonly queue: Queued[] = [];
  private head = 0;
  private readonly byKey = new Map<string, Queued>();
  private draining = false;
  private closed = false;
  readonly counters: DispatcherCounters = { lifeSafety: 0, detectionsIn: 0, released: 0, coalesced: 0, shed: 0, queued: 0 };

  constructor(private readonly options: DispatcherOptions) {}

  private now(): number {
    return this.options.now ? this.options.now() : Date.now();
  }

  /** Takes one event: a life-safety one is handed on before this returns. */
  offer(event: SafetyEvent): "life-safety" | "queued" | "coalesced" | "shed" {
    if (isLifeSafety(event)) {
      this.counters.lifeSafety += 1;
      this.options.lifeSafety(event);
      return "life-safety";
    }
    this.counters.detectionsIn += 1;
    const key = `${event.deviceId ?? ""}\u0000${event.kind}`;
    const atMs = this.now();
    const pending = this.byKey.get(key);
    if (pending && this.options.coalesceWindowMs > 0 && atMs - pending.firstAtMs <= this.options.coalesceWindowMs) {
      pending.merged += 1;
      this.counters.coalesced += 1;
      return "coalesced";
    }
    if (this.queue.length - this.head >= this.options.maxQueued) {
      this.counters.shed += 1;
      return "shed";
    }
    const entry: Queued = { event, firstAtMs: atMs, merged: 0 };
    this.queue.push(entry);
    this.byKey.set(key, entry);
    this.counters.queued = this.queue.length - this.head;
    this.scheduleDrain();
    return "queued";
  }

  private scheduleDrain(): void {
    if (this.draining || this.closed) return;
    this.draining = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.draining = false;
    let released = 0;
    while (this.head < this.queue.length && released < this.options.drainPerTick) {
      const entry = this.queue[this.head++];
      const key = `${entry.event.deviceId ?? ""}\u0000${entry.event.kind}`;
      if (this.byKey.get(key) === entry) this.byKey.delete(key);
      const event = entry.merged > 0 ? { ...entry.event, details: { ...entry.event.details, coalescedCount: entry.merged + 1 } } : entry.event;
      this.counters.released += 1;
      released += 1;
      this.options.detection(event);
    }
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.counters.queued = this.queue.length - this.head;
    if (this.counters.queued > 0) this.scheduleDrain();
  }

  /** Stops releasing; returns what was still queued (so the caller can report it, never silently). */
  close(): number {
    this.closed = true;
    return this.queue.length - this.head;
  }
}
