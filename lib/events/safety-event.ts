// The normalized SafetyEvent every device node emits, and its validation.
import { ValidationError } from "../errors";

export const SEVERITIES = ["info", "low", "medium", "high", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Kinds the prebuilt flows know; device nodes may emit others (kebab-case), e.g. vendor raw codes. */
export const KNOWN_KINDS = [
  "panic",
  "panic-silent",
  "duress",
  "fire",
  "burglary",
  "motion",
  "line-crossing",
  "field-intrusion",
  "loitering",
  "crowd",
  "object-count",
  "tamper",
  "digital-input",
  "door-forced",
  "door-held",
  "device-offline",
  "device-online",
  "power-loss",
  "raw",
] as const;

/** msg.payload of a SafetyEvent message; msg.topic is its kind. */
export interface SafetyEvent {
  /** Globally unique and stable across retransmissions: the journal is idempotent on it. */
  eventId: string;
  schoolId: string;
  zoneId?: string | null;
  deviceId?: string | null;
  /** kebab-case, e.g. "panic", "line-crossing". */
  kind: string;
  severity: Severity;
  /** ISO-8601 instant at which the device saw it. */
  occurredAt: string;
  /** Which adapter produced it, e.g. "onvif", "gb28181", "osdp", "contact-id", "mqtt", "manual". */
  source: string;
  details?: Record<string, unknown>;
}

export interface SafetyEventMessage {
  topic: string;
  payload: SafetyEvent;
}

const ID_PATTERN = /^[\w.:@/+-]{1,128}$/u;
const KIND_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

function requireString(input: Record<string, unknown>, field: string, pattern?: RegExp): string {
  const value = input[field];
  if (value === undefined || value === null || value === "") {
    throw new ValidationError(`SafetyEvent is missing required field "${field}"`, field);
  }
  if (typeof value !== "string") {
    throw new ValidationError(`SafetyEvent field "${field}" must be a string, got ${typeof value}`, field);
  }
  if (pattern && !pattern.test(value)) {
    throw new ValidationError(`SafetyEvent field "${field}" has an invalid value "${value.slice(0, 64)}"`, field);
  }
  return value;
}

function optionalId(input: Record<string, unknown>, field: string): string | null {
  const value = input[field];
  if (value === undefined || value === null || value === "") return null;
  if (typeof value !== "string" || !ID_PATTERN.test(value)) {
    throw new ValidationError(`SafetyEvent field "${field}" must be an id string (1-128 characters)`, field);
  }
  return value;
}

/** Accepts ISO-8601 strings and epoch milliseconds; returns a canonical ISO string. */
export function normalizeInstant(value: unknown, field: string): string {
  if (value === undefined || value === null || value === "") {
    throw new ValidationError(`SafetyEvent is missing required field "${field}"`, field);
  }
  let ms: number;
  if (typeof value === "number") ms = value;
  else if (typeof value === "string") ms = Date.parse(value);
  else if (value instanceof Date) ms = value.getTime();
  else throw new ValidationError(`SafetyEvent field "${field}" must be an ISO-8601 time or epoch milliseconds`, field);
  if (!Number.isFinite(ms)) {
    throw new ValidationError(`SafetyEvent field "${field}" is not a valid time: "${String(value).slice(0, 64)}"`, field);
  }
  return new Date(ms).toISOString();
}

/**
 * Checks an untrusted payload against the SafetyEvent contract and returns a clean copy.
 * Throws ValidationError naming the first offending field.
 */
export function parseSafetyEvent(input: unknown): SafetyEvent {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new ValidationError("SafetyEvent must be an object in msg.payload", "payload");
  }
  const raw = input as Record<string, unknown>;
  const eventId = requireString(raw, "eventId", ID_PATTERN);
  const schoolId = requireString(raw, "schoolId", ID_PATTERN);
  const kind = requireString(raw, "kind", KIND_PATTERN);
  const severity = requireString(raw, "severity");
  if (!(SEVERITIES as readonly string[]).includes(severity)) {
    throw new ValidationError(`SafetyEvent field "severity" must be one of ${SEVERITIES.join(", ")}`, "severity");
  }
  const source = requireString(raw, "source", KIND_PATTERN);
  const occurredAt = normalizeInstant(raw.occurredAt, "occurredAt");
  const details = raw.details;
  if (details !== undefined && details !== null && (typeof details !== "object" || Array.isArray(details))) {
    throw new ValidationError(`SafetyEvent field "details" must be an object`, "details");
  }
  return {
    eventId,
    schoolId,
    zoneId: optionalId(raw, "zoneId"),
    deviceId: optionalId(raw, "deviceId"),
    kind,
    severity: severity as Severity,
    occurredAt,
    source,
    details: (details as Record<string, unknown> | undefined) ?? {},
  };
}

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}
