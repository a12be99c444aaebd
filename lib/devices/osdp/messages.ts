// OSDP command and reply codes, and the payloads the control panel sends and reads.
import { DeviceProtocolError } from "../../errors";
import { decodeWiegand, type WiegandCard } from "./wiegand";

export const CMD = {
  POLL: 0x60,
  ID: 0x61,
  CAP: 0x62,
  LSTAT: 0x64,
  ISTAT: 0x65,
  OSTAT: 0x66,
  OUT: 0x68,
  LED: 0x69,
  BUZ: 0x6a,
  TEXT: 0x6b,
  COMSET: 0x6e,
  KEYSET: 0x75,
  CHLNG: 0x76,
  SCRYPT: 0x77,
} as const;

export const REPLY = {
  ACK: 0x40,
  NAK: 0x41,
  PDID: 0x45,
  PDCAP: 0x46,
  LSTATR: 0x48,
  ISTATR: 0x49,
  OSTATR: 0x4a,
  RAW: 0x50,
  KEYPAD: 0x53,
  COM: 0x54,
  CCRYPT: 0x76,
  RMAC_I: 0x78,
  BUSY: 0x79,
} as const;

export const NAK_REASONS: Record<number, string> = {
  1: "message check character error",
  2: "command length error",
  3: "unknown command code",
  4: "unexpected sequence number",
  5: "security block not supported",
  6: "encrypted communication required",
  7: "BIO type not supported",
  8: "BIO format not supported",
  9: "unable to process command record",
};

export interface PdId {
  vendorCode: number;
  model: number;
  version: number;
  serialNumber: number;
  firmware: string;
}

export interface PdCapability {
  functionCode: number;
  compliance: number;
  items: number;
}

export type OsdpReply =
  | { type: "ack" }
  | { type: "busy" }
  | { type: "nak"; reason: number; meaning: string }
  | { type: "pdid"; id: PdId }
  | { type: "pdcap"; capabilities: PdCapability[] }
  | { type: "card"; reader: number; card: WiegandCard }
  | { type: "keypad"; reader: number; keys: string }
  | { type: "inputs"; states: boolean[] }
  | { type: "outputs"; states: boolean[] }
  | { type: "local-status"; tamper: boolean; power: boolean }
  | { type: "com"; address: number; baudRate: number }
  | { type: "ccrypt"; clientUid: Buffer; rndB: Buffer; clientCryptogram: Buffer }
  | { type: "rmac-i"; mac: Buffer }
  | { type: "other"; code: number; data: Buffer };

function need(data: Buffer, length: number, what: string): void {
  if (data.length < length) throw new DeviceProtocolError(`OSDP ${what} needs ${length} bytes, got ${data.length}`);
}

export function decodeReply(code: number, data: Buffer): OsdpReply {
  switch (code) {
    case REPLY.ACK:
      return { type: "ack" };
    case REPLY.BUSY:
      return { type: "busy" };
    case REPLY.NAK:
      need(data, 1, "NAK");
      return { type: "nak", reason: data[0], meaning: NAK_REASONS[data[0]] ?? `reason ${data[0]}` };
    case REPLY.PDID:
      need(data, 12, "PDID");
      return {
        type: "pdid",
        id: {
          vendorCode: data[0] | (data[1] << 8) | (data[2] << 16),
          model: data[3],
          version: data[4],
          serialNumber: data.readUInt32LE(5),
          firmware: `${data[9]}.${data[10]}.${data[11]}`,
        },
      };
    case REPLY.PDCAP: {
      if (data.length % 3 !== 0) throw new DeviceProtocolError(`OSDP PDCAP length ${data.length} is not a multiple of 3`);
      const capabilities: PdCapability[] = [];
      for (let i = 0; i < data.length; i += 3) capabilities.push({ functionCode: data[i], compliance: data[i + 1], items: data[i + 2] });
      return { type: "pdcap", capabilities };
    }
    case REPLY.RAW: {
      need(data, 4, "RAW card data");
      const bits = data.readUInt16LE(2);
      const bytes = Math.ceil(bits / 8);
      if (bits === 0 || data.length !== 4 + bytes) throw new DeviceProtocolError(`OSDP RAW says ${bits} bits but carries ${data.length - 4} bytes`);
      return { type: "card", reader: data[0], card: decodeWiegand(data.subarray(4), bits) };
    }
    case REPLY.KEYPAD: {
      need(data, 2, "KEYPAD");
      if (data.length !== 2 + data[1]) throw new DeviceProtocolError(`OSDP KEYPAD says ${data[1]} keys but carries ${data.length - 2}`);
      return { type: "keypad", reader: data[0], keys: data.subarray(2).toString("latin1") };
    }
    case REPLY.ISTATR:
      return { type: "inputs", states: [...data].map((b) => b !== 0) };
    case REPLY.OSTATR:
      return { type: "outputs", states: [...data].map((b) => b !== 0) };
    case REPLY.LSTATR:
      need(data, 2, "LSTATR");
      return { type: "local-status", tamper: data[0] !== 0, power: data[1] !== 0 };
    case REPLY.COM:
      need(data, 5, "COM");
      return { type: "com", address: data[0], baudRate: data.readUInt32LE(1) };
    case REPLY.CCRYPT:
      need(data, 32, "CCRYPT");
      return { type: "ccrypt", clientUid: Buffer.from(data.subarray(0, 8)), rndB: Buffer.from(data.subarray(8, 16)), clientCryptogram: Buffer.from(data.subarray(16, 32)) };
    case REPLY.RMAC_I:
      need(data, 16, "RMAC_I");
      return { type: "rmac-i", mac: Buffer.from(data.subarray(0, 16)) };
    default:
      return { type: "other", code, data };
  }
}

export const LED_COLORS = { off: 0, red: 1, green: 2, amber: 3, blue: 4 } as const;
export type LedColor = keyof typeof LED_COLORS;

/** One LED record: a temporary pattern (on/off in 100 ms units, for timerTenths) over a permanent state. */
export function ledRecord(options: {
  reader?: number;
  led?: number;
  temporary?: { onColor: LedColor; offColor?: LedColor; onTenths: number; offTenths: number; timerTenths: number } | null;
  permanent?: { onColor: LedColor; offColor?: LedColor; onTenths?: number; offTenths?: number } | null;
}): Buffer {
  const record = Buffer.alloc(14);
  record[0] = options.reader ?? 0;
  record[1] = options.led ?? 0;
  if (options.temporary) {
    record[2] = 1;
    record[3] = options.temporary.onTenths;
    record[4] = options.temporary.offTenths;
    record[5] = LED_COLORS[options.temporary.onColor];
    record[6] = LED_COLORS[options.temporary.offColor ?? "off"];
    record.writeUInt16LE(options.temporary.timerTenths, 7);
  }
  if (options.permanent) {
    record[9] = 1;
    record[10] = options.permanent.onTenths ?? 1;
    record[11] = options.permanent.offTenths ?? 0;
    record[12] = LED_COLORS[options.permanent.onColor];
    record[13] = LED_COLORS[options.permanent.offColor ?? "off"];
  }
  return record;
}

export function buzzerRecord(options: { reader?: number; tone?: number; onTenths: number; offTenths: number; count: number }): Buffer {
  return Buffer.from([options.reader ?? 0, options.tone ?? 2, options.onTenths, options.offTenths, options.count]);
}

/** Output control codes: 1 permanent off, 2 permanent on, 5 temporary on for the timer then back. */
export function outputRecord(options: { output: number; control: "off" | "on" | "pulse"; timerTenths?: number }): Buffer {
  const record = Buffer.alloc(4);
  record[0] = options.output;
  record[1] = options.control === "off" ? 1 : options.control === "on" ? 2 : 5;
  record.writeUInt16LE(options.control === "pulse" ? (options.timerTenths ?? 50) : 0, 2);
  return record;
}
