// The GB/T 28181 platform: the SIP server devices register with (UDP and TCP), keepalive watch, queries, and alarms journaled before 200 OK.
import crypto from "node:crypto";
import dgram from "node:dgram";
import { EventEmitter } from "node:events";
import net from "node:net";
import { DeviceProtocolError, errorMessage } from "../../errors";
import type { SafetyEvent } from "../../events";
import { kindOfAlarm, severityOfPriority } from "./alarm";
import { challenge, parseDigest, verifyDigest } from "./digest";
import { buildManscdp, parseManscdp, type ManscdpDocument } from "./manscdp";
import { header, parseSip, paramOf, responseTo, serializeSip, userOf, type SipMessage } from "./sip";

export interface PlatformOptions {
  schoolId: string;
  host: string;
  /** 0 picks a free port (the same number for UDP and TCP when both run). */
  port: number;
  transports: Array<"udp" | "tcp">;
  platformId: string;
  /** SIP domain and digest realm, e.g. the first 10 digits of the platform ID. */
  domain: string;
  /** The device's password, or null to refuse it (403). */
  passwordFor(deviceId: string): string | null;
  keepaliveIntervalMs?: number;
  missedKeepalives?: number;
  maxExpiresSec?: number;
  /** Makes an event durable; the device's 200 OK waits for it. */
  journal(event: SafetyEvent): Promise<{ duplicate: boolean }>;
}

export interface PlatformDevice {
  deviceId: string;
  online: boolean;
  transport: "udp" | "tcp";
  address: string;
  port: number;
  registeredUntilMs: number;
  lastKeepaliveMs: number;
  info: Record<string, unknown>;
  channels: Array<Record<string, string>>;
}

export interface PlatformEvents {
  event: [event: SafetyEvent, duplicate: boolean];
  registered: [device: PlatformDevice];
  unregistered: [deviceId: string];
  catalog: [device: PlatformDevice];
  "device-info": [device: PlatformDevice];
  /** Bad input from the network: logged with its source, answered 400 where SIP allows. */
  rejected: [reason: string, source: string];
  "auth-failed": [deviceId: string, source: string];
}

interface Peer {
  transport: "udp" | "tcp";
  address: string;
  port: number;
  socket?: net.Socket;
}

const TRANSACTION_MS = 32_000;

export class Gb28181Platform extends EventEmitter<PlatformEvents> {
  private udp: dgram.Socket | null = null;
  private tcp: net.Server | null = null;
  private readonly tcpSockets = new Set<net.Socket>();
  private readonly registry = new Map<string, PlatformDevice & { peer: Peer }>();
  private readonly nonces = new Map<string, number>();
  private readonly transactions = new Map<string, { atMs: number; response: Buffer | null }>();
  private watchdog: NodeJS.Timeout | null = null;
  private sn = 1;
  private cseq = 1;
  localPort = 0;

  constructor(private readonly options: PlatformOptions) {
    super();
  }

  onlineCount(): number {
    let online = 0;
    for (const device of this.registry.values()) if (device.online) online += 1;
    return online;
  }

  devices(): PlatformDevice[] {
    return [...this.registry.values()].map(({ peer: _peer, ...device }) => device);
  }

  async start(): Promise<number> {
    let port = this.options.port;
    if (this.options.transports.includes("udp")) {
      const socket = dgram.createSocket("udp4");
      socket.on("message", (datagram, rinfo) => void this.onDatagram(datagram, { transport: "udp", address: rinfo.address, port: rinfo.port }));
      socket.on("error", (err) => this.emit("rejected", `UDP socket: ${err.message}`, `${this.options.host}:${port}`));
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind(port, this.options.host, () => resolve());
      });
      port = socket.address().port;
      // An alarm storm arrives faster than one turn of the event loop: a larger buffer keeps the kernel from dropping it.
      try {
        socket.setRecvBufferSize(8 * 1024 * 1024);
      } catch {
        // The system limit applies; retransmissions cover what is dropped.
      }
      this.udp = socket;
    }
    if (this.options.transports.includes("tcp")) {
      const server = net.createServer((socket) => this.acceptTcp(socket));
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, this.options.host, () => resolve());
      });
      port = (server.address() as net.AddressInfo).port;
      this.tcp = server;
    }
    this.localPort = port;
    const interval = this.options.keepaliveIntervalMs ?? 60_000;
    this.watchdog = setInterval(() => void this.checkKeepalives(), Math.max(50, Math.min(interval / 4, 5000)));
    return port;
  }

  async stop(): Promise<void> {
    if (this.watchdog) clearInterval(this.watchdog);
    for (const socket of this.tcpSockets) socket.destroy();
    await Promise.all([
      new Promise<void>((resolve) => (this.udp ? this.udp.close(() => resolve()) : resolve())),
      new Promise<void>((resolve) => (this.tcp ? this.tcp.close(() => resolve()) : resolve())),
    ]);
    this.udp = null;
    this.tcp = null;
  }

  private acceptTcp(socket: net.Socket): void {
    this.tcpSockets.add(socket);
    const peer: Peer = { transport: "tcp", address: socket.remoteAddress ?? "?", port: socket.remotePort ?? 0, socket };
    let buffer = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      // A TCP stream carries messages back to back: each ends after its headers and Content-Length bytes.
      for (;;) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) {
          if (buffer.length > 65_535) {
            this.emit("rejected", "TCP stream without a header end", `${peer.address}:${peer.port}`);
            socket.destroy();
          }
          return;
        }
        const length = Number(/\r\n(?:content-length|l)\s*:\s*(\d+)/i.exec(buffer.subarray(0, end).toString("latin1"))?.[1] ?? "0");
        if (buffer.length < end + 4 + length) return;
        const message = buffer.subarray(0, end + 4 + length);
        buffer = buffer.subarray(end + 4 + length);
        void this.onDatagram(Buffer.from(message), peer);
      }
    });
    socket.on("error", () => undefined);
    socket.on("close", () => this.tcpSockets.delete(socket));
  }

  private send(peer: Peer, bytes: Buffer): void {
    if (peer.transport === "udp") this.udp?.send(bytes, peer.port, peer.address);
    else if (peer.socket && !peer.socket.destroyed) peer.socket.write(bytes);
  }

  private async onDatagram(datagram: Buffer, peer: Peer): Promise<void> {
    const source = `${peer.transport}:${peer.address}:${peer.port}`;
    let message: SipMessage;
    try {
      message = parseSip(datagram);
    } catch (err) {
      this.emit("rejected", errorMessage(err), source);
      // A request whose start line and routing headers survived can still be told what was wrong.
      const text = datagram.toString("latin1");
      if (/^[A-Z]+ \S+ SIP\/2\.0\r?\n/.test(text) && /\r?\nvia:/i.test(text) && /\r?\ncall-id:/i.test(text)) {
        const minimal = this.minimalRequest(text);
        if (minimal) this.send(peer, responseTo(minimal, 400, "Bad Request", { headers: [["Warning", `399 platform "${errorMessage(err).replace(/"/g, "'").slice(0, 100)}"`]] }));
      }
      return;
    }
    if (message.status !== null) return;
    const key = `${header(message, "call-id")}|${header(message, "cseq")}|${paramOf(header(message, "via") ?? "", "branch") ?? ""}`;
    const known = this.transactions.get(key);
    if (known) {
      // A retransmission: the same answer again, and nothing done twice.
      if (known.response) this.send(peer, known.response);
      return;
    }
    this.transactions.set(key, { atMs: Date.now(), response: null });
    this.pruneTransactions();
    let response: Buffer;
    try {
      response = await this.handle(message, peer, source);
    } catch (err) {
      this.emit("rejected", errorMessage(err), source);
      const code = err instanceof DeviceProtocolError ? 400 : 500;
      response = responseTo(message, code, code === 400 ? "Bad Request" : "Server Internal Error", { toTag: this.tag(), headers: [["Warning", `399 platform "${errorMessage(err).replace(/"/g, "'").slice(0, 100)}"`]] });
    }
    const entry = this.transactions.get(key);
    if (entry) entry.response = response;
    this.send(peer, response);
  }

  private minimalRequest(text: string): SipMessage | null {
    const lines = text.split(/\r?\n/);
    const headers = new Map<string, string[]>();
    for (const line of lines.slice(1)) {
      const match = /^(via|from|to|call-id|cseq)\s*:\s*(.*)$/i.exec(line);
      if (match) headers.set(match[1].toLowerCase(), [...(headers.get(match[1].toLowerCase()) ?? []), match[2].trim()]);
    }
    if (!headers.has("via") || !headers.has("call-id")) return null;
    for (const name of ["from", "to", "cseq"]) if (!headers.has(name)) headers.set(name, [""]);
    return { method: "?", uri: "", status: null, reason: null, headers, body: Buffer.alloc(0) };
  }

  private pruneTransactions(): void {
    // Entries sit in arrival order: drop from the front until the first one still young enough to be retransmitted.
    const cutoff = Date.now() - TRANSACTION_MS;
    for (const [key, value] of this.transactions) {
      if (value.atMs >= cutoff) break;
      this.transactions.delete(key);
    }
  }

  private tag(): string {
    return crypto.randomBytes(4).toString("hex");
  }

  private async handle(message: SipMessage, peer: Peer, source: string): Promise<Buffer> {
    const deviceId = userOf(header(message, "from") ?? "");
    if (!deviceId) throw new DeviceProtocolError("the From header carries no device ID");
    if (message.method === "REGISTER") return this.register(message, deviceId, peer, source);
    const device = this.registry.get(deviceId);
    if (!device) return responseTo(message, 403, "Forbidden", { toTag: this.tag(), headers: [["Warning", '399 platform "register first"']] });
    device.peer = peer;
    if (message.method !== "MESSAGE") return responseTo(message, 200, "OK", { toTag: this.tag() });
    const doc = parseManscdp(message.body);
    if (doc.cmdType === "Keepalive") {
      device.lastKeepaliveMs = Date.now();
      if (!device.online) await this.setOnline(device, true);
      return responseTo(message, 200, "OK", { toTag: this.tag() });
    }
    if (doc.root === "Notify" && doc.cmdType === "Alarm") return this.alarm(message, device, doc);
    if (doc.root === "Response" && doc.cmdType === "Catalog") {
      const list = (doc.fields.DeviceList as { Item?: Array<Record<string, string>> } | undefined)?.Item ?? [];
      for (const item of list) {
        const existing = device.channels.findIndex((c) => c.DeviceID === item.DeviceID);
        if (existing >= 0) device.channels[existing] = item;
        else device.channels.push(item);
      }
      this.emit("catalog", this.publicView(device));
    } else if (doc.root === "Response" && doc.cmdType === "DeviceInfo") {
      device.info = { ...doc.fields };
      this.emit("device-info", this.publicView(device));
    }
    return responseTo(message, 200, "OK", { toTag: this.tag() });
  }

  private publicView(device: PlatformDevice & { peer: Peer }): PlatformDevice {
    const { peer: _peer, ...view } = device;
    return view;
  }

  private register(message: SipMessage, deviceId: string, peer: Peer, source: string): Buffer {
    const authorization = header(message, "authorization");
    const password = this.options.passwordFor(deviceId);
    if (!authorization) {
      const nonce = crypto.randomBytes(12).toString("hex");
      this.nonces.set(nonce, Date.now());
      return responseTo(message, 401, "Unauthorized", { toTag: this.tag(), headers: [["WWW-Authenticate", challenge(this.options.domain, nonce)]] });
    }
    const credentials = parseDigest(authorization);
    const issued = credentials ? this.nonces.get(credentials.nonce) : undefined;
    if (!credentials || password === null || credentials.username !== deviceId || !verifyDigest(credentials, "REGISTER", password) || issued === undefined) {
      this.emit("auth-failed", deviceId, source);
      return responseTo(message, 403, "Forbidden", { toTag: this.tag() });
    }
    this.nonces.delete(credentials.nonce);
    const expiresText = header(message, "expires") ?? paramOf(header(message, "contact") ?? "", "expires") ?? "3600";
    const expires = Math.min(Number(expiresText) || 0, this.options.maxExpiresSec ?? 3600);
    const dateHeader: [string, string] = ["Date", new Date().toISOString().slice(0, 23)];
    if (expires <= 0) {
      const existing = this.registry.get(deviceId);
      this.registry.delete(deviceId);
      if (existing?.online) void this.setOnline(existing, false, "unregistered");
      this.emit("unregistered", deviceId);
      return responseTo(message, 200, "OK", { toTag: this.tag(), headers: [["Expires", "0"], dateHeader] });
    }
    const now = Date.now();
    const existing = this.registry.get(deviceId);
    const device = existing ?? { deviceId, online: false, transport: peer.transport, address: peer.address, port: peer.port, registeredUntilMs: 0, lastKeepaliveMs: now, info: {}, channels: [], peer };
    Object.assign(device, { transport: peer.transport, address: peer.address, port: peer.port, registeredUntilMs: now + expires * 1000, lastKeepaliveMs: now, peer });
    this.registry.set(deviceId, device);
    const response = responseTo(message, 200, "OK", { toTag: this.tag(), headers: [["Expires", String(expires)], dateHeader] });
    setImmediate(() => {
      if (!device.online) void this.setOnline(device, true);
      this.emit("registered", this.publicView(device));
      this.query(deviceId, "Catalog");
      this.query(deviceId, "DeviceInfo");
    });
    return response;
  }

  private async alarm(message: SipMessage, device: PlatformDevice & { peer: Peer }, doc: ManscdpDocument): Promise<Buffer> {
    const priority = Number(doc.fields.AlarmPriority ?? 4);
    const method = Number(doc.fields.AlarmMethod ?? 7);
    const info = doc.fields.Info as { AlarmType?: string } | undefined;
    const type = info?.AlarmType !== undefined ? Number(info.AlarmType) : null;
    const alarmTime = typeof doc.fields.AlarmTime === "string" ? doc.fields.AlarmTime : "";
    const event: SafetyEvent = {
      // Stable when the device sends the same alarm again, even under a new Call-ID.
      eventId: `gb28181:${device.deviceId}:${doc.deviceId}:${doc.sn}:${alarmTime}`.replace(/[^\w.:@/+-]/g, "_").slice(0, 128),
      schoolId: this.options.schoolId,
      deviceId: doc.deviceId,
      kind: kindOfAlarm(method, type),
      severity: severityOfPriority(Number.isFinite(priority) ? priority : 4),
      occurredAt: new Date().toISOString(),
      source: "gb28181",
      details: {
        deviceId: device.deviceId,
        channelId: doc.deviceId,
        alarmPriority: priority,
        alarmMethod: method,
        alarmType: type,
        alarmTime,
        description: doc.fields.AlarmDescription ?? null,
        longitude: doc.fields.Longitude !== undefined ? Number(doc.fields.Longitude) : null,
        latitude: doc.fields.Latitude !== undefined ? Number(doc.fields.Latitude) : null,
        sn: doc.sn,
      },
    };
    const { duplicate } = await this.options.journal(event);
    this.emit("event", event, duplicate);
    // The Alarm Response follows the 200 OK.
    setImmediate(() => this.sendMessage(device, buildManscdp("Response", [["CmdType", "Alarm"], ["SN", doc.sn], ["DeviceID", doc.deviceId], ["Result", "OK"]])));
    return responseTo(message, 200, "OK", { toTag: this.tag() });
  }

  private async setOnline(device: PlatformDevice, online: boolean, reason = "keepalive"): Promise<void> {
    device.online = online;
    const now = Date.now();
    const event: SafetyEvent = {
      eventId: `gb28181:${device.deviceId}:${online ? "online" : "offline"}:${now}`,
      schoolId: this.options.schoolId,
      deviceId: device.deviceId,
      kind: online ? "device-online" : "device-offline",
      severity: online ? "info" : "high",
      occurredAt: new Date(now).toISOString(),
      source: "gb28181",
      details: { reason, lastKeepalive: new Date(device.lastKeepaliveMs).toISOString() },
    };
    try {
      const { duplicate } = await this.options.journal(event);
      this.emit("event", event, duplicate);
    } catch (err) {
      this.emit("rejected", `device ${online ? "online" : "offline"} event not stored: ${errorMessage(err)}`, device.deviceId);
    }
  }

  private async checkKeepalives(): Promise<void> {
    const now = Date.now();
    const silence = (this.options.keepaliveIntervalMs ?? 60_000) * (this.options.missedKeepalives ?? 3);
    for (const device of this.registry.values()) {
      if (device.registeredUntilMs < now) {
        this.registry.delete(device.deviceId);
        if (device.online) await this.setOnline(device, false, "registration expired");
        this.emit("unregistered", device.deviceId);
      } else if (device.online && now - device.lastKeepaliveMs > silence) {
        await this.setOnline(device, false, "keepalives missed");
      }
    }
  }

  private sendMessage(device: PlatformDevice & { peer: Peer }, body: Buffer): void {
    const branch = `z9hG4bK${crypto.randomBytes(6).toString("hex")}`;
    const host = this.options.host === "0.0.0.0" ? "127.0.0.1" : this.options.host;
    const bytes = serializeSip({
      method: "MESSAGE",
      uri: `sip:${device.deviceId}@${device.address}:${device.port}`,
      status: null,
      reason: null,
      headers: [
        ["Via", `SIP/2.0/${device.peer.transport.toUpperCase()} ${host}:${this.localPort};rport;branch=${branch}`],
        ["From", `<sip:${this.options.platformId}@${this.options.domain}>;tag=${this.tag()}`],
        ["To", `<sip:${device.deviceId}@${this.options.domain}>`],
        ["Call-ID", `${crypto.randomBytes(8).toString("hex")}@${host}`],
        ["CSeq", `${this.cseq++} MESSAGE`],
        ["Max-Forwards", "70"],
        ["Content-Type", "Application/MANSCDP+xml"],
      ],
      body,
    });
    this.send(device.peer, bytes);
  }

  /** Sends a Query (Catalog, DeviceInfo, DeviceStatus); the answer arrives as a MESSAGE and is reported by event. */
  query(deviceId: string, cmdType: "Catalog" | "DeviceInfo" | "DeviceStatus"): boolean {
    const device = this.registry.get(deviceId);
    if (!device) return false;
    this.sendMessage(device, buildManscdp("Query", [["CmdType", cmdType], ["SN", this.sn++], ["DeviceID", deviceId]]));
    return true;
  }

  /** Control ResetAlarm for a device or one of its channels. */
  resetAlarm(deviceId: string, channelId = deviceId): boolean {
    const device = this.registry.get(deviceId);
    if (!device) return false;
    this.sendMessage(device, buildManscdp("Control", [["CmdType", "DeviceControl"], ["SN", this.sn++], ["DeviceID", channelId], ["AlarmCmd", "ResetAlarm"]]));
    return true;
  }
}
