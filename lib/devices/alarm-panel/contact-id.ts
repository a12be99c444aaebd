// Ademco Contact ID (SIA DC-05): parsing and encoding of the 16-digit message, with its mod-15 checksum.
import { DeviceProtocolError } from "../../errors";

/** Why a Contact ID message was refused; the node shows it and the panel retransmits. */
export type ContactIdProblem = "length" | "character" | "checksum" | "message-type" | "qualifier";

export class ContactIdError extends DeviceProtocolError {
  constructor(
    message: string,
    readonly problem: ContactIdProblem,
    readonly received: string,
  ) {
    super(message);
  }
}

export const CONTACT_ID_QUALIFIERS = { newEvent: 1, restore: 3, status: 6 } as const;

export interface ContactIdMessage {
  /** Four characters, digits or B–F. */
  account: string;
  /** 18 (or 98, the same format sent by some panels). */
  messageType: 18 | 98;
  /** 1 new event / opening, 3 restore / closing, 6 previous event still present. */
  qualifier: 1 | 3 | 6;
  /** Three digits, e.g. "120" panic. */
  eventCode: string;
  /** Group or partition, two digits. */
  group: string;
  /** Zone or user number, three digits. */
  zone: string;
  checkDigit: string;
  /** The 16 characters as received. */
  raw: string;
}

const ALLOWED = /^[0-9B-F]{16}$/;

/** The digit value of SIA DC-05: 0 counts 10, B–F count 11–15; A is never used. */
function digitValue(ch: string): number {
  if (ch === "0") return 10;
  if (ch >= "1" && ch <= "9") return ch.charCodeAt(0) - 48;
  return ch.charCodeAt(0) - 55;
}

function checkCharacter(value: number): string {
  if (value === 10) return "0";
  if (value <= 9) return String(value);
  return String.fromCharCode(55 + value);
}

/** The check digit for the first 15 characters: the value 1..15 that brings the sum to a multiple of 15. */
export function contactIdCheckDigit(first15: string): string {
  let sum = 0;
  for (const ch of first15) sum += digitValue(ch);
  return checkCharacter(15 - (sum % 15));
}

export function parseContactId(input: string): ContactIdMessage {
  const text = input;
  if (text.length !== 16) {
    throw new ContactIdError(`Contact ID message must be 16 characters, got ${text.length}: "${printable(text)}"`, "length", text);
  }
  if (!ALLOWED.test(text)) {
    const bad = [...text].find((ch) => !/[0-9B-F]/.test(ch)) ?? "?";
    throw new ContactIdError(`Contact ID message contains "${printable(bad)}", which Contact ID never uses: "${printable(text)}"`, "character", text);
  }
  let sum = 0;
  for (const ch of text) sum += digitValue(ch);
  if (sum % 15 !== 0) {
    throw new ContactIdError(
      `Contact ID checksum fails for "${text}": the check digit should be ${contactIdCheckDigit(text.slice(0, 15))}, not ${text[15]}`,
      "checksum",
      text,
    );
  }
  const messageType = Number(text.slice(4, 6));
  if (messageType !== 18 && messageType !== 98) {
    throw new ContactIdError(`Contact ID message type must be 18 or 98, got ${text.slice(4, 6)}: "${text}"`, "message-type", text);
  }
  const qualifier = Number(text[6]);
  if (qualifier !== 1 && qualifier !== 3 && qualifier !== 6) {
    throw new ContactIdError(`Contact ID qualifier must be 1, 3 or 6, got ${text[6]}: "${text}"`, "qualifier", text);
  }
  for (const [field, from, to] of [
    ["event code", 7, 10],
    ["group", 10, 12],
    ["zone", 12, 15],
  ] as const) {
    if (!/^\d+$/.test(text.slice(from, to))) {
      throw new ContactIdError(`Contact ID ${field} must be decimal digits, got "${text.slice(from, to)}": "${text}"`, "character", text);
    }
  }
  return {
    account: text.slice(0, 4),
    messageType,
    qualifier,
    eventCode: text.slice(7, 10),
    group: text.slice(10, 12),
    zone: text.slice(12, 15),
    checkDigit: text[15],
    raw: text,
  };
}

export function encodeContactId(fields: { account: string; messageType?: 18 | 98; qualifier: 1 | 3 | 6; eventCode: string; group: string; zone: string }): string {
  const first15 = `${fields.account}${fields.messageType ?? 18}${fields.qualifier}${fields.eventCode}${fields.group}${fields.zone}`;
  if (!/^[0-9B-F]{4}(18|98)[136]\d{3}\d{2}\d{3}$/.test(first15)) throw new ContactIdError(`cannot encode "${first15}" as Contact ID`, "character", first15);
  return first15 + contactIdCheckDigit(first15);
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
