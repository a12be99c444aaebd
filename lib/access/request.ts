// Validation of AccessRequest messages from door nodes.
import { ValidationError } from "../errors";
import { normalizeInstant } from "../events";
import type { AccessRequest, CredentialKind } from "./messages";

const KINDS: CredentialKind[] = ["card", "pin", "face"];

function text(raw: Record<string, unknown>, field: string, max = 200): string {
  const value = raw[field];
  if (typeof value !== "string" || value === "" || value.length > max) {
    throw new ValidationError(`AccessRequest field "${field}" must be a non-empty string`, field);
  }
  return value;
}

export function parseAccessRequest(input: unknown): AccessRequest {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new ValidationError("AccessRequest must be an object in msg.payload", "payload");
  }
  const raw = input as Record<string, unknown>;
  const credential = raw.credential;
  if (typeof credential !== "object" || credential === null) {
    throw new ValidationError('AccessRequest is missing required field "credential"', "credential");
  }
  const cred = credential as Record<string, unknown>;
  if (!KINDS.includes(cred.kind as CredentialKind)) {
    throw new ValidationError(`AccessRequest field "credential.kind" must be one of ${KINDS.join(", ")}`, "credential.kind");
  }
  if (typeof cred.value !== "string" || cred.value === "") {
    throw new ValidationError('AccessRequest field "credential.value" must be a non-empty string', "credential.value");
  }
  if (cred.facilityCode !== undefined && !Number.isInteger(cred.facilityCode)) {
    throw new ValidationError('AccessRequest field "credential.facilityCode" must be an integer', "credential.facilityCode");
  }
  const direction = raw.direction;
  if (direction !== undefined && direction !== "in" && direction !== "out") {
    throw new ValidationError('AccessRequest field "direction" must be "in" or "out"', "direction");
  }
  return {
    requestId: text(raw, "requestId"),
    schoolId: text(raw, "schoolId"),
    doorId: text(raw, "doorId"),
    readerId: text(raw, "readerId"),
    credential: {
      kind: cred.kind as CredentialKind,
      value: cred.value,
      format: typeof cred.format === "string" ? cred.format : undefined,
      facilityCode: cred.facilityCode as number | undefined,
    },
    direction: direction as AccessRequest["direction"],
    occurredAt: normalizeInstant(raw.occurredAt, "occurredAt"),
  };
}
