// SOAP 1.2 over HTTP for ONVIF: WS-Security UsernameToken (PasswordDigest), WS-Addressing headers, faults, HTTP Digest fallback.
import crypto from "node:crypto";
import http from "node:http";
import { DeviceProtocolError } from "../../errors";
import { OnvifAuthError, OnvifFaultError, OnvifUnreachableError } from "./errors";
import { child, escapeXml, list, localName, parseXml, path, text, type XmlNode } from "./xml";

export const NS = {
  soap: "http://www.w3.org/2003/05/soap-envelope",
  wsa: "http://www.w3.org/2005/08/addressing",
  wsse: "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
  wsu: "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
  passwordDigest: "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest",
  base64: "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary",
  device: "http://www.onvif.org/ver10/device/wsdl",
  media: "http://www.onvif.org/ver10/media/wsdl",
  events: "http://www.onvif.org/ver10/events/wsdl",
  wsnt: "http://docs.oasis-open.org/wsn/b-2",
  schema: "http://www.onvif.org/ver10/schema",
} as const;

/** Base64(SHA1(nonce bytes + Created + password)), as WS-Security UsernameToken Profile 1.0 defines the digest. */
export function passwordDigest(nonce: Buffer, created: string, password: string): string {
  return crypto.createHash("sha1").update(Buffer.concat([nonce, Buffer.from(created, "utf8"), Buffer.from(password, "utf8")])).digest("base64");
}

export function securityHeader(username: string, password: string, createdAt: Date, nonce = crypto.randomBytes(16)): string {
  const created = createdAt.toISOString();
  return (
    `<Security s:mustUnderstand="1" xmlns="${NS.wsse}"><UsernameToken><Username>${escapeXml(username)}</Username>` +
    `<Password Type="${NS.passwordDigest}">${passwordDigest(nonce, created, password)}</Password>` +
    `<Nonce EncodingType="${NS.base64}">${nonce.toString("base64")}</Nonce>` +
    `<Created xmlns="${NS.wsu}">${created}</Created></UsernameToken></Security>`
  );
}

export interface EnvelopeOptions {
  /** WS-Security credentials; omitted for calls cameras answer unauthenticated (GetSystemDateAndTime). */
  auth?: { username: string; password: string; createdAt: Date };
  /** wsa:To, needed when calling a subscription manager at its reference address. */
  to?: string;
  action?: string;
  /** Some servers fault on Subscribe without wsa:MessageID (and may still create the subscription): always send one there. */
  messageId?: boolean;
}

export function envelope(body: string, options: EnvelopeOptions = {}): string {
  let header = "";
  if (options.messageId) header += `<a:MessageID>urn:uuid:${crypto.randomUUID()}</a:MessageID>`;
  if (options.action) header += `<a:Action>${escapeXml(options.action)}</a:Action>`;
  if (options.to) header += `<a:To>${escapeXml(options.to)}</a:To>`;
  if (options.auth) header += securityHeader(options.auth.username, options.auth.password, options.auth.createdAt);
  return `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="${NS.soap}" xmlns:a="${NS.wsa}"><s:Header>${header}</s:Header><s:Body>${body}</s:Body></s:Envelope>`;
}

export interface SoapFault {
  codes: string[];
  reason: string;
}

/** Reads a SOAP 1.2 (or 1.1) Fault from an Envelope, or null when the body is not a fault. */
export function readFault(doc: XmlNode): SoapFault | null {
  const fault = path(doc, "Envelope", "Body", "Fault");
  if (!fault) return null;
  const codes: string[] = [];
  let code: unknown = child(fault, "Code");
  if (code) {
    const value = text(child(code, "Value"));
    if (value) codes.push(localName(value));
    let sub: unknown = child(code, "Subcode");
    while (sub) {
      const subValue = text(child(sub, "Value"));
      if (subValue) codes.push(localName(subValue));
      sub = child(sub, "Subcode");
    }
  } else {
    // SOAP 1.1: <faultcode>, <faultstring>
    const faultcode = text(child(fault, "faultcode"));
    if (faultcode) codes.push(localName(faultcode));
  }
  const reasonNode = child(fault, "Reason");
  const reason = (reasonNode ? list(reasonNode, "Text").map((t) => text(t)).find(Boolean) : text(child(fault, "faultstring"))) ?? "";
  return { codes, reason };
}

const AUTH_CODES = new Set(["NotAuthorized", "FailedAuthentication", "InvalidSecurityToken", "FailedCheck", "SenderNotAuthorized"]);

export function isAuthFault(codes: string[]): boolean {
  return codes.some((code) => AUTH_CODES.has(code));
}

/** The Body's first element (the operation's response), after checking for a Fault. */
export function responseBody(doc: XmlNode, what: string): XmlNode {
  const body = path(doc, "Envelope", "Body");
  if (!body) throw new DeviceProtocolError(`${what}: the response is not a SOAP Envelope with a Body`);
  return body;
}

export interface SoapRequest {
  url: string;
  body: string;
  envelope?: Omit<EnvelopeOptions, "auth">;
  /** Sign with WS-Security. */
  authenticate: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
  /** For error messages: the operation name. */
  operation: string;
}

export interface SoapTransportOptions {
  username: string;
  password: string;
  /** Camera clock minus ours: WS-Security Created must be near the camera's clock or it rejects the token. */
  clockOffsetMs(): number;
  maxResponseBytes?: number;
}

interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const md5 = (value: string) => crypto.createHash("md5").update(value).digest("hex");

function digestAuthorization(challenge: string, method: string, uri: string, username: string, password: string): string | null {
  const match = /^\s*Digest\s+(.*)$/is.exec(challenge);
  if (!match) return null;
  const params: Record<string, string> = {};
  const re = /([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|([^,\s]+))/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(match[1]))) params[m[1].toLowerCase()] = m[2] ?? m[3];
  if (!params.realm || !params.nonce) return null;
  const ha1 = md5(`${username}:${params.realm}:${password}`);
  const ha2 = md5(`${method}:${uri}`);
  const qop = params.qop?.split(",").map((q) => q.trim()).includes("auth") ? "auth" : undefined;
  const cnonce = crypto.randomBytes(8).toString("hex");
  const nc = "00000001";
  const response = qop ? md5(`${ha1}:${params.nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : md5(`${ha1}:${params.nonce}:${ha2}`);
  let header = `Digest username="${username}", realm="${params.realm}", nonce="${params.nonce}", uri="${uri}", response="${response}"`;
  if (params.opaque) header += `, opaque="${params.opaque}"`;
  if (qop) header += `, qop=${qop}, nc=${nc}, cnonce="${cnonce}"`;
  return header;
}

/** One client per camera: a keep-alive agent, signing, fault and error classification. */
export class SoapTransport {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  private digestChallenge: string | null = null;

  constructor(private readonly options: SoapTransportOptions) {}

  async call(request: SoapRequest): Promise<XmlNode> {
    const auth = request.authenticate
      ? { username: this.options.username, password: this.options.password, createdAt: new Date(Date.now() + this.options.clockOffsetMs()) }
      : undefined;
    const xml = envelope(request.body, { ...request.envelope, auth });
    let result = await this.post(request, xml, this.digestChallenge);
    if (result.status === 401) {
      const challenge = String(result.headers["www-authenticate"] ?? "");
      if (/^\s*Digest/i.test(challenge) && challenge !== this.digestChallenge) {
        // Cameras that also require HTTP Digest (some Hikvision and Dahua firmwares).
        this.digestChallenge = challenge;
        result = await this.post(request, xml, challenge);
      }
    }
    return this.interpret(request, result);
  }

  close(): void {
    this.agent.destroy();
  }

  private interpret(request: SoapRequest, result: HttpResult): XmlNode {
    const what = `${request.operation} at ${request.url}`;
    if (result.status === 401 || result.status === 403) {
      const fault = result.body.trim() ? this.tryFault(result.body) : null;
      throw new OnvifAuthError(`${what}: the camera refused the credentials (HTTP ${result.status}${fault ? `, ${fault.codes.join("/")}` : ""})`);
    }
    const doc = parseXml(result.body, `${what} (HTTP ${result.status})`);
    const fault = readFault(doc);
    if (fault) {
      const message = `${what}: SOAP fault ${fault.codes.join("/") || "(no code)"}${fault.reason ? ` "${fault.reason}"` : ""}`;
      if (isAuthFault(fault.codes)) throw new OnvifAuthError(message);
      throw new OnvifFaultError(message, fault.codes, result.status);
    }
    if (result.status < 200 || result.status >= 300) throw new DeviceProtocolError(`${what}: HTTP ${result.status} without a SOAP fault`);
    return responseBody(doc, what);
  }

  private tryFault(body: string): SoapFault | null {
    try {
      return readFault(parseXml(body, "fault"));
    } catch {
      return null;
    }
  }

  private post(request: SoapRequest, xml: string, digestChallenge: string | null): Promise<HttpResult> {
    const url = new URL(request.url);
    const payload = Buffer.from(xml, "utf8");
    const headers: http.OutgoingHttpHeaders = {
      "Content-Type": `application/soap+xml; charset=utf-8${request.envelope?.action ? `; action="${request.envelope.action}"` : ""}`,
      "Content-Length": payload.length,
    };
    const uri = `${url.pathname}${url.search}`;
    if (digestChallenge) {
      const authorization = digestAuthorization(digestChallenge, "POST", uri, this.options.username, this.options.password);
      if (authorization) headers.Authorization = authorization;
    }
    const maxBytes = this.options.maxResponseBytes ?? 4 * 1024 * 1024;
    const what = `${request.operation} at ${request.url}`;
    return new Promise<HttpResult>((resolve, reject) => {
      const req = http.request(
        { host: url.hostname, port: url.port || 80, path: uri, method: "POST", headers, agent: this.agent, signal: request.signal },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) {
              req.destroy(new DeviceProtocolError(`${what}: response larger than ${maxBytes} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
          res.on("error", (err) => reject(classifyNetworkError(err, what)));
        },
      );
      req.setTimeout(request.timeoutMs, () => req.destroy(new OnvifUnreachableError(`${what}: no answer within ${request.timeoutMs} ms`)));
      req.on("error", (err) => reject(classifyNetworkError(err, what)));
      req.end(payload);
    });
  }
}

function classifyNetworkError(err: Error, what: string): Error {
  if (err instanceof OnvifUnreachableError || err instanceof DeviceProtocolError) return err;
  if (err.name === "AbortError") return err;
  const code = (err as NodeJS.ErrnoException).code;
  return new OnvifUnreachableError(`${what}: ${code ?? err.message}`, { cause: err });
}
