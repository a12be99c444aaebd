// The OSDP control panel: polls the readers on one RS-485 line in turn, keeps each link (and its Secure Channel) alive, reports what they say.
import crypto from "node:crypto";
import { EventEmitter } from "node:events";
import { errorMessage } from "../../errors";
import { FrameReassembler, encodeFrame, type OsdpFrame } from "./frame";
import { CMD, decodeReply, type OsdpReply, type PdCapability, type PdId } from "./messages";
import {
  SCBK_D,
  SecureChannelError,
  clientCryptogram,
  decryptData,
  deriveSessionKeys,
  encryptData,
  frameMac,
  initialRmac,
  serverCryptogram,
  type SessionKeys,
} from "./secure-channel";
import type { WiegandCard } from "./wiegand";

export interface ReaderConfig {
  address: number;
}

export interface ControlPanelOptions {
  readers: ReaderConfig[];
  write(bytes: Buffer): Promise<void>;
  /** Secure Channel for every reader on the line; when set, the panel never falls back to plaintext. */
  secure?: { scbk: Buffer; installMode?: boolean } | null;
  pollIntervalMs?: number;
  replyTimeoutMs?: number;
  /** Unanswered polls after which a reader is offline (a cut or tampered cable looks like this). */
  offlineAfterMisses?: number;
}

export interface ControlPanelEvents {
  online: [address: number, info: { id: PdId | null; capabilities: PdCapability[]; secure: boolean }];
  offline: [address: number, reason: string];
  card: [address: number, reader: number, card: WiegandCard];
  keypad: [address: number, reader: number, keys: string];
  inputs: [address: number, states: boolean[]];
  "local-status": [address: number, status: { tamper: boolean; power: boolean }];
  nak: [address: number, reason: number, meaning: string];
  "secure-failed": [address: number, reason: string];
  keyset: [address: number];
  garbage: [reason: string];
}

interface Command {
  code: number;
  data: Buffer;
  resolve(reply: OsdpReply): void;
  reject(err: Error): void;
}

interface ReaderLink {
  address: number;
  online: boolean;
  /** The next sequence number; 0 restarts the link. */
  sequence: number;
  keys: SessionKeys | null;
  icv: Buffer | null;
  queue: Command[];
  /** When the next connection attempt may start (after a failed handshake). */
  retryAtMs: number;
}

/** A reply with the bytes it came in (MACs are computed over them). */
type ReceivedFrame = OsdpFrame & { raw: Buffer };

interface Pending {
  address: number;
  resolve(frame: ReceivedFrame): void;
}

export class OsdpControlPanel extends EventEmitter<ControlPanelEvents> {
  private readonly links: ReaderLink[];
  private readonly reassembler: FrameReassembler;
  private pending: Pending | null = null;
  private running = false;
  private loop: Promise<void> | null = null;

  constructor(private readonly options: ControlPanelOptions) {
    super();
    this.links = options.readers.map((r) => ({ address: r.address, online: false, sequence: 0, keys: null, icv: null, queue: [], retryAtMs: 0 }));
    this.reassembler = new FrameReassembler({
      frame: (frame, raw) => {
        if (frame.reply && this.pending && frame.address === this.pending.address) {
          const pending = this.pending;
          this.pending = null;
          pending.resolve({ ...frame, raw });
        }
      },
      garbage: (err) => this.emit("garbage", err.message),
    });
  }

  /** Adds a reader to the polling round (door nodes register as they start). */
  addReader(address: number): void {
    if (address < 0 || address > 126 || !Number.isInteger(address)) throw new Error(`OSDP address must be 0–126, got ${address}`);
    if (this.links.some((l) => l.address === address)) throw new Error(`OSDP address ${address} is already used on this line`);
    this.links.push({ address, online: false, sequence: 0, keys: null, icv: null, queue: [], retryAtMs: 0 });
  }

  removeReader(address: number): void {
    const index = this.links.findIndex((l) => l.address === address);
    if (index < 0) return;
    const [link] = this.links.splice(index, 1);
    for (const command of link.queue.splice(0)) command.reject(new Error(`reader ${address} was removed`));
  }

  /** Bytes from the serial line. */
  push(chunk: Buffer): void {
    this.reassembler.push(chunk);
  }

  /** The line dropped: forget the partial frame. */
  lineReset(): void {
    this.reassembler.reset();
  }

  isOnline(address: number): boolean {
    return this.links.find((l) => l.address === address)?.online ?? false;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    for (const link of this.links) for (const command of link.queue.splice(0)) command.reject(new Error("the OSDP line was stopped"));
  }

  /** Queues a command for a reader; resolves with its reply (ACK, NAK, …) once the reader answered. */
  command(address: number, code: number, data: Buffer = Buffer.alloc(0)): Promise<OsdpReply> {
    const link = this.links.find((l) => l.address === address);
    if (!link) return Promise.reject(new Error(`no reader at OSDP address ${address} on this line`));
    if (!link.online) return Promise.reject(new Error(`the reader at OSDP address ${address} is offline`));
    return new Promise((resolve, reject) => link.queue.push({ code, data, resolve, reject }));
  }

  private async run(): Promise<void> {
    const interval = this.options.pollIntervalMs ?? 200;
    while (this.running) {
      const roundStarted = Date.now();
      for (const link of this.links) {
        if (!this.running) break;
        try {
          if (link.online) await this.service(link);
          else if (Date.now() >= link.retryAtMs) await this.connect(link);
        } catch (err) {
          this.goOffline(link, errorMessage(err));
        }
      }
      const rest = interval - (Date.now() - roundStarted);
      // A queued command (an unlock) does not wait for the next round.
      const waiting = this.links.some((l) => l.online && l.queue.length > 0);
      if (rest > 0 && !waiting) await this.sleepUnlessCommand(rest);
    }
  }

  private sleepUnlessCommand(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const started = Date.now();
      const tick = () => {
        if (!this.running || Date.now() - started >= ms || this.links.some((l) => l.online && l.queue.length > 0)) resolve();
        else setTimeout(tick, Math.min(5, ms));
      };
      tick();
    });
  }

  private goOffline(link: ReaderLink, reason: string): void {
    const wasOnline = link.online;
    link.online = false;
    link.sequence = 0;
    link.keys = null;
    link.icv = null;
    link.retryAtMs = Date.now() + (this.options.pollIntervalMs ?? 200) * 5;
    for (const command of link.queue.splice(0)) command.reject(new Error(`reader ${link.address} went offline: ${reason}`));
    if (wasOnline) this.emit("offline", link.address, reason);
  }

  private nextSequence(link: ReaderLink): number {
    const sequence = link.sequence;
    link.sequence = sequence >= 3 ? 1 : sequence + 1;
    return sequence;
  }

  /** Sends one frame and waits for its reply; retransmits the same frame on silence; null when the reader stays silent. */
  private async transact(link: ReaderLink, build: (sequence: number) => Buffer, attempts: number): Promise<ReceivedFrame | null> {
    const frame = build(this.nextSequence(link));
    const timeout = this.options.replyTimeoutMs ?? 200;
    for (let attempt = 0; attempt < attempts && this.running; attempt += 1) {
      const reply = new Promise<ReceivedFrame | null>((resolve) => {
        const timer = setTimeout(() => {
          if (this.pending?.address === link.address) this.pending = null;
          resolve(null);
        }, timeout);
        this.pending = {
          address: link.address,
          resolve: (f) => {
            clearTimeout(timer);
            resolve(f);
          },
        };
      });
      await this.options.write(frame).catch(() => undefined);
      const answer = await reply;
      if (answer) return answer;
    }
    return null;
  }

  private plainFrame(link: ReaderLink, code: number, data: Buffer, scb: Buffer | null = null) {
    return (sequence: number) => encodeFrame({ address: link.address, sequence, code, data, scb });
  }

  private secureFrame(link: ReaderLink, code: number, data: Buffer): (sequence: number) => Buffer {
    const keys = link.keys!;
    return (sequence: number) => {
      const icv = link.icv!;
      const encrypted = data.length > 0;
      const payload = encrypted ? encryptData(keys, icv, data) : data;
      let fullMac: Buffer = Buffer.alloc(16);
      const bytes = encodeFrame({
        address: link.address,
        sequence,
        code,
        data: payload,
        scb: Buffer.from([0x02, encrypted ? 0x17 : 0x15]),
        mac: (body) => {
          fullMac = frameMac(keys, icv, body);
          return fullMac.subarray(0, 4);
        },
      });
      link.icv = fullMac;
      return bytes;
    };
  }

  /** Checks a secure reply's MAC and opens its data; the chain moves on to the reply's MAC. */
  private openSecureReply(link: ReaderLink, frame: ReceivedFrame): Buffer {
    if (!frame.scb || (frame.scb[1] !== 0x16 && frame.scb[1] !== 0x18)) {
      throw new SecureChannelError(`reader ${link.address} answered in plaintext inside the Secure Channel`);
    }
    const icv = link.icv!;
    const mac = frameMac(link.keys!, icv, frame.raw.subarray(0, frame.raw.length - (frame.useCrc ? 2 : 1) - 4));
    if (!mac.subarray(0, 4).equals(frame.mac!)) throw new SecureChannelError(`reader ${link.address} sent a reply whose MAC does not match`);
    link.icv = mac;
    return frame.scb[1] === 0x18 && frame.data.length > 0 ? decryptData(link.keys!, icv, frame.data) : frame.data;
  }

  private async exchange(link: ReaderLink, code: number, data: Buffer, attempts: number): Promise<OsdpReply | null> {
    const secure = link.keys !== null && link.icv !== null;
    const frame = await this.transact(link, secure ? this.secureFrame(link, code, data) : this.plainFrame(link, code, data), attempts);
    if (!frame) return null;
    if (!secure) {
      if (frame.scb && this.options.secure) throw new SecureChannelError(`reader ${link.address} sent a secure reply outside a session`);
      return decodeReply(frame.code, frame.data);
    }
    return decodeReply(frame.code, this.openSecureReply(link, frame));
  }

  private async connect(link: ReaderLink): Promise<void> {
    link.sequence = 0;
    link.keys = null;
    link.icv = null;
    const id = await this.exchange(link, CMD.ID, Buffer.from([0]), 1);
    if (!id) {
      link.retryAtMs = Date.now() + (this.options.pollIntervalMs ?? 200);
      return;
    }
    const caps = await this.exchange(link, CMD.CAP, Buffer.from([0]), 2);
    const secure = this.options.secure;
    if (secure) {
      try {
        await this.handshake(link, secure.installMode ? SCBK_D : secure.scbk, secure.installMode === true);
        if (secure.installMode) {
          // Commissioning: hand the reader the per-site key under SCBK-D, then start again on the new key.
          const reply = await this.exchange(link, CMD.KEYSET, Buffer.concat([Buffer.from([0x01, 0x10]), secure.scbk]), 3);
          if (reply?.type !== "ack") throw new SecureChannelError(`reader ${link.address} did not accept the new key (KEYSET)`);
          this.emit("keyset", link.address);
          secure.installMode = false;
          link.sequence = 0;
          await this.handshake(link, secure.scbk, false);
        }
      } catch (err) {
        link.keys = null;
        link.icv = null;
        link.retryAtMs = Date.now() + 2000;
        this.emit("secure-failed", link.address, errorMessage(err));
        return;
      }
    }
    link.online = true;
    this.emit("online", link.address, {
      id: id.type === "pdid" ? id.id : null,
      capabilities: caps?.type === "pdcap" ? caps.capabilities : [],
      secure: Boolean(secure),
    });
  }

  private async handshake(link: ReaderLink, scbk: Buffer, defaultKey: boolean): Promise<void> {
    link.sequence = 0;
    const rndA = crypto.randomBytes(8);
    const challenge = await this.transact(link, this.plainFrame(link, CMD.CHLNG, rndA, Buffer.from([0x03, 0x11, defaultKey ? 0x00 : 0x01])), 2);
    if (!challenge) throw new SecureChannelError(`reader ${link.address} did not answer the Secure Channel challenge`);
    const ccrypt = decodeReply(challenge.code, challenge.data);
    if (ccrypt.type !== "ccrypt") throw new SecureChannelError(`reader ${link.address} answered the challenge with ${ccrypt.type}: it may not support the Secure Channel`);
    const keys = deriveSessionKeys(scbk, rndA);
    if (!clientCryptogram(keys, rndA, ccrypt.rndB).equals(ccrypt.clientCryptogram)) {
      throw new SecureChannelError(`reader ${link.address} holds a different Secure Channel key (its cryptogram does not match)`);
    }
    const server = serverCryptogram(keys, rndA, ccrypt.rndB);
    const answer = await this.transact(link, this.plainFrame(link, CMD.SCRYPT, server, Buffer.from([0x03, 0x13, defaultKey ? 0x00 : 0x01])), 2);
    const rmac = answer ? decodeReply(answer.code, answer.data) : null;
    if (rmac?.type !== "rmac-i" || !rmac.mac.equals(initialRmac(keys, server))) {
      throw new SecureChannelError(`reader ${link.address} did not confirm the Secure Channel session`);
    }
    link.keys = keys;
    link.icv = rmac.mac;
  }

  private async service(link: ReaderLink): Promise<void> {
    const command = link.queue.shift();
    // Silence is answered by sending the identical frame again (same sequence, same MAC); after the last try the reader is offline.
    const reply = await this.exchange(link, command?.code ?? CMD.POLL, command?.data ?? Buffer.alloc(0), this.options.offlineAfterMisses ?? 3);
    if (!reply) {
      if (command) command.reject(new Error(`reader ${link.address} did not answer`));
      this.goOffline(link, "no answer to polls");
      return;
    }
    command?.resolve(reply);
    this.report(link, reply);
  }

  private report(link: ReaderLink, reply: OsdpReply): void {
    switch (reply.type) {
      case "card":
        this.emit("card", link.address, reply.reader, reply.card);
        break;
      case "keypad":
        this.emit("keypad", link.address, reply.reader, reply.keys);
        break;
      case "inputs":
        this.emit("inputs", link.address, reply.states);
        break;
      case "local-status":
        this.emit("local-status", link.address, { tamper: reply.tamper, power: reply.power });
        break;
      case "nak":
        this.emit("nak", link.address, reply.reason, reply.meaning);
        if (reply.reason === 4) link.sequence = 0;
        break;
      default:
        break;
    }
  }
}
