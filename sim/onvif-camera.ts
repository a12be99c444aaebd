// A simulated ONVIF camera on HTTP: device, media and event services, WS-Security, PullPoint and push, WS-Discovery.
import crypto from "node:crypto";
import dgram from "node:dgram";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { passwordDigest } from "../lib/devices/onvif/soap";
import { DISCOVERY_ADDRESS } from "../lib/devices/onvif/discovery";
import { child, escapeXml, path, text, parseXml, type XmlNode } from "../lib/devices/onvif/xml";

export interface OnvifCameraSimOptions {
  host?: string;
  /** 0 picks a free port on the first start; later starts reuse it. */
  port?: number;
  username?: string;
  password?: string;
  manufacturer?: string;
  model?: string;
  serialNumber?: string;
  /** How a wrong password is answered: a SOAP fault ter:NotAuthorized with HTTP 400 (most cameras) or a bare HTTP 401. */
  authFailure?: "fault" | "http401";
  /** Answer Renew with ter:ActionFailed, as onvif_simple_server does. */
  renewFails?: boolean;
  /** UDP port for WS-Discovery probes; null for none. 3702 also joins the multicast group. */
  discoveryPort?: number | null;
}

export interface SimEventInput {
  topic: string;
  data: Record<string, string>;
  source?: Record<string, string>;
  /** "Changed" unless given; null sends a stateless message without PropertyOperation. */
  operation?: "Initialized" | "Changed" | "Deleted" | null;
}

interface SimMessage extends Required<Omit<SimEventInput, "operation">> {
  operation: string | null;
  utcTime: string;
}

interface SimSubscription {
  id: string;
  kind: "pull" | "push";
  terminationMs: number;
  queue: SimMessage[];
  wake: (() => void) | null;
  consumerUrl: string | null;
  /** Push: Notify POSTs go one after another, in order. */
  sending: Promise<void>;
}

export interface SimRequestRecord {
  operation: string;
  path: string;
  authenticated: boolean;
  messageId: string | null;
}

const SOAP_HEADERS = { "Content-Type": "application/soap+xml; charset=utf-8" };
const ENVELOPE_OPEN =
  '<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:tev="http://www.onvif.org/ver10/events/wsdl" xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:tns1="http://www.onvif.org/ver10/topics" xmlns:ter="http://www.onvif.org/ver10/error">';
const soap = (body: string) => `${ENVELOPE_OPEN}<SOAP-ENV:Body>${body}</SOAP-ENV:Body></SOAP-ENV:Envelope>`;
const fault = (code: string, subcodes: string[], reason: string) =>
  soap(
    `<SOAP-ENV:Fault><SOAP-ENV:Code><SOAP-ENV:Value>SOAP-ENV:${code}</SOAP-ENV:Value>${subcodes.map((s) => `<SOAP-ENV:Subcode><SOAP-ENV:Value>${s}</SOAP-ENV:Value>`).join("")}${"</SOAP-ENV:Subcode>".repeat(subcodes.length)}</SOAP-ENV:Code><SOAP-ENV:Reason><SOAP-ENV:Text xml:lang="en">${escapeXml(reason)}</SOAP-ENV:Text></SOAP-ENV:Reason></SOAP-ENV:Fault>`,
  );
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** ISO-8601 durations as ONVIF clients send them: PT60S, PT2M, PT1H. */
function durationMs(value: string | undefined, fallbackMs: number): number {
  const match = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec(value ?? "");
  if (!match) return fallbackMs;
  return ((Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0)) * 60 + Number(match[3] ?? 0)) * 1000;
}

function simpleItems(items: Record<string, string>): string {
  return Object.entries(items)
    .map(([name, value]) => `<tt:SimpleItem Name="${escapeXml(name)}" Value="${escapeXml(value)}"/>`)
    .join("");
}

function notificationXml(message: SimMessage): string {
  const operation = message.operation === null ? "" : ` PropertyOperation="${message.operation}"`;
  return (
    `<wsnt:NotificationMessage><wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">${escapeXml(message.topic)}</wsnt:Topic>` +
    `<wsnt:Message><tt:Message UtcTime="${message.utcTime}"${operation}><tt:Source>${simpleItems(message.source)}</tt:Source><tt:Data>${simpleItems(message.data)}</tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>`
  );
}

/** The Notify body a push subscriber receives (exported for benchmarks that post it themselves). */
export function notifyXml(messages: SimMessage[]): string {
  return soap(`<wsnt:Notify>${messages.map(notificationXml).join("")}</wsnt:Notify>`);
}

export class OnvifCameraSim {
  readonly host: string;
  private portNumber: number;
  private server: http.Server | null = null;
  private discovery: dgram.Socket | null = null;
  private readonly subscriptions = new Map<string, SimSubscription>();
  /** Property state reported as Initialized to every new subscription. */
  private readonly properties = new Map<string, SimMessage>();
  private nextSubscription = 1;
  private malformedLeft = 0;
  private readonly pushAgent = new http.Agent({ keepAlive: true });
  readonly endpoint = `urn:uuid:${crypto.randomUUID()}`;
  readonly requests: SimRequestRecord[] = [];
  /** Status codes the push consumers answered, in order. */
  readonly notifyStatuses: number[] = [];
  password: string;

  constructor(private readonly options: OnvifCameraSimOptions = {}) {
    this.host = options.host ?? "127.0.0.1";
    this.portNumber = options.port ?? 0;
    this.password = options.password ?? "admin123";
    const source = { Source: "VideoSourceToken" };
    for (const [topic, src] of [
      ["tns1:VideoSource/MotionAlarm", source],
      ["tns1:RuleEngine/LineDetector/Crossed", { VideoSourceConfigurationToken: "VideoSourceToken" }],
      ["tns1:VideoSource/GlobalSceneChange/ImagingService", source],
      ["tns1:Device/Trigger/DigitalInput", { InputToken: "DI_0" }],
    ] as const) {
      this.properties.set(`${topic}?${JSON.stringify(src)}`, { topic, source: { ...src }, data: { State: "false" }, operation: "Initialized", utcTime: iso(Date.now()) });
    }
  }

  get port(): number {
    return this.portNumber;
  }

  get deviceServiceUrl(): string {
    return `http://${this.host}:${this.portNumber}/onvif/device_service`;
  }

  get discoveryPort(): number | null {
    return this.discovery ? (this.discovery.address() as AddressInfo).port : null;
  }

  /** Live subscriptions by kind, for tests. */
  subscriptionCount(kind?: "pull" | "push"): number {
    this.expire();
    return [...this.subscriptions.values()].filter((s) => !kind || s.kind === kind).length;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = http.createServer((req, res) => void this.serve(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.portNumber, this.host, () => resolve());
    });
    this.server = server;
    this.portNumber = (server.address() as AddressInfo).port;
    if (this.options.discoveryPort !== undefined && this.options.discoveryPort !== null) await this.startDiscovery(this.options.discoveryPort);
  }

  /** Like a reboot: connections cut, subscriptions forgotten, the port released (start() takes it again). */
  async stop(): Promise<void> {
    for (const subscription of this.subscriptions.values()) subscription.wake?.();
    this.subscriptions.clear();
    const server = this.server;
    this.server = null;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    this.pushAgent.destroy();
    if (this.discovery) {
      const socket = this.discovery;
      this.discovery = null;
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    }
  }

  /** The next n SOAP answers are broken XML, as a camera with a firmware bug sends. */
  sendMalformed(n: number): void {
    this.malformedLeft = n;
  }

  /** Raises an event: queued on every pull point and posted to every push subscriber. */
  raise(input: SimEventInput): void {
    const message: SimMessage = {
      topic: input.topic,
      data: input.data,
      source: input.source ?? { Source: "VideoSourceToken" },
      operation: input.operation === undefined ? "Changed" : input.operation,
      utcTime: iso(Date.now()),
    };
    if (message.operation !== null) this.properties.set(`${message.topic}?${JSON.stringify(message.source)}`, message);
    this.expire();
    for (const subscription of this.subscriptions.values()) this.deliver(subscription, [message]);
  }

  motion(active: boolean): void {
    this.raise({ topic: "tns1:VideoSource/MotionAlarm", data: { State: String(active) } });
  }

  lineCrossed(): void {
    this.raise({ topic: "tns1:RuleEngine/LineDetector/Crossed", source: { VideoSourceConfigurationToken: "VideoSourceToken" }, data: { State: "true" } });
  }

  private deliver(subscription: SimSubscription, messages: SimMessage[]): void {
    if (subscription.kind === "pull") {
      subscription.queue.push(...messages);
      subscription.wake?.();
      return;
    }
    const body = notifyXml(messages);
    subscription.sending = subscription.sending.then(() => this.postNotify(subscription.consumerUrl!, body));
  }

  private postNotify(consumerUrl: string, body: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const url = new URL(consumerUrl);
      const payload = Buffer.from(body, "utf8");
      const req = http.request(
        { host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: "POST", agent: this.pushAgent, headers: { ...SOAP_HEADERS, "Content-Length": payload.length } },
        (res) => {
          res.resume();
          res.on("end", () => {
            this.notifyStatuses.push(res.statusCode ?? 0);
            resolve();
          });
        },
      );
      req.setTimeout(5000, () => req.destroy());
      req.on("error", () => {
        this.notifyStatuses.push(0);
        resolve();
      });
      req.end(payload);
    });
  }

  private expire(): void {
    const now = Date.now();
    for (const [id, subscription] of this.subscriptions) {
      if (subscription.terminationMs <= now) {
        subscription.wake?.();
        this.subscriptions.delete(id);
      }
    }
  }

  private checkAuth(doc: XmlNode): boolean {
    const token = path(doc, "Envelope", "Header", "Security", "UsernameToken");
    if (!token) return false;
    const username = text(child(token, "Username"));
    const digest = text(child(token, "Password"));
    const nonce = text(child(token, "Nonce"));
    const created = text(child(token, "Created"));
    if (!username || !digest || !nonce || !created) return false;
    return username === (this.options.username ?? "admin") && passwordDigest(Buffer.from(nonce, "base64"), created, this.password) === digest;
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const send = (status: number, xml: string) => {
      if (res.writableEnded || res.destroyed) return;
      if (this.malformedLeft > 0) {
        this.malformedLeft -= 1;
        xml = `${ENVELOPE_OPEN}<SOAP-ENV:Body><broken>`;
      }
      res.writeHead(status, SOAP_HEADERS).end(xml);
    };
    let doc: XmlNode;
    try {
      doc = parseXml(Buffer.concat(chunks).toString("utf8"), "request");
    } catch (err) {
      return send(400, fault("Sender", ["ter:WellFormed"], (err as Error).message));
    }
    const body = path(doc, "Envelope", "Body");
    const operation = Object.keys(body ?? {}).find((k) => !k.startsWith("@") && k !== "#text") ?? "";
    const authenticated = this.checkAuth(doc);
    const requestPath = req.url ?? "/";
    this.requests.push({ operation, path: requestPath, authenticated, messageId: text(path(doc, "Envelope", "Header", "MessageID")) ?? null });
    if (operation !== "GetSystemDateAndTime" && !authenticated) {
      if (this.options.authFailure === "http401") {
        res.writeHead(401).end();
        return;
      }
      return send(400, fault("Sender", ["ter:NotAuthorized"], "Sender not Authorized"));
    }
    const op = child(body, operation);
    const base = `http://${this.host}:${this.portNumber}`;
    switch (operation) {
      case "GetSystemDateAndTime": {
        const now = new Date();
        const t = `<tt:Time><tt:Hour>${now.getUTCHours()}</tt:Hour><tt:Minute>${now.getUTCMinutes()}</tt:Minute><tt:Second>${now.getUTCSeconds()}</tt:Second></tt:Time><tt:Date><tt:Year>${now.getUTCFullYear()}</tt:Year><tt:Month>${now.getUTCMonth() + 1}</tt:Month><tt:Day>${now.getUTCDate()}</tt:Day></tt:Date>`;
        return send(200, soap(`<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone><tt:UTCDateTime>${t}</tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`));
      }
      case "GetCapabilities":
        return send(
          200,
          soap(
            `<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Device><tt:XAddr>${base}/onvif/device_service</tt:XAddr></tt:Device><tt:Events><tt:XAddr>${base}/onvif/events_service</tt:XAddr><tt:WSSubscriptionPolicySupport>true</tt:WSSubscriptionPolicySupport><tt:WSPullPointSupport>true</tt:WSPullPointSupport></tt:Events><tt:Media><tt:XAddr>${base}/onvif/media_service</tt:XAddr></tt:Media></tds:Capabilities></tds:GetCapabilitiesResponse>`,
          ),
        );
      case "GetDeviceInformation":
        return send(
          200,
          soap(
            `<tds:GetDeviceInformationResponse><tds:Manufacturer>${escapeXml(this.options.manufacturer ?? "SchoolSafety Sim")}</tds:Manufacturer><tds:Model>${escapeXml(this.options.model ?? "SimCam 1")}</tds:Model><tds:FirmwareVersion>1.0.0</tds:FirmwareVersion><tds:SerialNumber>${escapeXml(this.options.serialNumber ?? "SIM0001")}</tds:SerialNumber><tds:HardwareId>SIMHW</tds:HardwareId></tds:GetDeviceInformationResponse>`,
          ),
        );
      case "GetProfiles":
        return send(
          200,
          soap(
            `<trt:GetProfilesResponse>${[
              ["Profile_0", 1920, 1080],
              ["Profile_1", 640, 360],
            ]
              .map(([token, w, h]) => `<trt:Profiles token="${token}" fixed="true"><tt:Name>${token}</tt:Name><tt:VideoEncoderConfiguration token="${token}_enc"><tt:Name>${token}_enc</tt:Name><tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>${w}</tt:Width><tt:Height>${h}</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration></trt:Profiles>`)
              .join("")}</trt:GetProfilesResponse>`,
          ),
        );
      case "GetStreamUri": {
        const token = text(child(op, "ProfileToken")) ?? "Profile_0";
        return send(200, soap(`<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>rtsp://${this.host}:8554/${escapeXml(token)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>`));
      }
      case "CreatePullPointSubscription":
      case "Subscribe":
        return this.subscribe(operation, op, base, send);
      case "PullMessages":
        return this.pull(requestPath, op, send);
      case "Renew": {
        const subscription = this.subscriptionAt(requestPath);
        if (!subscription) return send(400, fault("Sender", ["ter:InvalidArgVal", "ter:NoSubscription"], "no such subscription"));
        if (this.options.renewFails) return send(500, fault("Receiver", ["ter:Action", "ter:ActionFailed"], "Action failed"));
        subscription.terminationMs = Date.now() + durationMs(text(child(op, "TerminationTime")), 60_000);
        return send(200, soap(`<wsnt:RenewResponse><wsnt:TerminationTime>${iso(subscription.terminationMs)}</wsnt:TerminationTime><wsnt:CurrentTime>${iso(Date.now())}</wsnt:CurrentTime></wsnt:RenewResponse>`));
      }
      case "Unsubscribe": {
        const subscription = this.subscriptionAt(requestPath);
        if (!subscription) return send(400, fault("Sender", ["ter:InvalidArgVal", "ter:NoSubscription"], "no such subscription"));
        this.subscriptions.delete(subscription.id);
        subscription.wake?.();
        return send(200, soap("<wsnt:UnsubscribeResponse/>"));
      }
      default:
        return send(400, fault("Sender", ["ter:ActionNotSupported"], `${operation || "(none)"} is not supported`));
    }
  }

  private subscriptionAt(requestPath: string): SimSubscription | undefined {
    this.expire();
    const id = new URL(requestPath, "http://x").searchParams.get("sub");
    return id ? this.subscriptions.get(id) : undefined;
  }

  private subscribe(operation: string, op: XmlNode | undefined, base: string, send: (status: number, xml: string) => void): void {
    const push = operation === "Subscribe";
    const consumerUrl = push ? text(path(op, "ConsumerReference", "Address")) : null;
    if (push && !consumerUrl) return send(400, fault("Sender", ["ter:InvalidArgVal"], "ConsumerReference Address missing"));
    const id = String(this.nextSubscription++);
    const nowMs = Date.now();
    const subscription: SimSubscription = {
      id,
      kind: push ? "push" : "pull",
      terminationMs: nowMs + durationMs(text(child(op, "InitialTerminationTime")), 60_000),
      queue: [],
      wake: null,
      consumerUrl: consumerUrl ?? null,
      sending: Promise.resolve(),
    };
    this.subscriptions.set(id, subscription);
    const address = `${base}/onvif/events_service?sub=${id}`;
    const element = push ? "wsnt:SubscribeResponse" : "tev:CreatePullPointSubscriptionResponse";
    const reference = push ? "wsnt:SubscriptionReference" : "tev:SubscriptionReference";
    send(200, soap(`<${element}><${reference}><wsa:Address>${address}</wsa:Address></${reference}><wsnt:CurrentTime>${iso(nowMs)}</wsnt:CurrentTime><wsnt:TerminationTime>${iso(subscription.terminationMs)}</wsnt:TerminationTime></${element}>`));
    // Like real cameras: the current state of every property, as Initialized, right after subscribing.
    const initial = [...this.properties.values()].map((m) => ({ ...m, operation: "Initialized", utcTime: iso(nowMs) }));
    if (initial.length > 0) this.deliver(subscription, initial);
  }

  private pull(requestPath: string, op: XmlNode | undefined, send: (status: number, xml: string) => void): void {
    const subscription = this.subscriptionAt(requestPath);
    if (!subscription || subscription.kind !== "pull") return send(400, fault("Sender", ["ter:InvalidArgVal", "ter:NoSubscription"], "no such pull point"));
    const limit = Number(text(child(op, "MessageLimit")) ?? 100) || 100;
    const timeoutMs = Math.min(durationMs(text(child(op, "Timeout")), 10_000), 60_000);
    const answer = () => {
      subscription.wake = null;
      clearTimeout(timer);
      const messages = subscription.queue.splice(0, limit);
      send(
        200,
        soap(`<tev:PullMessagesResponse><tev:CurrentTime>${iso(Date.now())}</tev:CurrentTime><tev:TerminationTime>${iso(subscription.terminationMs)}</tev:TerminationTime>${messages.map(notificationXml).join("")}</tev:PullMessagesResponse>`),
      );
    };
    const timer = setTimeout(answer, timeoutMs);
    if (subscription.queue.length > 0) return answer();
    subscription.wake = answer;
  }

  private async startDiscovery(port: number): Promise<void> {
    const socket = dgram.createSocket({ type: "udp4", reuseAddr: true });
    socket.on("message", (datagram, from) => {
      let doc: XmlNode;
      try {
        doc = parseXml(datagram.toString("utf8"), "probe");
      } catch {
        return;
      }
      const probe = path(doc, "Envelope", "Body", "Probe");
      if (!probe) return;
      const types = text(child(probe, "Types")) ?? "";
      if (types && !/NetworkVideoTransmitter/.test(types)) return;
      const relatesTo = text(path(doc, "Envelope", "Header", "MessageID")) ?? "";
      const reply =
        `<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">` +
        `<SOAP-ENV:Header><wsa:MessageID>urn:uuid:${crypto.randomUUID()}</wsa:MessageID><wsa:RelatesTo>${escapeXml(relatesTo)}</wsa:RelatesTo><wsa:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To><wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action></SOAP-ENV:Header>` +
        `<SOAP-ENV:Body><d:ProbeMatches><d:ProbeMatch><wsa:EndpointReference><wsa:Address>${this.endpoint}</wsa:Address></wsa:EndpointReference><d:Types>dn:NetworkVideoTransmitter</d:Types>` +
        `<d:Scopes>onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/Profile/Streaming onvif://www.onvif.org/name/${encodeURIComponent(this.options.model ?? "SimCam 1")} onvif://www.onvif.org/hardware/${encodeURIComponent(this.options.manufacturer ?? "SchoolSafety Sim")}</d:Scopes>` +
        `<d:XAddrs>${this.deviceServiceUrl}</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion></d:ProbeMatch></d:ProbeMatches></SOAP-ENV:Body></SOAP-ENV:Envelope>`;
      socket.send(Buffer.from(reply, "utf8"), from.port, from.address);
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(port, () => resolve());
    });
    if (port === 3702) {
      try {
        socket.addMembership(DISCOVERY_ADDRESS);
      } catch {
        // No multicast route (containers): unicast probes still work.
      }
    }
    this.discovery = socket;
  }
}
