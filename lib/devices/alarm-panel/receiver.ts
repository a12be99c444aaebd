// The receiving end of an alarm panel or button line: frames → SafetyEvents, journaled, and only then acknowledged.
import { DeviceProtocolError, errorMessage } from "../../errors";
import type { SafetyEvent } from "../../events";
import { parseContactId, type ContactIdMessage } from "./contact-id";
import { meaningOf } from "./event-codes";
import { LineFramer } from "./line-framer";
import { lineAck, parseLine, type LineFrame, type LineProfile } from "./line-profile";

/** Contact ID kissoff and refusal on a serial receiver line. */
export const KISSOFF = Buffer.from([0x06]);
export const REFUSAL = Buffer.from([0x15]);

export type PanelProtocol = "contact-id" | "line";

export interface ReceiverOptions {
  schoolId: string;
  /** The panel's device id: events carry it as deviceId. */
  panelId: string;
  protocol: PanelProtocol;
  profile?: LineProfile;
  /** Zone (or button device) → zoneId of the place it protects. Keys: "15", "01:015" (group:zone) or a button id. */
  zoneMap?: Record<string, string>;
  /** A repeat of the same message within this window is a retransmission: same eventId, journaled once. */
  retransmitWindowMs?: number;
  /** Makes the event durable; the acknowledgement waits for it. */
  journal(event: SafetyEvent): Promise<{ duplicate: boolean }>;
  write(bytes: Buffer): Promise<void>;
  onEvent?(event: SafetyEvent, duplicate: boolean): void;
  onRejected?(err: DeviceProtocolError, line: string): void;
  /** The journal could not take the event: nothing acknowledged, the panel will send it again. */
  onJournalError?(err: unknown, event: SafetyEvent): void;
  now?(): number;
}

export interface ReceiverCounters {
  accepted: number;
  duplicates: number;
  rejected: number;
  droppedBytes: number;
}

export class AlarmPanelReceiver {
  private readonly framer: LineFramer;
  private chain: Promise<void> = Promise.resolve();
  private readonly recent = new Map<string, { eventId: string; atMs: number }>();
  readonly counters: ReceiverCounters = { accepted: 0, duplicates: 0, rejected: 0, droppedBytes: 0 };

  constructor(private readonly options: ReceiverOptions) {
    if (options.protocol === "line" && !options.profile) throw new DeviceProtocolError("a line protocol needs a profile");
    this.framer = new LineFramer({
      line: (text) => {
        this.chain = this.chain.then(() => this.handle(text));
      },
      overflow: (dropped) => {
        this.counters.droppedBytes += dropped;
        this.reject(new DeviceProtocolError(`dropped ${dropped} bytes without a line end`), "");
      },
    });
  }

  push(chunk: Buffer): void {
    this.framer.push(chunk);
  }

  /** The line went away mid-frame: forget the partial frame (the panel resends it). */
  reset(): void {
    this.counters.droppedBytes += this.framer.reset();
  }

  /** Resolves when every frame received so far has been handled. */
  idle(): Promise<void> {
    return this.chain;
  }

  private now(): number {
    return this.options.now ? this.options.now() : Date.now();
  }

  private reject(err: DeviceProtocolError, line: string): void {
    this.counters.rejected += 1;
    this.options.onRejected?.(err, line);
  }

  private eventIdFor(message: string, atMs: number): string {
    const window = this.options.retransmitWindowMs ?? 30_000;
    for (const [key, seen] of this.recent) if (atMs - seen.atMs > window) this.recent.delete(key);
    const seen = this.recent.get(message);
    if (seen) {
      seen.atMs = atMs;
      return seen.eventId;
    }
    const eventId = `${this.options.panelId}:${this.options.protocol}:${message.replace(/[^\w.:@/+-]/g, "_")}:${atMs}`.slice(0, 128);
    this.recent.set(message, { eventId, atMs });
    return eventId;
  }

  private async handle(line: string): Promise<void> {
    let event: SafetyEvent;
    let ack: Buffer;
    const atMs = this.now();
    try {
      if (this.options.protocol === "contact-id") {
        const message = parseContactIdLine(line);
        event = contactIdEvent(message, this.options, this.eventIdFor(message.raw, atMs), atMs);
        ack = KISSOFF;
      } else {
        const frame = parseLine(this.options.profile!, line);
        event = lineEvent(frame, this.options, this.eventIdFor(frame.raw, atMs), atMs);
        ack = Buffer.from(lineAck(this.options.profile!, frame), "latin1");
      }
    } catch (err) {
      const protocolError = err instanceof DeviceProtocolError ? err : new DeviceProtocolError(errorMessage(err));
      this.reject(protocolError, line);
      if (this.options.protocol === "contact-id") await this.options.write(REFUSAL).catch(() => undefined);
      return;
    }
    let duplicate: boolean;
    try {
      duplicate = (await this.options.journal(event)).duplicate;
    } catch (err) {
      this.options.onJournalError?.(err, event);
      return;
    }
    if (duplicate) this.counters.duplicates += 1;
    else this.counters.accepted += 1;
    if (ack.length > 0) await this.options.write(ack);
    this.options.onEvent?.(event, duplicate);
  }
}

/**
 * A line holds one 16-character message. Bytes of noise before it on the same line (a panel powering up, a hot-plugged
 * adapter) are skipped when the last 16 characters form a message whose checksum holds.
 */
export function parseContactIdLine(line: string): ContactIdMessage {
  const trimmed = line.trim();
  if (trimmed.length > 16) {
    try {
      return parseContactId(trimmed.slice(-16));
    } catch {
      // Fall through: report the problem with the whole line.
    }
  }
  return parseContactId(trimmed);
}

function zoneOf(map: Record<string, string> | undefined, keys: string[]): string | null {
  if (!map) return null;
  for (const key of keys) if (map[key]) return map[key];
  return null;
}

export function contactIdEvent(message: ContactIdMessage, options: Pick<ReceiverOptions, "schoolId" | "panelId" | "zoneMap">, eventId: string, atMs: number): SafetyEvent {
  const meaning = meaningOf(message.eventCode);
  const restore = message.qualifier === 3;
  const status = message.qualifier === 6;
  const zoneNumber = Number(message.zone);
  let severity = meaning?.severity ?? "medium";
  if (restore) severity = "info";
  else if (status && severity !== "info") severity = "low";
  return {
    eventId,
    schoolId: options.schoolId,
    zoneId: zoneOf(options.zoneMap, [`${message.group}:${message.zone}`, String(zoneNumber), message.zone]),
    deviceId: options.panelId,
    kind: meaning?.kind ?? "raw",
    severity,
    occurredAt: new Date(atMs).toISOString(),
    source: "contact-id",
    details: {
      account: message.account,
      eventCode: message.eventCode,
      qualifier: message.qualifier,
      group: Number(message.group),
      zone: zoneNumber,
      restore,
      stillPresent: status,
      silent: meaning?.silent === true,
      name: meaning?.name ?? `Contact ID ${message.eventCode}`,
      nameZh: meaning?.nameZh ?? `Contact ID 代码 ${message.eventCode}`,
      message: message.raw,
    },
  };
}

export function lineEvent(frame: LineFrame, options: Pick<ReceiverOptions, "schoolId" | "panelId" | "zoneMap">, eventId: string, atMs: number): SafetyEvent {
  return {
    eventId,
    schoolId: options.schoolId,
    zoneId: zoneOf(options.zoneMap, [frame.zone ?? "", frame.device]),
    deviceId: `${options.panelId}/${frame.device}`,
    kind: frame.meaning.kind,
    severity: frame.meaning.severity,
    occurredAt: new Date(atMs).toISOString(),
    source: "serial-button",
    details: { button: frame.device, state: frame.state, seq: frame.seq, restore: frame.meaning.restore === true, silent: frame.meaning.silent === true, message: frame.raw },
  };
}

