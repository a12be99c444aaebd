// A serial port that keeps itself open: reconnects with backoff when the line goes away, and says why it is not open.
import { SerialPort } from "serialport";

export interface SerialLineOptions {
  path: string;
  baudRate: number;
  onData(chunk: Buffer): void;
  /** Opened, or the reason it is not (yet) open; called on every change. */
  onState(state: { open: true } | { open: false; reason: string; disconnected: boolean }): void;
  /** The line dropped: drop any partial frame. */
  onDrop?(): void;
  onError?(err: Error): void;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class SerialLine {
  private port: SerialPort | null = null;
  private closing = false;
  private timer: NodeJS.Timeout | null = null;
  private backoffMs: number;

  constructor(private readonly options: SerialLineOptions) {
    this.backoffMs = options.minBackoffMs ?? 500;
  }

  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  open(): void {
    const serial = new SerialPort({ path: this.options.path, baudRate: this.options.baudRate, autoOpen: false });
    serial.open((err) => {
      if (this.closing) {
        if (!err) serial.close();
        return;
      }
      if (err) {
        this.retry(err.message, false);
        return;
      }
      this.port = serial;
      this.backoffMs = this.options.minBackoffMs ?? 500;
      this.options.onState({ open: true });
    });
    serial.on("data", (chunk: Buffer) => this.options.onData(chunk));
    serial.on("error", (err: Error) => this.options.onError?.(err));
    serial.on("close", () => {
      if (this.port === serial) this.port = null;
      this.options.onDrop?.();
      this.retry("line disconnected", true);
    });
  }

  write(bytes: Buffer): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) return Promise.reject(new Error(`the serial port ${this.options.path} is closed`));
    return new Promise((resolve, reject) => port.write(bytes, (err) => (err ? reject(err) : resolve())));
  }

  close(): Promise<void> {
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    const port = this.port;
    this.port = null;
    return new Promise((resolve) => (port?.isOpen ? port.close(() => resolve()) : resolve()));
  }

  private retry(reason: string, disconnected: boolean): void {
    if (this.closing || this.timer) return;
    this.options.onState({ open: false, reason, disconnected });
    this.timer = setTimeout(() => {
      this.timer = null;
      this.open();
    }, this.backoffMs);
    this.backoffMs = Math.min(this.options.maxBackoffMs ?? 30_000, this.backoffMs * 2);
  }
}
