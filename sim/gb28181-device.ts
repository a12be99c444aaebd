// A simulated GB/T 28181 device (camera or NVR): registers with digest, sends keepalives and alarms (GBK bodies), answers queries.
import crypto from "node:crypto";
import dgram from "node:dgram";
import net from "node:net";
import iconv from "iconv-lite";
import { digestResponse } from "../lib/devices/gb28181/digest";
import { parseManscdp } from "../lib/devices/gb28181/manscdp";
import { header, parseSip, responseTo, serializeSip, type SipMessage } from "../lib/devices/gb28181/sip";

export interface DeviceSimOptions {
  deviceId: string;
  password: string;
  platformHost: string;
  platformPort: number;
  platformId: string;
  domain: string;
  transport?: "udp" | "tcp";
  /** Channel IDs reported in the Catalog; the first is the device itself by default. */
  channels?: string[];
}

export interface AlarmOptions {
  channelId?: string;
  priority?: number;
  method?: number;
  type?: number;
  description?: string;
  sn?: number;
}

export class Gb28181DeviceSim {
  private udp: dgram.Socket | null = null;
  private tcp: net.Socket | null = null;
  private localPort = 0;
  private cseq = 1;
  private sn = 1;
  private keepaliveTimer: NodeJS.Timeout | null = null;
  private readonly waiting = new Map<string, (response: SipMessage) => void>();
  /** Requests the platform sent us (queries, alarm responses, controls), newest last. */
  readonly fromPlatform: Array<{ cmdType: string; root: string; fields: Record<string, unknown>; atMs: number }> = [];
  private readonly callId = `${crypto.randomBytes(6).toString("hex")}@127.0.0.1`;

  constructor(private readonly options: DeviceSimOptions) {}

  async start(): Promise<void> {
    if ((this.options.transport ?? "udp") === "udp") {
      const socket = dgram.createSocket("udp4");
      socket.on("message", (datagram) => this.onMessage(datagram));
      await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
      this.localPort = socket.address().port;
      this.udp = socket;
    } else {
      const socket = net.connect(this.options.platformPort, this.options.platformHost);
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", () => resolve());
        socket.once("error", reject);
      });
      let buffer = Buffer.alloc(0);
      socket.on("data", (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        for (;;) {
          const end = buffer.indexOf("\r\n\r\n");
          if (end < 0) return;
          const length = Number(/\r\ncontent-length\s*:\s*(\d+)/i.exec(buffer.subarray(0, end).toString("latin1"))?.[1] ?? "0");
          if (buffer.length < end + 4 + length) return;
          this.onMessage(buffer.subarray(0, end + 4 + length));
          buffer = buffer.subarray(end + 4 + length);
        }
      });
      socket.on("error", () => undefined);
      this.localPort = socket.localPort ?? 0;
      this.tcp = socket;
    }
  }

  async stop(): Promise<void> {
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = null;
    await new Promise<void>((resolve) => (this.udp ? this.udp.close(() => resolve()) : resolve()));
    this.tcp?.destroy();
    this.udp = null;
    this.tcp = null;
  }

  /** Raw bytes to the platform (malformed input for tests). */
  sendRaw(bytes: Buffer): void {
    if (this.udp) this.udp.send(bytes, this.options.platformPort, this.options.platformHost);
    else this.tcp?.write(bytes);
  }

  private onMessage(datagram: Buffer): void {
    let message: SipMessage;
    try {
      message = parseSip(datagram);
    } catch {
      return;
    }
    if (message.status !== null) {
      const key = `${header(message, "call-id")}|${header(message, "cseq")}`;
      const resolve = this.waiting.get(key);
      if (resolve) {
        this.waiting.delete(key);
        resolve(message);
      }
      return;
    }
    this.sendRaw(responseTo(message, 200, "OK", { toTag: crypto.randomBytes(4).toString("hex") }));
    if (message.method !== "MESSAGE") return;
    try {
      const doc = parseManscdp(message.body);
      this.fromPlatform.push({ cmdType: doc.cmdType, root: doc.root, fields: doc.fields, atMs: performance.now() });
      if (doc.root === "Query") this.answer(doc.cmdType, doc.sn);
    } catch {
      // A platform that sends us nonsense gets its 200 OK and nothing more.
    }
  }

  private request(method: string, extraHeaders: Array<[string, string]>, body: Buffer = Buffer.alloc(0), options: { callId?: string; timeoutMs?: number } = {}): Promise<SipMessage> {
    const cseq = `${this.cseq++} ${method}`;
    const callId = options.callId ?? this.callId;
    const transport = this.udp ? "UDP" : "TCP";
    const uri = `sip:${this.options.platformId}@${this.options.domain}`;
    const bytes = serializeSip({
      method,
      uri,
      status: null,
      reason: null,
      headers: [
        ["Via", `SIP/2.0/${transport} 127.0.0.1:${this.localPort};rport;branch=z9hG4bK${crypto.randomBytes(6).toString("hex")}`],
        ["From", `<sip:${this.options.deviceId}@${this.options.domain}>;tag=${crypto.randomBytes(4).toString("hex")}`],
        ["To", `<sip:${this.options.deviceId}@${this.options.domain}>`],
        ["Call-ID", callId],
        ["CSeq", cseq],
        ["Max-Forwards", "70"],
        ...extraHeaders,
      ],
      body,
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(`${callId}|${cseq}`);
        reject(new Error(`no answer to ${method}`));
      }, options.timeoutMs ?? 2000);
      this.waiting.set(`${callId}|${cseq}`, (response) => {
        clearTimeout(timer);
        resolve(response);
      });
      this.sendRaw(bytes);
    });
  }

  /** REGISTER, answering the digest challenge. Resolves with the final status (200, or 403 for a wrong password). */
  async register(expiresSec = 3600, password = this.options.password): Promise<number> {
    const contact: [string, string] = ["Contact", `<sip:${this.options.deviceId}@127.0.0.1:${this.localPort}>`];
    const first = await this.request("REGISTER", [contact, ["Expires", String(expiresSec)]]);
    if (first.status !== 401) return first.status ?? 0;
    const challengeHeader = header(first, "www-authenticate") ?? "";
    const realm = /realm="([^"]+)"/.exec(challengeHeader)?.[1] ?? this.options.domain;
    const nonce = /nonce="([^"]+)"/.exec(challengeHeader)?.[1] ?? "";
    const uri = `sip:${this.options.platformId}@${this.options.domain}`;
    const response = digestResponse({ username: this.options.deviceId, realm, password, method: "REGISTER", uri, nonce });
    const authorization = `Digest username="${this.options.deviceId}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5`;
    const second = await this.request("REGISTER", [contact, ["Expires", String(expiresSec)], ["Authorization", authorization]]);
    return second.status ?? 0;
  }

  private manscdp(xml: string): Buffer {
    return iconv.encode(`<?xml version="1.0" encoding="GB2312"?>\r\n${xml}\r\n`, "gb18030");
  }

  async keepalive(): Promise<number> {
    const body = this.manscdp(`<Notify>\r\n<CmdType>Keepalive</CmdType>\r\n<SN>${this.sn++}</SN>\r\n<DeviceID>${this.options.deviceId}</DeviceID>\r\n<Status>OK</Status>\r\n</Notify>`);
    return (await this.request("MESSAGE", [["Content-Type", "Application/MANSCDP+xml"]], body)).status ?? 0;
  }

  startKeepalives(intervalMs: number): void {
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = setInterval(() => void this.keepalive().catch(() => undefined), intervalMs);
  }

  stopKeepalives(): void {
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = null;
  }

  /** Sends an Alarm Notify; resolves with the status and when the 200 OK came. */
  async alarm(options: AlarmOptions = {}, send: { callId?: string; timeoutMs?: number } = {}): Promise<{ status: number; sentAtMs: number; okAtMs: number; sn: number }> {
    const sn = options.sn ?? this.sn++;
    const body = this.manscdp(
      [
        "<Notify>",
        "<CmdType>Alarm</CmdType>",
        `<SN>${sn}</SN>`,
        `<DeviceID>${options.channelId ?? this.options.deviceId}</DeviceID>`,
        `<AlarmPriority>${options.priority ?? 1}</AlarmPriority>`,
        `<AlarmMethod>${options.method ?? 5}</AlarmMethod>`,
        `<AlarmTime>2026-11-24T08:00:00</AlarmTime>`,
        `<AlarmDescription>${options.description ?? "区域入侵报警"}</AlarmDescription>`,
        "<Longitude>0.0</Longitude>",
        "<Latitude>0.0</Latitude>",
        `<Info><AlarmType>${options.type ?? 6}</AlarmType></Info>`,
        "</Notify>",
      ].join("\r\n"),
    );
    const sentAtMs = performance.now();
    const response = await this.request("MESSAGE", [["Content-Type", "Application/MANSCDP+xml"]], body, { callId: send.callId ?? `${crypto.randomBytes(6).toString("hex")}@127.0.0.1`, timeoutMs: send.timeoutMs ?? 5000 });
    return { status: response.status ?? 0, sentAtMs, okAtMs: performance.now(), sn };
  }

  private answer(cmdType: string, sn: string): void {
    const channels = this.options.channels ?? [this.options.deviceId];
    let xml: string;
    if (cmdType === "Catalog") {
      const items = channels
        .map((id, i) => `<Item>\r\n<DeviceID>${id}</DeviceID>\r\n<Name>通道${i + 1}</Name>\r\n<Manufacturer>SimCamera</Manufacturer>\r\n<Model>SC-2000</Model>\r\n<Status>ON</Status>\r\n</Item>`)
        .join("\r\n");
      xml = `<Response>\r\n<CmdType>Catalog</CmdType>\r\n<SN>${sn}</SN>\r\n<DeviceID>${this.options.deviceId}</DeviceID>\r\n<SumNum>${channels.length}</SumNum>\r\n<DeviceList Num="${channels.length}">\r\n${items}\r\n</DeviceList>\r\n</Response>`;
    } else if (cmdType === "DeviceInfo") {
      xml = `<Response>\r\n<CmdType>DeviceInfo</CmdType>\r\n<SN>${sn}</SN>\r\n<DeviceID>${this.options.deviceId}</DeviceID>\r\n<DeviceName>模拟摄像机</DeviceName>\r\n<Manufacturer>SimCamera</Manufacturer>\r\n<Model>SC-2000</Model>\r\n<Firmware>V1.0.0</Firmware>\r\n<Channel>${channels.length}</Channel>\r\n</Response>`;
    } else {
      xml = `<Response>\r\n<CmdType>${cmdType}</CmdType>\r\n<SN>${sn}</SN>\r\n<DeviceID>${this.options.deviceId}</DeviceID>\r\n<Result>OK</Result>\r\n<Online>ONLINE</Online>\r\n<Status>ON</Status>\r\n</Response>`;
    }
    void this.request("MESSAGE", [["Content-Type", "Application/MANSCDP+xml"]], this.manscdp(xml), { callId: `${crypto.randomBytes(6).toString("hex")}@127.0.0.1` }).catch(() => undefined);
  }
}

