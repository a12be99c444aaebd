// OSDP v2.2 frames: SOM, address, length, control, optional security block, code, data, optional MAC, CRC-16 or checksum.
import { DeviceProtocolError } from "../../errors";

export const SOM = 0x53;
export const MARK = 0xff;
/** Replies carry the PD address with this bit set. */
export const REPLY_BIT = 0x80;
export const BROADCAST = 0x7f;

const CTRL_SEQUENCE = 0x03;
const CTRL_CRC = 0x04;
const CTRL_SCB = 0x08;

export interface OsdpFrame {
  /** 0–126, or 0x7F broadcast; without the reply bit. */
  address: number;
  reply: boolean;
  sequence: number;
  /** true: CRC-16 trailer; false: one-byte checksum. */
  useCrc: boolean;
  /** The security control block as sent (length, type, data), or null. */
  scb: Buffer | null;
  code: number;
  data: Buffer;
  /** The first four bytes of the MAC, when the SCB type carries one (0x15–0x18). */
  mac: Buffer | null;
}

/** Why bytes were refused: each one is reported and the stream resynchronises on the next SOM. */
export class OsdpFrameError extends DeviceProtocolError {
  constructor(
    message: string,
    readonly problem: "length" | "crc" | "checksum" | "som" | "truncated",
  ) {
    super(message);
  }
}

/** CRC-16/AUG-CCITT as OSDP uses it: polynomial 0x1021, initial 0x1D0F, not reflected; sent low byte first. */
export function osdpCrc(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0x1d0f;
  for (let i = start; i < end; i += 1) {
    crc ^= bytes[i] << 8;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The one-byte checksum: two's complement of the sum of the bytes. */
export function osdpChecksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let sum = 0;
  for (let i = start; i < end; i += 1) sum = (sum + bytes[i]) & 0xff;
  return (0x100 - sum) & 0xff;
}

/** Security block types that are followed by a 4-byte MAC before the CRC. */
export function scbCarriesMac(scb: Buffer | null): boolean {
  return scb !== null && scb.length >= 2 && scb[1] >= 0x15 && scb[1] <= 0x18;
}

export interface EncodeOptions {
  address: number;
  reply?: boolean;
  sequence: number;
  code: number;
  data?: Buffer;
  useCrc?: boolean;
  scb?: Buffer | null;
  /** Computes the MAC over the frame so far (SOM … data, LEN already counting MAC and CRC); returns its first 4 bytes. */
  mac?: (headerAndData: Buffer) => Buffer;
  /** Send the 0xFF mark byte first (OSDP 2.2 line idle marker). */
  mark?: boolean;
}

export function encodeFrame(options: EncodeOptions): Buffer {
  const data = options.data ?? Buffer.alloc(0);
  const scb = options.scb ?? null;
  const useCrc = options.useCrc ?? true;
  const macLength = scbCarriesMac(scb) ? 4 : 0;
  const length = 5 + (scb?.length ?? 0) + 1 + data.length + macLength + (useCrc ? 2 : 1);
  const head = Buffer.alloc(5);
  head[0] = SOM;
  head[1] = (options.address & 0x7f) | (options.reply ? REPLY_BIT : 0);
  head.writeUInt16LE(length, 2);
  head[4] = (options.sequence & CTRL_SEQUENCE) | (useCrc ? CTRL_CRC : 0) | (scb ? CTRL_SCB : 0);
  const body = Buffer.concat([head, scb ?? Buffer.alloc(0), Buffer.from([options.code]), data]);
  const mac = macLength > 0 ? (options.mac ? options.mac(body) : Buffer.alloc(4)) : Buffer.alloc(0);
  const covered = Buffer.concat([body, mac]);
  const trailer = useCrc ? Buffer.alloc(2) : Buffer.alloc(1);
  if (useCrc) trailer.writeUInt16LE(osdpCrc(covered), 0);
  else trailer[0] = osdpChecksum(covered);
  return Buffer.concat([options.mark === false ? Buffer.alloc(0) : Buffer.from([MARK]), covered, trailer]);
}

/** Decodes one complete frame (without the mark byte), checking length and CRC or checksum. */
export function decodeFrame(bytes: Buffer): OsdpFrame {
  if (bytes.length < 7) throw new OsdpFrameError(`OSDP frame of ${bytes.length} bytes is too short`, "truncated");
  if (bytes[0] !== SOM) throw new OsdpFrameError(`OSDP frame starts with 0x${bytes[0].toString(16)}, not SOM 0x53`, "som");
  const length = bytes.readUInt16LE(2);
  if (length !== bytes.length) throw new OsdpFrameError(`OSDP frame says LEN ${length} but has ${bytes.length} bytes`, "length");
  const ctrl = bytes[4];
  const useCrc = (ctrl & CTRL_CRC) !== 0;
  const trailer = useCrc ? 2 : 1;
  if (useCrc) {
    const expected = osdpCrc(bytes, 0, length - 2);
    const got = bytes.readUInt16LE(length - 2);
    if (expected !== got) throw new OsdpFrameError(`OSDP CRC mismatch: computed 0x${expected.toString(16).padStart(4, "0")}, frame has 0x${got.toString(16).padStart(4, "0")}`, "crc");
  } else {
    const expected = osdpChecksum(bytes, 0, length - 1);
    if (expected !== bytes[length - 1]) throw new OsdpFrameError(`OSDP checksum mismatch: computed 0x${expected.toString(16)}, frame has 0x${bytes[length - 1].toString(16)}`, "checksum");
  }
  let offset = 5;
  let scb: Buffer | null = null;
  if (ctrl & CTRL_SCB) {
    const scbLength = bytes[5];
    if (scbLength < 2 || 5 + scbLength >= length - trailer) throw new OsdpFrameError(`OSDP security block length ${scbLength} does not fit the frame`, "length");
    scb = Buffer.from(bytes.subarray(5, 5 + scbLength));
    offset += scbLength;
  }
  const macLength = scbCarriesMac(scb) ? 4 : 0;
  const dataEnd = length - trailer - macLength;
  if (dataEnd <= offset) throw new OsdpFrameError("OSDP frame has no command or reply code", "length");
  return {
    address: bytes[1] & 0x7f,
    reply: (bytes[1] & REPLY_BIT) !== 0,
    sequence: ctrl & CTRL_SEQUENCE,
    useCrc,
    scb,
    code: bytes[offset],
    data: Buffer.from(bytes.subarray(offset + 1, dataEnd)),
    mac: macLength ? Buffer.from(bytes.subarray(dataEnd, dataEnd + 4)) : null,
  };
}

export interface ReassemblerEvents {
  frame(frame: OsdpFrame, raw: Buffer): void;
  /** Bytes that were not a valid frame; the reassembler has already moved on to the next SOM. */
  garbage(err: OsdpFrameError, raw: Buffer): void;
}

/** Largest frame accepted; a LEN beyond it is noise, not a frame to wait for. */
const MAX_FRAME = 1440;

/**
 * Turns a byte stream into frames: skips mark bytes and noise, waits for split frames, and after a bad CRC or length
 * resynchronises on the next SOM inside the rejected bytes, so one corrupt frame never swallows the good one after it.
 */
export class FrameReassembler {
  private buffer = Buffer.alloc(0);

  constructor(private readonly events: ReassemblerEvents) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : Buffer.from(chunk);
    for (;;) {
      const start = this.buffer.indexOf(SOM);
      if (start < 0) {
        this.dropNoise(this.buffer.length);
        return;
      }
      if (start > 0) this.dropNoise(start);
      if (this.buffer.length < 4) return;
      const length = this.buffer.readUInt16LE(2);
      if (length < 7 || length > MAX_FRAME) {
        this.reject(new OsdpFrameError(`OSDP LEN ${length} is impossible`, "length"), 1);
        continue;
      }
      if (this.buffer.length < length) return;
      const raw = this.buffer.subarray(0, length);
      try {
        const frame = decodeFrame(Buffer.from(raw));
        this.buffer = this.buffer.subarray(length);
        this.events.frame(frame, Buffer.from(raw));
      } catch (err) {
        this.reject(err as OsdpFrameError, 1);
      }
    }
  }

  /** Forgets a partial frame, e.g. when the line drops mid-frame. */
  reset(): number {
    const dropped = this.buffer.length;
    this.buffer = Buffer.alloc(0);
    return dropped;
  }

  private dropNoise(count: number): void {
    const noise = this.buffer.subarray(0, count);
    this.buffer = this.buffer.subarray(count);
    const meaningful = noise.filter((byte) => byte !== MARK);
    if (meaningful.length > 0) this.events.garbage(new OsdpFrameError(`${meaningful.length} bytes of noise before a frame`, "som"), Buffer.from(noise));
  }

  private reject(err: OsdpFrameError, skip: number): void {
    this.events.garbage(err, Buffer.from(this.buffer.subarray(0, Math.min(this.buffer.length, 64))));
    this.buffer = this.buffer.subarray(skip);
  }
}
