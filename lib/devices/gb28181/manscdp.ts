// MANSCDP bodies (GB/T 28181 XML): decoded from GB2312/GBK/UTF-8 by what they declare, then read into plain records.
import { XMLParser } from "fast-xml-parser";
import iconv from "iconv-lite";
import { DeviceProtocolError } from "../../errors";

export class ManscdpError extends DeviceProtocolError {}

export type ManscdpRoot = "Notify" | "Query" | "Response" | "Control";

export interface ManscdpDocument {
  root: ManscdpRoot;
  cmdType: string;
  /** Kept as text: some devices send millisecond timestamps that do not fit 32 bits. */
  sn: string;
  deviceId: string;
  /** Every child element as text or nested records (lists as arrays). */
  fields: Record<string, unknown>;
}

/**
 * Decodes by the XML declaration, but GB2312 is read as GB18030 (a superset of GBK and GB2312): devices declare GB2312
 * and send characters only GBK has.
 */
export function decodeBody(body: Buffer): string {
  const declared = /encoding\s*=\s*["']([\w-]+)["']/i.exec(body.subarray(0, 100).toString("latin1"))?.[1]?.toLowerCase();
  if (declared && declared !== "utf-8" && declared !== "utf8") return iconv.decode(body, "gb18030");
  const utf8 = new TextDecoder("utf-8", { fatal: false }).decode(body);
  return utf8.includes("\uFFFD") ? iconv.decode(body, "gb18030") : utf8;
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@", parseTagValue: false, trimValues: true, ignoreDeclaration: true, isArray: (name) => name === "Item" });

export function parseManscdp(body: Buffer): ManscdpDocument {
  const text = decodeBody(body);
  let parsed: Record<string, unknown>;
  try {
    parsed = parser.parse(text, true) as Record<string, unknown>;
  } catch (err) {
    throw new ManscdpError(`MANSCDP body is not well-formed XML: ${(err as Error).message}`);
  }
  const root = (["Notify", "Query", "Response", "Control"] as const).find((name) => name in parsed);
  if (!root) throw new ManscdpError(`MANSCDP body has no Notify, Query, Response or Control root (found ${Object.keys(parsed).join(", ") || "nothing"})`);
  const fields = parsed[root] as Record<string, unknown>;
  if (typeof fields !== "object" || fields === null) throw new ManscdpError(`MANSCDP <${root}> is empty`);
  const text1 = (name: string) => {
    const value = fields[name];
    if (typeof value !== "string" || value === "") throw new ManscdpError(`MANSCDP <${root}> lacks <${name}>`);
    return value;
  };
  return { root, cmdType: text1("CmdType"), sn: text1("SN"), deviceId: text1("DeviceID"), fields };
}

/** A MANSCDP document in GB2312 (GB18030-encoded bytes), as platforms send them. */
export function buildManscdp(root: ManscdpRoot, fields: Array<[string, string | number]>): Buffer {
  const escape = (v: string) => v.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const xml = `<?xml version="1.0" encoding="GB2312"?>\r\n<${root}>\r\n${fields.map(([k, v]) => `<${k}>${escape(String(v))}</${k}>`).join("\r\n")}\r\n</${root}>\r\n`;
  return iconv.encode(xml, "gb18030");
}
