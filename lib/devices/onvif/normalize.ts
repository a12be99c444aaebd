// ONVIF notifications → SafetyEvents for one camera, keeping the last known state of every property.
import crypto from "node:crypto";
import type { SafetyEvent } from "../../events";
import type { NotificationMessage } from "./messages";
import { SEVERITY_OF_KIND, interpret, topicPath, type Interpretation } from "./topics";

export interface CameraIdentity {
  schoolId: string;
  deviceId: string;
  zoneId?: string | null;
}

export interface PropertyState {
  topic: string;
  source: Record<string, string>;
  data: Record<string, string>;
  active: boolean | null;
  updatedAt: string;
}

export interface NormalizeResult {
  interpretation: Interpretation;
  /** Present when the message is an alarm. */
  event: SafetyEvent | null;
}

/**
 * Stable across redelivery: the same message (device, topic, source, time, data) always gets the same id, so the
 * journal stores it once.
 */
export function eventIdFor(deviceId: string, message: NotificationMessage): string {
  const fingerprint = JSON.stringify([topicPath(message.topic), message.source, message.utcTime, message.data, message.propertyOperation]);
  const digest = crypto.createHash("sha256").update(fingerprint).digest("hex").slice(0, 24);
  return `onvif:${deviceId}:${digest}`.replace(/[^\w.:@/+-]/g, "_").slice(0, 128);
}

export class EventNormalizer {
  /** Last state per property (topic + source), from Initialized and Changed messages alike. */
  readonly states = new Map<string, PropertyState>();

  constructor(
    private readonly identity: CameraIdentity,
    private readonly crowdThreshold: number,
  ) {}

  normalize(message: NotificationMessage, receivedAtMs = Date.now()): NormalizeResult {
    const interpretation = interpret(message, this.crowdThreshold);
    const occurredMs = message.utcTime ? Date.parse(message.utcTime) : NaN;
    const occurredAt = new Date(Number.isFinite(occurredMs) ? occurredMs : receivedAtMs).toISOString();
    if (message.propertyOperation === "Deleted") this.states.delete(interpretation.stateKey);
    else this.states.set(interpretation.stateKey, { topic: message.topic, source: message.source, data: message.data, active: interpretation.active, updatedAt: occurredAt });
    if (!interpretation.alarm || interpretation.kind === null) return { interpretation, event: null };
    const details: Record<string, unknown> = {
      topic: message.topic,
      propertyOperation: message.propertyOperation,
      source: message.source,
      data: message.data,
      active: interpretation.active,
    };
    if (interpretation.count !== null) {
      details.count = interpretation.count;
      details.crowdThreshold = this.crowdThreshold;
    }
    return {
      interpretation,
      event: {
        eventId: eventIdFor(this.identity.deviceId, message),
        schoolId: this.identity.schoolId,
        zoneId: this.identity.zoneId ?? null,
        deviceId: this.identity.deviceId,
        kind: interpretation.kind,
        severity: SEVERITY_OF_KIND[interpretation.kind],
        occurredAt,
        source: "onvif",
        details,
      },
    };
  }
}
