// The messages of the access loop: door node → AccessRequest → access decision → AccessDecision → door node.

export type CredentialKind = "card" | "pin" | "face";

export interface PresentedCredential {
  kind: CredentialKind;
  /**
   * Canonical value: for cards in a known Wiegand format the decimal card number (e.g. "12345");
   * for unknown formats "raw:<bit count>:<hex>"; for PINs the digits; for faces the terminal's person id.
   */
  value: string;
  /** Card format when known: "wiegand-26", "wiegand-34", "wiegand-37", or "raw". */
  format?: string;
  facilityCode?: number;
}

/** msg.payload of an access request from a door node (msg.topic = "access-request"). */
export interface AccessRequest {
  requestId: string;
  schoolId: string;
  /** The door (a zone or door device id) the reader guards. */
  doorId: string;
  /** The reader's device id. */
  readerId: string;
  credential: PresentedCredential;
  direction?: "in" | "out";
  /** ISO-8601. */
  occurredAt: string;
}

export const ACCESS_REASONS = [
  "granted",
  "unknown-credential",
  "expired",
  "outside-window",
  "holiday",
  "mode",
  "anti-passback",
  "disabled-person",
  "no-rule",
] as const;
export type AccessReason = (typeof ACCESS_REASONS)[number];

/** msg.payload of a decision (msg.topic = "access-decision"); the door node unlocks on granted. */
export interface AccessDecision {
  requestId: string;
  schoolId: string;
  doorId: string;
  readerId: string;
  granted: boolean;
  reason: AccessReason;
  personId: string | null;
  /** How long to release the lock when granted. */
  unlockMs?: number;
  /** ISO-8601. */
  decidedAt: string;
}

/** msg.payload of a command to a door node (msg.topic = the command). An AccessDecision is accepted too. */
export type DoorCommand =
  | { command: "unlock"; pulseMs?: number }
  | { command: "lock" }
  | { command: "hold-open" }
  | { command: "lockdown" }
  | { command: "normal" }
  | { command: "led"; color: "red" | "green" | "amber" | "blue" | "off"; onMs?: number; offMs?: number; repeat?: number }
  | { command: "buzzer"; onMs?: number; offMs?: number; repeat?: number };
