// WS-Discovery: Probe for NetworkVideoTransmitters over UDP multicast (239.255.255.250:3702) or unicast, read ProbeMatches.
import crypto from "node:crypto";
import dgram from "node:dgram";
import { child, list, text, parseXml, type XmlNode } from "./xml";

export const DISCOVERY_ADDRESS = "239.255.255.250";
export const DISCOVERY_PORT = 3702;

export function probeMessage(messageId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">` +
    `<s:Header><a:MessageID>${messageId}</a:MessageID><a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>` +
    `<a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action></s:Header>` +
    `<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>`
  );
}

export interface DiscoveredCamera {
  /** wsa:EndpointReference Address, usually urn:uuid:… — stable per device. */
  endpoint: string;
  xaddrs: string[];
  /** From the first XAddr, for filling in a camera config. */
  host: string;
  port: number;
  scopes: string[];
  /** onvif://www.onvif.org/name/… and /hardware/… scopes, decoded. */
  name: string | null;
  hardware: string | null;
}

function scopeValue(scopes: string[], kind: string): string | null {
  const prefix = `onvif://www.onvif.org/${kind}/`;
  const scope = scopes.find((s) => s.startsWith(prefix));
  if (!scope) return null;
  try {
    return decodeURIComponent(scope.slice(prefix.length));
  } catch {
    return scope.slice(prefix.length);
  }
}

/** Reads a ProbeMatches datagram; returns null for anything else (other probes, Hello, Bye, junk). */
export function readProbeMatches(datagram: string, relatesTo?: string): DiscoveredCamera[] | null {
  let doc: XmlNode;
  try {
    doc = parseXml(datagram, "WS-Discovery");
  } catch {
    return null;
  }
  const envelope = child(doc, "Envelope");
  const matches = child(child(envelope, "Body"), "ProbeMatches");
  if (!matches) return null;
  if (relatesTo && text(child(child(envelope, "Header"), "RelatesTo")) !== relatesTo) return null;
  const cameras: DiscoveredCamera[] = [];
  for (const match of list(matches, "ProbeMatch")) {
    const xaddrs = (text(child(match, "XAddrs")) ?? "").split(/\s+/).filter(Boolean);
    const first = xaddrs.map((x) => { try { return new URL(x); } catch { return null; } }).find((u) => u !== null);
    if (!first) continue;
    const scopes = (text(child(match, "Scopes")) ?? "").split(/\s+/).filter(Boolean);
    cameras.push({
      endpoint: text(child(child(match, "EndpointReference"), "Address")) ?? xaddrs[0],
      xaddrs,
      host: first.hostname,
      port: Number(first.port || 80),
      scopes,
      name: scopeValue(scopes, "name"),
      hardware: scopeValue(scopes, "hardware"),
    });
  }
  return cameras;
}

export interface ProbeOptions {
  timeoutMs?: number;
  /** Send the probe to this address too (a camera in another subnet, or a simulator in tests). */
  unicast?: { host: string; port: number };
  /** Multicast on the local network (default true). */
  multicast?: boolean;
}

/** Sends one Probe and collects ProbeMatches that answer it until the timeout; one entry per endpoint. */
export async function probe(options: ProbeOptions = {}): Promise<DiscoveredCamera[]> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const messageId = `urn:uuid:${crypto.randomUUID()}`;
  const socket = dgram.createSocket({ type: "udp4", reuseAddr: true });
  const found = new Map<string, DiscoveredCamera>();
  socket.on("message", (datagram) => {
    for (const camera of readProbeMatches(datagram.toString("utf8"), messageId) ?? []) {
      if (!found.has(camera.endpoint)) found.set(camera.endpoint, camera);
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, () => resolve());
  });
  socket.on("error", () => undefined);
  const message = Buffer.from(probeMessage(messageId), "utf8");
  const send = (port: number, host: string) => new Promise<void>((resolve) => socket.send(message, port, host, () => resolve()));
  try {
    if (options.multicast !== false) {
      socket.setMulticastTTL(1);
      await send(DISCOVERY_PORT, DISCOVERY_ADDRESS);
    }
    if (options.unicast) await send(options.unicast.port, options.unicast.host);
    await new Promise((resolve) => setTimeout(resolve, timeoutMs));
  } finally {
    socket.close();
  }
  return [...found.values()];
}
