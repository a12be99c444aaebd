// Face photos and templates: AES-256-GCM at rest with a key from the environment, consent first, deletable on request.
import crypto from "node:crypto";
import { ConfigError, ValidationError } from "../errors";
import type { Store } from "../store";
import { ZoneClock } from "./calendar";

export const FACE_KEY_VARIABLE = "FACE_DATA_KEY";
/** Under this age (in years, at the school's local date) consent must come from a guardian. */
export const GUARDIAN_CONSENT_UNDER = 14;

/** Reads the 32-byte key: 64 hex characters or base64. */
export function faceKeyFromEnv(env: NodeJS.ProcessEnv = process.env): Buffer {
  const text = env[FACE_KEY_VARIABLE];
  if (!text) {
    throw new ConfigError(`${FACE_KEY_VARIABLE} is not set: face data needs a 32-byte key (64 hex characters or base64)`, FACE_KEY_VARIABLE);
  }
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, "hex") : Buffer.from(text, "base64");
  if (key.length !== 32) {
    throw new ConfigError(`${FACE_KEY_VARIABLE} must be 32 bytes (64 hex characters or base64), got ${key.length} bytes`, FACE_KEY_VARIABLE);
  }
  return key;
}

/** The person id is bound in as associated data: a blob moved to another person does not decrypt. */
export function encryptFace(key: Buffer, personId: string, plain: Buffer): { ciphertext: string; iv: string; tag: string } {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(personId, "utf8"));
  const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);
  return { ciphertext: ciphertext.toString("base64"), iv: iv.toString("hex"), tag: cipher.getAuthTag().toString("hex") };
}

export function decryptFace(key: Buffer, personId: string, blob: { ciphertext: string; iv: string; tag: string }): Buffer {
  const decipher = crypto.createDecipheriv("aes-256-gcm", key, Buffer.from(blob.iv, "hex"));
  decipher.setAAD(Buffer.from(personId, "utf8"));
  decipher.setAuthTag(Buffer.from(blob.tag, "hex"));
  try {
    return Buffer.concat([decipher.update(Buffer.from(blob.ciphertext, "base64")), decipher.final()]);
  } catch (err) {
    throw new ConfigError(`face data of ${personId} cannot be decrypted: wrong ${FACE_KEY_VARIABLE} or tampered data`, FACE_KEY_VARIABLE, { cause: err });
  }
}

export function ageOn(birthDate: string, localDate: string): number {
  const [by, bm, bd] = birthDate.split("-").map(Number);
  const [y, m, d] = localDate.split("-").map(Number);
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

/** Face data with consent rules and an audit entry for every read, write and deletion. */
export class FaceDataService {
  constructor(
    private readonly store: Store,
    private readonly key: Buffer,
    private readonly timeZone = "Asia/Shanghai",
  ) {}

  /**
   * Records consent to face recognition. Under 14 (at the school's local date) it must be a linked guardian's;
   * `givenBy` is "self" or the guardian's person id.
   */
  async recordConsent(schoolId: string, personId: string, givenBy: string, actor: string, atMs = Date.now()): Promise<void> {
    const person = await this.store.knex("people").where({ id: personId }).first();
    if (!person) throw new ValidationError(`no person ${personId}`, "personId");
    const today = new ZoneClock(this.timeZone).local(atMs).date;
    const minor = !person.birth_date || ageOn(person.birth_date, today) < GUARDIAN_CONSENT_UNDER;
    if (minor) {
      const guardians = await this.store.access.guardiansOf(personId);
      if (!guardians.includes(givenBy)) {
        throw new ValidationError(
          `${personId} is under ${GUARDIAN_CONSENT_UNDER} (or has no birth date): consent must be given by a linked guardian`,
          "givenBy",
        );
      }
    } else if (givenBy !== "self") {
      throw new ValidationError(`${personId} is ${GUARDIAN_CONSENT_UNDER} or older: consent must be their own ("self")`, "givenBy");
    }
    await this.store.access.recordConsent(schoolId, personId, "face", givenBy, atMs);
    await this.store.audit.record({ schoolId, actor, action: "face-consent", targetType: "person", targetId: personId, details: { givenBy } });
  }

  async save(schoolId: string, personId: string, faceTemplate: Buffer, actor: string): Promise<void> {
    if (!(await this.store.access.activeConsent(personId, "face"))) {
      throw new ValidationError(`no face-recognition consent on record for ${personId}`, "consent");
    }
    await this.store.access.storeFaceData(schoolId, personId, encryptFace(this.key, personId, faceTemplate));
    await this.store.audit.record({ schoolId, actor, action: "face-store", targetType: "person", targetId: personId, details: { bytes: faceTemplate.length } });
  }

  async read(schoolId: string, personId: string, actor: string): Promise<Buffer | undefined> {
    const blob = await this.store.access.faceData(personId);
    if (!blob) return undefined;
    await this.store.audit.record({ schoolId, actor, action: "face-read", targetType: "person", targetId: personId, details: {} });
    return decryptFace(this.key, personId, blob);
  }

  /** Deletion on request (or when consent is withdrawn): the data and the consent go, the audit entry stays. */
  async delete(schoolId: string, personId: string, actor: string, reason: string): Promise<boolean> {
    const deleted = await this.store.access.deleteFaceData(personId);
    await this.store.access.withdrawConsent(personId, "face");
    await this.store.audit.record({ schoolId, actor, action: "face-delete", targetType: "person", targetId: personId, details: { reason, deleted } });
    return deleted;
  }
}
