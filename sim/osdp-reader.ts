// A simulated OSDP reader (PD) on a serial line: answers polls, reports cards, keys, inputs and tamper, obeys LED/buzzer/output, speaks Secure Channel.
import crypto from "node:crypto";
import { SerialPort } from "serialport";
import { FrameReassembler, encodeFrame, type OsdpFrame } from "../lib/devices/osdp/frame";
import { CMD, REPLY } from "../lib/devices/osdp/messages";
import {
  SCBK_D,
  clientCryptogram,
  decryptData,
  deriveSessionKeys,
  encryptData,
  frameMac,
  initialRmac,
  serverCryptogram,
  type SessionKeys,
} from "../lib/devices/osdp/secure-channel";
import { encodeWiegand } from "../lib/devices/osdp/wiegand";

export interface ReaderSimOptions {
  address: number;
  /** The reader's Secure Channel key; null = not commissioned (answers SCBK-D challenges only). */
  scbk?: Buffer | null;
}

export interface ReceivedCommand {
  code: number;
  data: Buffer;
  atMs: number;
  secure: boolean;
}

interface Session {
  keys: SessionKeys;
  rndA: Buffer;
  rndB: Buffer;
  icv: Buffer | null;
}

/** One RS-485 line with any number of simulated readers on it, on one end of a pty pair. */
export class OsdpLineSim {
  private port: SerialPort | null = null;
  readonly readers: OsdpReaderSim[] = [];

  constructor(
    private readonly path: string,
    private readonly baudRate = 9600,
  ) {}

  addReader(address: number, scbk: Buffer | null = null): OsdpReaderSim {
    const reader = new OsdpReaderSim({ address, scbk }, (bytes) => this.port?.write(bytes));
    this.readers.push(reader);
    return reader;
  }

  async open(): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: this.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on("data", (chunk: Buffer) => this.readers.forEach((reader) => reader.push(chunk)));
    port.on("error", () => undefined);
    this.port = port;
  }

  async close(): Promise<void> {
    for (const reader of this.readers) reader.answering = false;
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}

export class OsdpReaderSim {
  private readonly reassembler: FrameReassembler;
  private readonly pending: Array<{ code: number; data: Buffer }> = [];
  private session: Session | null = null;
  private lastReply: { sequence: number; bytes: Buffer } | null = null;
  private inputs = [false, false];
  private scbk: Buffer | null;
  /** When false the reader ignores everything, like a cut cable. */
  answering = true;
  /** Frames to ignore before answering again, as if they were lost on a noisy line. */
  dropNext = 0;
  readonly received: ReceivedCommand[] = [];

  constructor(
    private readonly options: ReaderSimOptions,
    private readonly send: (bytes: Buffer) => void,
  ) {
    this.scbk = options.scbk ?? null;
    this.reassembler = new FrameReassembler({ frame: (frame, raw) => this.onFrame(frame, raw), garbage: () => undefined });
  }

  get key(): Buffer | null {
    return this.scbk;
  }

  /** Bytes heard on the line. */
  push(chunk: Buffer): void {
    this.reassembler.push(chunk);
  }

  /** A card held to the reader: reported at the next poll as osdp_RAW. */
  presentCard(facilityCode: number, cardNumber: number, bits: 26 | 34 | 37 = 26): void {
    const data = encodeWiegand(bits, facilityCode, cardNumber);
    const head = Buffer.from([0, 1, 0, 0]);
    head.writeUInt16LE(bits, 2);
    this.pending.push({ code: REPLY.RAW, data: Buffer.concat([head, data]) });
  }

  /** Raw bits in an unknown format. */
  presentRaw(bits: number, data: Buffer): void {
    const head = Buffer.from([0, 1, 0, 0]);
    head.writeUInt16LE(bits, 2);
    this.pending.push({ code: REPLY.RAW, data: Buffer.concat([head, data]) });
  }

  keypad(keys: string): void {
    this.pending.push({ code: REPLY.KEYPAD, data: Buffer.concat([Buffer.from([0, keys.length]), Buffer.from(keys, "latin1")]) });
  }

  /** Input 0 is wired to the door contact (true = open), input 1 to the request-to-exit button. */
  setInput(index: number, active: boolean): void {
    this.inputs[index] = active;
    this.pending.push({ code: REPLY.ISTATR, data: Buffer.from(this.inputs.map((v) => (v ? 1 : 0))) });
  }

  tamper(active: boolean): void {
    this.pending.push({ code: REPLY.LSTATR, data: Buffer.from([active ? 1 : 0, 0]) });
  }

  commands(code: number): ReceivedCommand[] {
    return this.received.filter((c) => c.code === code);
  }

  private write(bytes: Buffer): void {
    this.send(bytes);
  }

  private reply(frame: OsdpFrame, code: number, data: Buffer, scb: Buffer | null = null): void {
    const bytes = encodeFrame({ address: this.options.address, reply: true, sequence: frame.sequence, code, data, scb });
    this.lastReply = { sequence: frame.sequence, bytes };
    this.write(bytes);
  }

  private secureReply(frame: OsdpFrame, code: number, data: Buffer): void {
    const session = this.session!;
    const icv = session.icv!;
    const encrypted = data.length > 0;
    let full: Buffer = Buffer.alloc(16);
    const bytes = encodeFrame({
      address: this.options.address,
      reply: true,
      sequence: frame.sequence,
      code,
      data: encrypted ? encryptData(session.keys, icv, data) : data,
      scb: Buffer.from([0x02, encrypted ? 0x18 : 0x16]),
      mac: (body) => {
        full = frameMac(session.keys, icv, body);
        return full.subarray(0, 4);
      },
    });
    session.icv = full;
    this.lastReply = { sequence: frame.sequence, bytes };
    this.write(bytes);
  }

  private onFrame(frame: OsdpFrame, raw: Buffer): void {
    if (!this.answering || frame.reply || (frame.address !== this.options.address && frame.address !== 0x7f)) return;
    if (this.dropNext > 0) {
      this.dropNext -= 1;
      return;
    }
    // The same sequence number again (not 0) means our reply was lost: send it again unchanged.
    if (frame.sequence !== 0 && this.lastReply && this.lastReply.sequence === frame.sequence) {
      this.write(this.lastReply.bytes);
      return;
    }
    const scbType = frame.scb?.[1];
    if (frame.code === CMD.CHLNG && scbType === 0x11) {
      const useDefault = frame.scb![2] === 0x00;
      // A reader without a key computes from zeros, as libosdp does, so the panel's check fails.
      const key = useDefault ? SCBK_D : (this.scbk ?? Buffer.alloc(16));
      const rndA = frame.data.subarray(0, 8);
      const rndB = crypto.randomBytes(8);
      const keys = deriveSessionKeys(key, rndA);
      this.session = { keys, rndA, rndB, icv: null };
      const cuid = Buffer.from("0c0b990004030201", "hex");
      this.reply(frame, REPLY.CCRYPT, Buffer.concat([cuid, rndB, clientCryptogram(keys, rndA, rndB)]), Buffer.from([0x03, 0x12, frame.scb![2]]));
      return;
    }
    if (frame.code === CMD.SCRYPT && scbType === 0x13 && this.session) {
      const expected = serverCryptogram(this.session.keys, this.session.rndA, this.session.rndB);
      if (!expected.equals(frame.data)) {
        this.session = null;
        this.reply(frame, REPLY.NAK, Buffer.from([6]));
        return;
      }
      const rmac = initialRmac(this.session.keys, expected);
      this.session.icv = rmac;
      this.reply(frame, REPLY.RMAC_I, rmac, Buffer.from([0x03, 0x14, 0x01]));
      return;
    }
    let data = frame.data;
    const secure = scbType === 0x15 || scbType === 0x17;
    if (secure) {
      if (!this.session?.icv) {
        this.reply(frame, REPLY.NAK, Buffer.from([6]));
        return;
      }
      const icv = this.session.icv;
      const mac = frameMac(this.session.keys, icv, raw.subarray(0, raw.length - (frame.useCrc ? 2 : 1) - 4));
      if (!mac.subarray(0, 4).equals(frame.mac!)) {
        this.session = null;
        this.reply(frame, REPLY.NAK, Buffer.from([6]));
        return;
      }
      if (scbType === 0x17) data = decryptData(this.session.keys, icv, frame.data);
      this.session.icv = mac;
    } else if (frame.code !== CMD.ID && frame.code !== CMD.CAP) {
      this.session = null;
    }
    this.received.push({ code: frame.code, data: Buffer.from(data), atMs: performance.now(), secure });
    const answer = this.answer(frame.code, data);
    if (secure) this.secureReply(frame, answer.code, answer.data);
    else this.reply(frame, answer.code, answer.data);
  }

  private answer(code: number, data: Buffer): { code: number; data: Buffer } {
    switch (code) {
      case CMD.POLL:
        return this.pending.shift() ?? { code: REPLY.ACK, data: Buffer.alloc(0) };
      case CMD.ID:
        return { code: REPLY.PDID, data: Buffer.from("0c0b0a9901040302010102" + "03", "hex") };
      case CMD.CAP:
        return { code: REPLY.PDCAP, data: Buffer.from("010102020102030100040101050101090100", "hex") };
      case CMD.LED:
      case CMD.BUZ:
      case CMD.OUT:
      case CMD.TEXT:
        return { code: REPLY.ACK, data: Buffer.alloc(0) };
      case CMD.ISTAT:
        return { code: REPLY.ISTATR, data: Buffer.from(this.inputs.map((v) => (v ? 1 : 0))) };
      case CMD.KEYSET:
        if (data.length === 18 && data[0] === 0x01 && data[1] === 0x10) {
          this.scbk = Buffer.from(data.subarray(2));
          return { code: REPLY.ACK, data: Buffer.alloc(0) };
        }
        return { code: REPLY.NAK, data: Buffer.from([9]) };
      default:
        return { code: REPLY.NAK, data: Buffer.from([3]) };
    }
  }
}
