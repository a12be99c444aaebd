// XML reading for ONVIF SOAP: one strict parser (malformed documents throw DeviceProtocolError) and small tree helpers.
import { XMLParser } from "fast-xml-parser";
import { DeviceProtocolError } from "../../errors";

export type XmlNode = Record<string, unknown>;

// Elements that may repeat: always arrays, so one and many read the same way.
const REPEATED = new Set(["NotificationMessage", "SimpleItem", "ElementItem", "Profiles", "Service", "ProbeMatch", "Subcode"]);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  // Vendors pick their own prefixes (SOAP-ENV:, env:, s:, none); ONVIF local names are distinct enough to match on.
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  isArray: (name) => REPEATED.has(name),
});

/** Parses and validates a document; throws DeviceProtocolError naming what was wrong. */
export function parseXml(text: string, what: string): XmlNode {
  if (text.trim() === "") throw new DeviceProtocolError(`${what}: empty body where XML was expected`);
  let doc: unknown;
  try {
    doc = parser.parse(text, true);
  } catch (err) {
    throw new DeviceProtocolError(`${what}: malformed XML (${(err as Error).message})`, { cause: err });
  }
  if (typeof doc !== "object" || doc === null) throw new DeviceProtocolError(`${what}: no XML element found`);
  return doc as XmlNode;
}

/** Child element or attribute by local name; undefined when absent. */
export function child(node: unknown, name: string): XmlNode | undefined {
  if (typeof node !== "object" || node === null) return undefined;
  const value = (node as XmlNode)[name];
  if (Array.isArray(value)) return value[0] as XmlNode;
  return value as XmlNode | undefined;
}

/** Walks a path of local names. */
export function path(node: unknown, ...names: string[]): XmlNode | undefined {
  let current: unknown = node;
  for (const name of names) {
    current = child(current, name);
    if (current === undefined) return undefined;
  }
  return current as XmlNode;
}

export function list(node: unknown, name: string): XmlNode[] {
  if (typeof node !== "object" || node === null) return [];
  const value = (node as XmlNode)[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]) as XmlNode[];
}

/** Text content of an element (with or without attributes). */
export function text(node: unknown): string | undefined {
  if (node === undefined || node === null) return undefined;
  if (typeof node === "string") return node;
  if (typeof node === "number" || typeof node === "boolean") return String(node);
  if (typeof node === "object") {
    const value = (node as XmlNode)["#text"];
    if (value !== undefined) return String(value);
    return "";
  }
  return undefined;
}

export function attr(node: unknown, name: string): string | undefined {
  if (typeof node !== "object" || node === null) return undefined;
  const value = (node as XmlNode)[`@${name}`];
  return value === undefined ? undefined : String(value);
}

/** Strips a namespace prefix from a QName value such as "ter:NotAuthorized". */
export function localName(qname: string): string {
  const colon = qname.lastIndexOf(":");
  return colon >= 0 ? qname.slice(colon + 1) : qname;
}

export function escapeXml(value: string): string {
  return value.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);
}
