// SIP Digest authentication with MD5 (RFC 2617, with and without qop=auth), as GB/T 28181 platforms challenge devices.
import crypto from "node:crypto";

const md5 = (text: string) => crypto.createHash("md5").update(text).digest("hex");

export interface DigestCredentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm?: string;
  qop?: string;
  nc?: string;
  cnonce?: string;
  opaque?: string;
}

/** Reads `Digest a="b", c=d` (any spacing, any order, quoted or not). Returns null when it is not a Digest header. */
export function parseDigest(value: string): DigestCredentials | null {
  const match = /^\s*Digest\s+(.*)$/is.exec(value);
  if (!match) return null;
  const params: Record<string, string> = {};
  const re = /([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|([^,\s]+))/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(match[1]))) params[m[1].toLowerCase()] = m[2] ?? m[3];
  if (!params.username || !params.realm || !params.nonce || !params.uri || !params.response) return null;
  return {
    username: params.username,
    realm: params.realm,
    nonce: params.nonce,
    uri: params.uri,
    response: params.response.toLowerCase(),
    algorithm: params.algorithm,
    qop: params.qop,
    nc: params.nc,
    cnonce: params.cnonce,
    opaque: params.opaque,
  };
}

export function digestResponse(options: { username: string; realm: string; password: string; method: string; uri: string; nonce: string; qop?: string; nc?: string; cnonce?: string }): string {
  const ha1 = md5(`${options.username}:${options.realm}:${options.password}`);
  const ha2 = md5(`${options.method}:${options.uri}`);
  if (options.qop === "auth") return md5(`${ha1}:${options.nonce}:${options.nc}:${options.cnonce}:auth:${ha2}`);
  return md5(`${ha1}:${options.nonce}:${ha2}`);
}

/** Checks an Authorization header against the password, for the method of the request it came with. */
export function verifyDigest(credentials: DigestCredentials, method: string, password: string): boolean {
  if (credentials.algorithm && credentials.algorithm.toUpperCase() !== "MD5") return false;
  const expected = digestResponse({ ...credentials, method, password });
  const a = Buffer.from(expected);
  const b = Buffer.from(credentials.response);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

export function challenge(realm: string, nonce: string): string {
  return `Digest realm="${realm}", nonce="${nonce}", algorithm=MD5`;
}
