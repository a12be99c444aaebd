// OSDP Secure Channel: session keys from the SCBK, cryptograms, the MAC chain and AES-CBC data encryption (AES-128).
import crypto from "node:crypto";
import { DeviceProtocolError } from "../../errors";

/** The install-mode default key, SCBK-D: only for commissioning, replaced by a per-site key with KEYSET. */
export const SCBK_D = Buffer.from("303132333435363738393a3b3c3d3e3f", "hex");

export class SecureChannelError extends DeviceProtocolError {}

export interface SessionKeys {
  enc: Buffer;
  mac1: Buffer;
  mac2: Buffer;
}

function aesEcb(key: Buffer, block: Buffer): Buffer {
  const cipher = crypto.createCipheriv("aes-128-ecb", key, null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(block), cipher.final()]);
}

function requireKey(key: Buffer, name: string): void {
  if (key.length !== 16) throw new SecureChannelError(`${name} must be 16 bytes (32 hex characters), got ${key.length}`);
}

export function deriveSessionKeys(scbk: Buffer, rndA: Buffer): SessionKeys {
  requireKey(scbk, "SCBK");
  const block = (b0: number, b1: number) => Buffer.concat([Buffer.from([b0, b1]), rndA.subarray(0, 6), Buffer.alloc(8)]);
  return { enc: aesEcb(scbk, block(0x01, 0x82)), mac1: aesEcb(scbk, block(0x01, 0x01)), mac2: aesEcb(scbk, block(0x01, 0x02)) };
}

/** What the PD proves it holds the key with (CCRYPT); the CP checks it. */
export function clientCryptogram(keys: SessionKeys, rndA: Buffer, rndB: Buffer): Buffer {
  return aesEcb(keys.enc, Buffer.concat([rndA.subarray(0, 8), rndB.subarray(0, 8)]));
}

/** What the CP proves it holds the key with (SCRYPT). */
export function serverCryptogram(keys: SessionKeys, rndA: Buffer, rndB: Buffer): Buffer {
  return aesEcb(keys.enc, Buffer.concat([rndB.subarray(0, 8), rndA.subarray(0, 8)]));
}

/** The initial reply MAC (RMAC_I) that starts the MAC chain. */
export function initialRmac(keys: SessionKeys, serverCryptogramBytes: Buffer): Buffer {
  return aesEcb(keys.mac2, aesEcb(keys.mac1, serverCryptogramBytes));
}

function pad(bytes: Buffer, always: boolean): Buffer {
  if (!always && bytes.length % 16 === 0 && bytes.length > 0) return bytes;
  const padded = Buffer.alloc(Math.ceil((bytes.length + 1) / 16) * 16);
  bytes.copy(padded);
  padded[bytes.length] = 0x80;
  return padded;
}

/** The full 16-byte MAC of a frame (SOM … data); only its first 4 bytes go on the wire. `icv` is the previous MAC in the chain. */
export function frameMac(keys: SessionKeys, icv: Buffer, message: Buffer): Buffer {
  const padded = pad(message, false);
  let chain = icv;
  for (let i = 0; i < padded.length; i += 16) {
    const block = Buffer.alloc(16);
    for (let j = 0; j < 16; j += 1) block[j] = padded[i + j] ^ chain[j];
    chain = aesEcb(i + 16 >= padded.length ? keys.mac2 : keys.mac1, block);
  }
  return chain;
}

function ivFrom(icv: Buffer): Buffer {
  return Buffer.from(icv.map((byte) => ~byte & 0xff));
}

export function encryptData(keys: SessionKeys, icv: Buffer, plain: Buffer): Buffer {
  const cipher = crypto.createCipheriv("aes-128-cbc", keys.enc, ivFrom(icv));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(pad(plain, true)), cipher.final()]);
}

export function decryptData(keys: SessionKeys, icv: Buffer, encrypted: Buffer): Buffer {
  if (encrypted.length === 0 || encrypted.length % 16 !== 0) throw new SecureChannelError(`encrypted OSDP data of ${encrypted.length} bytes is not whole AES blocks`);
  const decipher = crypto.createDecipheriv("aes-128-cbc", keys.enc, ivFrom(icv));
  decipher.setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(encrypted), decipher.final()]);
  const end = plain.lastIndexOf(0x80);
  if (end < 0 || plain.subarray(end + 1).some((byte) => byte !== 0)) throw new SecureChannelError("encrypted OSDP data has no 0x80 padding: wrong key or corrupt frame");
  return plain.subarray(0, end);
}

/** Parses a per-site key from settings: 32 hex characters. */
export function parseScbk(text: string | undefined): Buffer {
  const clean = (text ?? "").replace(/[\s:]/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(clean)) throw new SecureChannelError("the secure channel key must be 32 hex characters (16 bytes)");
  return Buffer.from(clean, "hex");
}
