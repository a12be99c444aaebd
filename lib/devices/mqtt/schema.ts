// The MQTT device contract (version 1): topics, the JSON a panic button or door controller publishes, and commands back.
import { ValidationError } from "../../errors";
import { normalizeInstant, type SafetyEvent, type Severity } from "../../events";
import type { AccessRequest, DoorCommand } from "../../access/messages";

export const MQTT_SCHEMA_VERSION = 1;

/** Topics under one school: school/<schoolId>/device/<deviceId>/{event,status,command,ack}. */
export const mqttTopics = {
  events: (schoolId: string) => `school/${schoolId}/device/+/event`,
  statuses: (schoolId: string) => `school/${schoolId}/device/+/status`,
  command: (schoolId: string, deviceId: string) => `school/${schoolId}/device/${deviceId}/command`,
  ack: (schoolId: string, deviceId: string) => `school/${schoolId}/device/${deviceId}/ack`,
};

const TOPIC = /^school\/([^/+#]{1,64})\/device\/([^/+#]{1,128})\/(event|status)$/;

export function parseDeviceTopic(topic: string): { schoolId: string; deviceId: string; channel: "event" | "status" } {
  const match = TOPIC.exec(topic);
  if (!match) throw new ValidationError(`topic "${topic}" is not school/<schoolId>/device/<deviceId>/event|status`, "topic");
  return { schoolId: match[1], deviceId: match[2], channel: match[3] as "event" | "status" };
}

const EVENT_TYPES: Record<string, { kind: string; severity: Severity; silent?: boolean }> = {
  panic: { kind: "panic", severity: "critical" },
  "panic-silent": { kind: "panic-silent", severity: "critical", silent: true },
  duress: { kind: "duress", severity: "critical" },
  fire: { kind: "fire", severity: "critical" },
  tamper: { kind: "tamper", severity: "high" },
  "door-forced": { kind: "door-forced", severity: "high" },
  "door-held": { kind: "door-held", severity: "medium" },
  "battery-low": { kind: "battery-low", severity: "low" },
};
export const MQTT_EVENT_TYPES = [...Object.keys(EVENT_TYPES), "card", "heartbeat"] as const;

const ID = /^[\w.:@-]{1,64}$/;

export type DeviceMessage =
  | { type: "event"; messageId: string; event: SafetyEvent }
  | { type: "access-request"; messageId: string; request: AccessRequest }
  | { type: "heartbeat"; messageId: string; deviceId: string; atMs: number; battery: number | null };

function field<T>(raw: Record<string, unknown>, name: string, check: (value: unknown) => value is T, expected: string): T {
  const value = raw[name];
  if (!check(value)) throw new ValidationError(`MQTT payload field "${name}" must be ${expected}, got ${JSON.stringify(value) ?? "nothing"}`, name);
  return value;
}
const isString = (v: unknown): v is string => typeof v === "string" && v.length > 0;
const isOptionalString = (v: unknown): v is string | undefined => v === undefined || (typeof v === "string" && v.length > 0 && v.length <= 128);

/** Validates one message from a device; `bytes` is the raw MQTT payload. */
export function parseDeviceMessage(bytes: Buffer | string, topic: string): DeviceMessage {
  const { schoolId, deviceId } = parseDeviceTopic(topic);
  let raw: unknown;
  try {
    raw = JSON.parse(typeof bytes === "string" ? bytes : bytes.toString("utf8"));
  } catch (err) {
    throw new ValidationError(`MQTT payload is not JSON: ${(err as Error).message}`, "payload");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ValidationError("MQTT payload must be a JSON object", "payload");
  const message = raw as Record<string, unknown>;
  if (message.v !== MQTT_SCHEMA_VERSION) throw new ValidationError(`MQTT payload field "v" must be ${MQTT_SCHEMA_VERSION}, got ${JSON.stringify(message.v)}`, "v");
  const type = field(message, "type", (v): v is string => typeof v === "string" && (MQTT_EVENT_TYPES as readonly string[]).includes(v), `one of ${MQTT_EVENT_TYPES.join(", ")}`);
  const messageId = field(message, "id", (v): v is string => typeof v === "string" && ID.test(v), "a message id (letters, digits, . _ : @ -, at most 64)");
  const occurredAt = message.ts === undefined ? new Date().toISOString() : normalizeInstant(message.ts, "ts");
  const zoneId = field(message, "zone", isOptionalString, "a zone id");

  if (type === "heartbeat") {
    const battery = message.battery === undefined ? null : field(message, "battery", (v): v is number => typeof v === "number" && v >= 0 && v <= 100, "a number from 0 to 100");
    return { type: "heartbeat", messageId, deviceId, atMs: Date.parse(occurredAt), battery };
  }
  if (type === "card") {
    const card = field(message, "card", (v): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v), "an object {value, format?, facilityCode?}");
    const value = field(card, "value", isString, "the card number as a string");
    const facilityCode = card.facilityCode === undefined ? undefined : field(card, "facilityCode", (v): v is number => Number.isInteger(v), "an integer");
    const direction = message.direction === undefined ? undefined : field(message, "direction", (v): v is "in" | "out" => v === "in" || v === "out", '"in" or "out"');
    return {
      type: "access-request",
      messageId,
      request: {
        requestId: `${deviceId}:${messageId}`,
        schoolId,
        doorId: field(message, "door", isString, "the door id"),
        readerId: deviceId,
        credential: { kind: "card", value, format: typeof card.format === "string" ? card.format : undefined, facilityCode },
        direction,
        occurredAt,
      },
    };
  }
  const meaning = EVENT_TYPES[type];
  const restore = message.restore === true;
  return {
    type: "event",
    messageId,
    event: {
      // Stable across QoS 1 redeliveries and device resends: the journal stores it once.
      eventId: `${deviceId}:${messageId}`.slice(0, 128),
      schoolId,
      zoneId: zoneId ?? null,
      deviceId,
      kind: meaning.kind,
      severity: restore ? "info" : meaning.severity,
      occurredAt,
      source: "mqtt",
      details: { messageId, restore, silent: meaning.silent === true, ...(typeof message.battery === "number" ? { battery: message.battery } : {}) },
    },
  };
}

/** The command a door controller receives; an AccessDecision becomes unlock (granted) or a deny signal. */
export function commandPayload(command: DoorCommand, id: string): Record<string, unknown> {
  return { v: MQTT_SCHEMA_VERSION, id, ...command };
}
