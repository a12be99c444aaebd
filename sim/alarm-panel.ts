// A simulated alarm panel on a serial line: sends Contact ID (or button-line) messages and retransmits until kissed off.
import { SerialPort } from "serialport";
import { encodeContactId } from "../lib/devices/alarm-panel/contact-id";

export interface SentMessage {
  message: string;
  sentAtMs: number;
  /** When the kissoff arrived, or null if it never did. */
  kissoffAtMs: number | null;
  attempts: number;
}

export interface AlarmPanelSimOptions {
  path: string;
  baudRate?: number;
  account?: string;
  /** How long to wait for the kissoff before sending again. */
  ackTimeoutMs?: number;
  /** Attempts per message (a real dialer gives up after a few). */
  maxAttempts?: number;
  /** "contact-id": kissoff is 0x06; "line": a text line beginning "ACK". */
  protocol?: "contact-id" | "line";
}

export class AlarmPanelSim {
  private port: SerialPort | null = null;
  private waiter: ((ok: boolean) => void) | null = null;
  private received = Buffer.alloc(0);
  private queue: Promise<unknown> = Promise.resolve();
  readonly sent: SentMessage[] = [];
  refusals = 0;

  constructor(private readonly options: AlarmPanelSimOptions) {}

  async open(): Promise<void> {
    const port = new SerialPort({ path: this.options.path, baudRate: this.options.baudRate ?? 9600, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on("data", (chunk: Buffer) => this.onData(chunk));
    port.on("error", () => undefined);
    this.port = port;
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private onData(chunk: Buffer): void {
    if ((this.options.protocol ?? "contact-id") === "contact-id") {
      for (const byte of chunk) {
        if (byte === 0x06) this.waiter?.(true);
        else if (byte === 0x15) {
          this.refusals += 1;
          this.waiter?.(false);
        }
      }
      return;
    }
    this.received = Buffer.concat([this.received, chunk]);
    let end: number;
    while ((end = this.received.indexOf(0x0a)) >= 0) {
      const line = this.received.subarray(0, end).toString("latin1").trim();
      this.received = this.received.subarray(end + 1);
      if (line.startsWith("ACK")) this.waiter?.(true);
    }
  }

  private write(bytes: Buffer | string): Promise<void> {
    const port = this.port;
    if (!port) return Promise.reject(new Error("the simulated panel is not connected"));
    return new Promise((resolve, reject) => port.write(bytes, (err) => (err ? reject(err) : port.drain(() => resolve()))));
  }

  /** Sends raw bytes with no retransmission (noise, partial frames). */
  sendRaw(bytes: Buffer | string): Promise<void> {
    return this.write(bytes);
  }

  /** Sends one line and retransmits until the kissoff comes or the attempts run out. Messages go one at a time. */
  send(message: string): Promise<SentMessage> {
    const run = async (): Promise<SentMessage> => {
      const record: SentMessage = { message, sentAtMs: performance.now(), kissoffAtMs: null, attempts: 0 };
      this.sent.push(record);
      for (let attempt = 1; attempt <= (this.options.maxAttempts ?? 4); attempt += 1) {
        record.attempts = attempt;
        const acknowledged = new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), this.options.ackTimeoutMs ?? 1000);
          this.waiter = (ok) => {
            clearTimeout(timer);
            resolve(ok);
          };
        });
        if (attempt === 1) record.sentAtMs = performance.now();
        await this.write(`${message}\r\n`).catch(() => undefined);
        const ok = await acknowledged;
        this.waiter = null;
        if (ok) {
          record.kissoffAtMs = performance.now();
          return record;
        }
      }
      return record;
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Contact ID shorthand: event code, qualifier, zone, on this panel's account. */
  report(eventCode: string, options: { qualifier?: 1 | 3 | 6; group?: string; zone?: number } = {}): Promise<SentMessage> {
    return this.send(
      encodeContactId({
        account: this.options.account ?? "1234",
        qualifier: options.qualifier ?? 1,
        eventCode,
        group: options.group ?? "01",
        zone: String(options.zone ?? 1).padStart(3, "0"),
      }),
    );
  }

  panic(zone = 1): Promise<SentMessage> {
    return this.report("120", { zone });
  }

  silentPanic(zone = 1): Promise<SentMessage> {
    return this.report("122", { zone });
  }

  restore(eventCode: string, zone = 1): Promise<SentMessage> {
    return this.report(eventCode, { qualifier: 3, zone });
  }
}
