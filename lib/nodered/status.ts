// Node status conventions: green dot ok, yellow ring degraded/retrying, red ring failed, always with a reason.
import type { NodeStatus } from "node-red";

export const statusOk = (text: string): NodeStatus => ({ fill: "green", shape: "dot", text });
export const statusDegraded = (text: string): NodeStatus => ({ fill: "yellow", shape: "ring", text });
export const statusFailed = (text: string): NodeStatus => ({ fill: "red", shape: "ring", text });

/** Node-RED truncates long status text poorly; keep it to one short line. */
export function shortReason(text: string, max = 60): string {
  const line = text.split("\n")[0];
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * Rate-limits status updates on hot paths: at most one update per interval, and the last one is never lost.
 */
export class StatusThrottle {
  private last = 0;
  private timer: NodeJS.Timeout | null = null;
  private pending: NodeStatus | null = null;

  constructor(
    private readonly apply: (status: NodeStatus) => void,
    private readonly intervalMs = 500,
  ) {}

  set(status: NodeStatus): void {
    const now = Date.now();
    if (now - this.last >= this.intervalMs && !this.timer) {
      this.last = now;
      this.apply(status);
      return;
    }
    this.pending = status;
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.last = Date.now();
        if (this.pending) this.apply(this.pending);
        this.pending = null;
      }, this.intervalMs);
    }
  }

  /** Shows a status at once (errors must not wait). */
  now(status: NodeStatus): void {
    this.cancel();
    this.last = Date.now();
    this.apply(status);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
  }
}
