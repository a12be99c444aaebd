// Contact ID against the shared vectors (cross-checked with SpanDSP), the event table, framing and button profiles.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import {
  AlarmPanelReceiver,
  BUTTON_PROFILE,
  ContactIdError,
  KISSOFF,
  LineFramer,
  REFUSAL,
  contactIdCheckDigit,
  encodeContactId,
  lineProfileFrom,
  parseContactId,
  parseLine,
} from "../../../../lib/devices/alarm-panel";
import { sharedJournalWriter } from "../../../../lib/events";
import { Store } from "../../../../lib/store";
import { tempDir } from "../../../support/stores";

const REPO_ROOT = path.resolve(__dirname, "..", "..", "..", "..", "..");
// A copy of ../shared/vectors/contact-id (see test/vectors/README.md), so that a bare checkout can run the specs.
const VECTORS = path.resolve(REPO_ROOT, "test", "vectors", "contact-id", "vectors.txt");

interface Vector {
  message: string;
  status: "VALID" | "INVALID" | "INVALID-SEMANTIC";
  fields: string[];
  meaning: string;
}

function vectors(): Vector[] {
  return fs
    .readFileSync(VECTORS, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("#"))
    .map((line) => {
      const parts = line.split("|");
      return { message: parts[0], status: parts[1] as Vector["status"], fields: parts.slice(2, 11), meaning: parts[12] };
    });
}

describe("Contact ID (SIA DC-05)", function () {
  const all = vectors();

  it("reads the shared vectors file: 27 valid, 8 invalid, 2 semantically invalid", function () {
    assert.deepEqual(
      ["VALID", "INVALID", "INVALID-SEMANTIC"].map((status) => all.filter((v) => v.status === status).length),
      [27, 8, 2],
    );
  });

  for (const vector of vectors().filter((v) => v.status === "VALID")) {
    it(`decodes ${vector.message}: ${vector.meaning.split(";")[0]}`, function () {
      const [account, mt, qualifier, event, group, zone, checkDigit] = vector.fields;
      const message = parseContactId(vector.message);
      assert.deepEqual(
        [message.account, String(message.messageType), String(message.qualifier), message.eventCode, message.group, message.zone, message.checkDigit],
        [account, mt, qualifier, event, group, zone, checkDigit],
      );
      assert.equal(contactIdCheckDigit(vector.message.slice(0, 15)), checkDigit);
      assert.equal(encodeContactId({ account, messageType: Number(mt) as 18 | 98, qualifier: Number(qualifier) as 1 | 3 | 6, eventCode: event, group, zone }), vector.message);
    });
  }

  const expectedProblem: Record<string, string> = {
    "1234181130010051": "checksum",
    "1234181120010150": "checksum",
    "135718113001009A": "character",
    "123418113001005": "length",
    "12341811300100555": "length",
    "12341811300100X5": "character",
    "1234181A30010055": "character",
    "1234 18 1 130 01 005 5": "length",
    "1234171130010056": "message-type",
    "1234182130010054": "qualifier",
  };
  for (const vector of vectors().filter((v) => v.status !== "VALID")) {
    it(`rejects ${vector.message} (${vector.status}): ${vector.meaning}`, function () {
      assert.throws(
        () => parseContactId(vector.message),
        (err: unknown) => err instanceof ContactIdError && err.problem === expectedProblem[vector.message] && err.message.includes(vector.message.slice(0, 4)),
      );
    });
  }

  it("names the right check digit when the checksum fails", function () {
    assert.throws(() => parseContactId("1234181130010051"), /check digit should be 5, not 1/);
  });
});

describe("line framer", function () {
  it("splits on CR, LF and CRLF, joins split frames and drops runaway garbage", function () {
    const lines: string[] = [];
    const dropped: number[] = [];
    const framer = new LineFramer({ line: (l) => lines.push(l), overflow: (n) => dropped.push(n) }, 32);
    framer.push(Buffer.from("12341811"));
    framer.push(Buffer.from("2001015F\r\nBTN,b1,PRESS\r"));
    framer.push(Buffer.from("\nxx\n"));
    framer.push(Buffer.alloc(40, 0xff));
    framer.push(Buffer.from("1234181122010031\n"));
    assert.deepEqual(lines, ["123418112001015F", "BTN,b1,PRESS", "xx", "1234181122010031"]);
    assert.deepEqual(dropped, [40]);
  });
});

describe("button line profiles", function () {
  it("parses the built-in profile and builds the acknowledgement with the sequence number", function () {
    const frame = parseLine(BUTTON_PROFILE, "BTN,gate-1,PRESS,42");
    assert.deepEqual([frame.device, frame.state, frame.seq, frame.meaning.kind, frame.meaning.severity], ["gate-1", "PRESS", "42", "panic", "critical"]);
    assert.throws(() => parseLine(BUTTON_PROFILE, "BTN,gate-1,DANCE"), /unknown button state "DANCE"/);
    assert.throws(() => parseLine(BUTTON_PROFILE, "hello"), /does not match the button profile/);
  });

  it("builds a custom profile from settings and refuses one that cannot work", function () {
    const profile = lineProfileFrom({ pattern: "^\\*(?<device>\\d+)#(?<state>[AR])$", states: { A: { kind: "panic", severity: "critical" }, R: { kind: "panic", severity: "info", restore: true } }, ack: "OK${device}\r\n" });
    assert.equal(parseLine(profile, "*17#A").meaning.kind, "panic");
    assert.throws(() => lineProfileFrom({ pattern: "^(?<id>\\d+)$", states: {} }), /must capture/);
    assert.throws(() => lineProfileFrom({ pattern: "(?<device>(", states: {} }), /not a valid regular expression/);
    assert.throws(() => lineProfileFrom({ pattern: "(?<device>x)(?<state>y)", states: { y: { kind: "Panic!", severity: "critical" } } }), /kebab-case/);
    assert.throws(() => lineProfileFrom({ pattern: "(?<device>x)(?<state>y)", states: { y: { kind: "panic", severity: "extreme" } } }), /severity must be one of/);
  });
});

describe("alarm panel receiver", function () {
  let store: Store;
  before(async function () {
    store = await Store.open({ dialect: "sqlite", filename: path.join(tempDir("ssf-receiver-"), "r.db") });
  });
  after(async function () {
    await store.close();
  });

  it("journals before it kisses off, maps codes and zones, and journals a retransmission once", async function () {
    const writer = sharedJournalWriter(store);
    const log: string[] = [];
    const receiver = new AlarmPanelReceiver({
      schoolId: "demo-school",
      panelId: "panel-main",
      protocol: "contact-id",
      zoneMap: { "15": "zone-duty-room", "01:003": "zone-office" },
      journal: async (event) => {
        const result = await writer.append(event);
        log.push(`journaled ${event.kind} ${(await store.journal.get(event.eventId)) ? "stored" : "missing"}`);
        return result;
      },
      write: async (bytes) => void log.push(bytes.equals(KISSOFF) ? "kissoff" : bytes.equals(REFUSAL) ? "refusal" : "other"),
    });
    const unknownCode = encodeContactId({ account: "1234", qualifier: 1, eventCode: "999", group: "01", zone: "003" });
    receiver.push(Buffer.from(`123418112001015F\r\n1234181122010031\r\n123418112001015F\r\n1234181130010051\r\n\xff\xfe${unknownCode}\r\n`, "latin1"));
    await receiver.idle();
    assert.deepEqual(log, ["journaled panic stored", "kissoff", "journaled panic-silent stored", "kissoff", "journaled panic stored", "kissoff", "refusal", "journaled raw stored", "kissoff"]);
    assert.deepEqual(receiver.counters, { accepted: 3, duplicates: 1, rejected: 1, droppedBytes: 0 });
    const events = await store.journal.list({ schoolId: "demo-school" });
    const byKind = Object.fromEntries(events.map((e) => [e.event.kind, e.event]));
    assert.equal(byKind.panic.zoneId, "zone-duty-room");
    assert.equal(byKind.panic.severity, "critical");
    assert.equal(byKind["panic-silent"].zoneId, "zone-office");
    assert.equal(byKind["panic-silent"].details?.silent, true);
    assert.equal(byKind.raw.details?.eventCode, "999");
  });

  it("sends nothing when the journal cannot take the event, so the panel sends it again", async function () {
    const writes: Buffer[] = [];
    const failures: unknown[] = [];
    const receiver = new AlarmPanelReceiver({
      schoolId: "demo-school",
      panelId: "panel-2",
      protocol: "contact-id",
      journal: async () => {
        throw new Error("database is locked");
      },
      write: async (bytes) => void writes.push(bytes),
      onJournalError: (err) => failures.push(err),
    });
    receiver.push(Buffer.from("123418112001015F\n"));
    await receiver.idle();
    assert.deepEqual(writes, []);
    assert.equal(failures.length, 1);
  });
});
