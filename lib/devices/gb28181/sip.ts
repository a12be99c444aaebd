// SIP messages as GB/T 28181 devices send them: parsing with clear errors, header access, and serialization.
import { DeviceProtocolError } from "../../errors";

export class SipParseError extends DeviceProtocolError {}

export interface SipMessage {
  /** Requests: method and URI; responses: status and reason. */
  method: string | null;
  uri: string | null;
  status: number | null;
  reason: string | null;
  /** Header names lower-cased (compact forms expanded), values in order. */
  headers: Map<string, string[]>;
  /** The body as bytes: its charset is decided by the content, not by SIP. */
  body: Buffer;
}

const COMPACT: Record<string, string> = { v: "via", f: "from", t: "to", i: "call-id", m: "contact", l: "content-length", c: "content-type", e: "content-encoding", k: "supported", s: "subject" };
const MAX_MESSAGE = 65_535;

export function header(message: SipMessage, name: string): string | undefined {
  return message.headers.get(name.toLowerCase())?.[0];
}

export function parseSip(datagram: Buffer): SipMessage {
  if (datagram.length > MAX_MESSAGE) throw new SipParseError(`SIP message of ${datagram.length} bytes is larger than any datagram`);
  const end = datagram.indexOf("\r\n\r\n");
  const split = end >= 0 ? end : datagram.indexOf("\n\n");
  if (split < 0) throw new SipParseError("SIP message has no blank line after its headers");
  const head = datagram.subarray(0, split).toString("latin1");
  const bodyStart = split + (end >= 0 ? 4 : 2);
  const lines = head.split(/\r?\n/);
  const start = lines.shift() ?? "";
  let method: string | null = null;
  let uri: string | null = null;
  let status: number | null = null;
  let reason: string | null = null;
  const response = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(start);
  const request = /^([A-Z]+) (\S+) SIP\/2\.0$/.exec(start);
  if (response) {
    status = Number(response[1]);
    reason = response[2];
  } else if (request) {
    method = request[1];
    uri = request[2];
  } else {
    throw new SipParseError(`not a SIP start line: "${start.slice(0, 80)}"`);
  }
  const headers = new Map<string, string[]>();
  let last: string | null = null;
  for (const line of lines) {
    if (/^[ \t]/.test(line) && last) {
      // Folded header: continues the previous value.
      const values = headers.get(last)!;
      values[values.length - 1] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) throw new SipParseError(`malformed SIP header line: "${line.slice(0, 80)}"`);
    const raw = line.slice(0, colon).trim().toLowerCase();
    const name = COMPACT[raw] ?? raw;
    const value = line.slice(colon + 1).trim();
    const values = headers.get(name) ?? [];
    // Via and a few others may carry several comma-separated values on one line.
    if (name === "via") values.push(...value.split(/,(?=\s*SIP\/)/).map((v) => v.trim()));
    else values.push(value);
    headers.set(name, values);
    last = name;
  }
  for (const required of ["via", "from", "to", "call-id", "cseq"]) {
    if (!headers.has(required)) throw new SipParseError(`SIP message lacks the ${required} header`);
  }
  const lengthText = headers.get("content-length")?.[0];
  let body = datagram.subarray(bodyStart);
  if (lengthText !== undefined) {
    const length = Number(lengthText);
    if (!Number.isInteger(length) || length < 0) throw new SipParseError(`Content-Length "${lengthText}" is not a number`);
    if (length > body.length) throw new SipParseError(`Content-Length says ${length} bytes but the body has ${body.length}`);
    body = body.subarray(0, length);
  }
  return { method, uri, status, reason, headers, body: Buffer.from(body) };
}

const CANONICAL: Record<string, string> = { "call-id": "Call-ID", cseq: "CSeq", "www-authenticate": "WWW-Authenticate", "content-type": "Content-Type", "content-length": "Content-Length", "max-forwards": "Max-Forwards", "user-agent": "User-Agent" };

function canonical(name: string): string {
  return CANONICAL[name] ?? name.replace(/(^|-)([a-z])/g, (_, dash: string, ch: string) => dash + ch.toUpperCase());
}

export function serializeSip(message: Omit<SipMessage, "headers"> & { headers: Array<[string, string]> }): Buffer {
  const start = message.status !== null ? `SIP/2.0 ${message.status} ${message.reason ?? ""}` : `${message.method} ${message.uri} SIP/2.0`;
  const lines = [start, ...message.headers.filter(([name]) => name.toLowerCase() !== "content-length").map(([name, value]) => `${canonical(name.toLowerCase())}: ${value}`)];
  lines.push(`Content-Length: ${message.body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), message.body]);
}

/** A response to a request: Via, From, To (with our tag when it has none), Call-ID and CSeq copied as SIP requires. */
export function responseTo(request: SipMessage, status: number, reason: string, options: { toTag?: string; headers?: Array<[string, string]>; body?: Buffer } = {}): Buffer {
  const headers: Array<[string, string]> = [];
  for (const via of request.headers.get("via") ?? []) headers.push(["Via", via]);
  headers.push(["From", header(request, "from")!]);
  const to = header(request, "to")!;
  headers.push(["To", options.toTag && !/;\s*tag=/i.test(to) ? `${to};tag=${options.toTag}` : to]);
  headers.push(["Call-ID", header(request, "call-id")!]);
  headers.push(["CSeq", header(request, "cseq")!]);
  headers.push(...(options.headers ?? []));
  return serializeSip({ method: null, uri: null, status, reason, headers, body: options.body ?? Buffer.alloc(0) });
}

/** The user part of a SIP URI in a From/To value: the GB/T 28181 device or platform ID. */
export function userOf(nameAddr: string): string | null {
  return /sip:([^@;>]+)@/i.exec(nameAddr)?.[1] ?? null;
}

export function paramOf(value: string, name: string): string | null {
  return new RegExp(`;\\s*${name}=([^;,\\s>]+)`, "i").exec(value)?.[1] ?? null;
}
