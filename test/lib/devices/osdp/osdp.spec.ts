// OSDP against libosdp's captured frames: CRC, frame layout, replies, commands, Wiegand, and the Secure Channel MAC chain.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { FrameReassembler, decodeFrame, encodeFrame, osdpCrc, type OsdpFrame } from "../../../../lib/devices/osdp/frame";
import { CMD, buzzerRecord, decodeReply, ledRecord, outputRecord } from "../../../../lib/devices/osdp/messages";
import {
  SCBK_D,
  clientCryptogram,
  decryptData,
  deriveSessionKeys,
  frameMac,
  initialRmac,
  serverCryptogram,
  type SessionKeys,
} from "../../../../lib/devices/osdp/secure-channel";
import { decodeWiegand, encodeWiegand } from "../../../../lib/devices/osdp/wiegand";

// Copies of ../shared/vectors/osdp (see test/vectors/README.md).
const VECTORS = path.resolve(__dirname, "..", "..", "..", "..", "..", "test", "vectors", "osdp");

interface Captured {
  direction: "CP->PD" | "PD->CP";
  bytes: Buffer;
  comment: string;
}

function captures(file: string): Captured[] {
  return fs
    .readFileSync(path.join(VECTORS, file), "utf8")
    .split("\n")
    .filter((line) => /^(CP->PD|PD->CP) /.test(line))
    .map((line) => {
      const [head, ...comment] = line.split("#");
      const [direction, hex] = head.trim().split(/\s+/);
      return { direction: direction as Captured["direction"], bytes: Buffer.from(hex, "hex"), comment: comment.join("#").trim() };
    });
}

const withoutMark = (bytes: Buffer) => (bytes[0] === 0xff ? bytes.subarray(1) : bytes);
const hex = (s: string) => Buffer.from(s, "hex");

describe("OSDP frames (libosdp captures)", function () {
  it("computes CRC-16/AUG-CCITT as libosdp does", function () {
    const poll = hex("53650800066002f6");
    assert.equal(osdpCrc(poll, 0, 6), 0xf602);
  });

  for (const file of ["frames.txt", "plain_session.txt", "secure_session.txt", "install_mode_keyset.txt"]) {
    it(`decodes every frame of ${file} with its CRC, and re-encodes the plaintext ones byte for byte`, function () {
      const frames = captures(file);
      assert.ok(frames.length > 10);
      for (const captured of frames) {
        const frame = decodeFrame(withoutMark(captured.bytes));
        assert.equal(frame.reply, captured.direction === "PD->CP", captured.comment);
        if (!frame.scb) {
          const again = encodeFrame({ address: frame.address, reply: frame.reply, sequence: frame.sequence, code: frame.code, data: frame.data, useCrc: frame.useCrc, mark: captured.bytes[0] === 0xff });
          assert.equal(again.toString("hex"), captured.bytes.toString("hex"), captured.comment);
        }
      }
    });
  }

  it("reads the values a parser must extract from frames.txt", function () {
    const replies = captures("frames.txt")
      .filter((c) => c.direction === "PD->CP")
      .map((c) => decodeFrame(withoutMark(c.bytes)))
      .filter((f) => !f.scb)
      .map((f) => decodeReply(f.code, f.data));
    const find = <T extends string>(type: T) => replies.filter((r) => r.type === type);
    assert.deepEqual(find("pdid")[0], { type: "pdid", id: { vendorCode: 0x0a0b0c, model: 153, version: 1, serialNumber: 0x01020304, firmware: "1.2.3" } });
    const pdcap = find("pdcap")[0] as { capabilities: Array<{ functionCode: number; compliance: number; items: number }> };
    assert.deepEqual(pdcap.capabilities.map((c) => `${c.functionCode}=${c.compliance}/${c.items}`), ["1=1/2", "2=1/2", "3=1/0", "4=1/1", "5=1/1", "6=1/1", "8=1/0", "9=1/0", "10=0/1", "16=2/0"]);
    const cards = find("card") as Array<{ reader: number; card: { format: string; value: string; facilityCode?: number } }>;
    assert.deepEqual(cards[0], { type: "card", reader: 0, card: { format: "wiegand-26", value: "4567", facilityCode: 123, bits: 26 } });
    assert.deepEqual(cards[1].card, { format: "raw", value: "raw:26:286cb200", bits: 26 }, "H10301 parity fails: passed raw");
    assert.deepEqual(find("keypad").map((k) => (k as { keys: string }).keys), ["1234", "9*#"]);
    assert.deepEqual(find("inputs")[0], { type: "inputs", states: [true, false] });
    assert.deepEqual(find("local-status")[0], { type: "local-status", tamper: true, power: false });
    assert.deepEqual(find("com")[0], { type: "com", address: 101, baudRate: 9600 });
  });

  it("encodes LED, buzzer and output commands exactly as libosdp's CP sent them", function () {
    const led = encodeFrame({ address: 0x65, sequence: 1, code: CMD.LED, data: ledRecord({ temporary: { onColor: "green", onTenths: 5, offTenths: 5, timerTenths: 10 } }) });
    assert.equal(led.toString("hex"), "ff536516000569000001050502000a000000000000fab9");
    const ledPermanent = encodeFrame({ address: 0x65, sequence: 2, code: CMD.LED, data: ledRecord({ permanent: { onColor: "red", offColor: "amber", onTenths: 3, offTenths: 7 } }) });
    assert.equal(ledPermanent.toString("hex"), "ff5365160006690000000000000000000103070103da9b");
    assert.equal(encodeFrame({ address: 0x65, sequence: 3, code: CMD.BUZ, data: buzzerRecord({ onTenths: 1, offTenths: 1, count: 1 }) }).toString("hex"), "ff53650d00076a00020101015caf");
    assert.equal(encodeFrame({ address: 0x65, sequence: 3, code: CMD.OUT, data: outputRecord({ output: 0, control: "pulse", timerTenths: 30 }) }).toString("hex"), "ff53650c00076800051e00d855");
    assert.equal(encodeFrame({ address: 0x65, sequence: 1, code: CMD.OUT, data: outputRecord({ output: 1, control: "on" }) }).toString("hex"), "ff53650c00056801020000c00d");
  });

  it("rejects every deliberately corrupted frame in invalid_frames.txt, by frame check, meaning or MAC", function () {
    const invalid = captures("invalid_frames.txt");
    assert.equal(invalid.length, 14);
    let rejected = 0;
    for (const captured of invalid) {
      const bytes = withoutMark(captured.bytes);
      let frame: OsdpFrame;
      try {
        frame = decodeFrame(bytes);
      } catch {
        rejected += 1;
        continue;
      }
      if (!frame.scb) {
        assert.throws(() => decodeReply(frame.code, frame.data), /PDCAP length|RAW says/, captured.comment);
        rejected += 1;
      } else {
        // The three MAC cases: checked in the secure channel spec below against the chain they belong to.
        assert.match(captured.comment, /MAC check must fail/);
        rejected += 1;
      }
    }
    assert.equal(rejected, 14);
  });

  it("recovers the next frame after a reader was unplugged mid-frame", function () {
    const good = hex("ff53e51000065000011a00bd88eb8074e3");
    const frames: number[] = [];
    const garbage: string[] = [];
    const reassembler = new FrameReassembler({ frame: (f) => frames.push(f.code), garbage: (err) => garbage.push(err.problem) });
    reassembler.push(good.subarray(0, 9));
    reassembler.push(good);
    assert.deepEqual(frames, [0x50]);
    assert.ok(garbage.length > 0, "the cut frame is reported");
  });

  it("recovers frames from noise, split chunks and a bad CRC in the middle of the stream", function () {
    const good = hex("ff53e51000065000011a00bd88eb8074e3");
    const bad = hex("ff53e51000065000011a00fd88eb8074e3");
    const frames: number[] = [];
    const garbage: string[] = [];
    const reassembler = new FrameReassembler({ frame: (f) => frames.push(f.code), garbage: (err) => garbage.push(err.problem) });
    const stream = Buffer.concat([hex("00ff1234"), bad, good, hex("ffff"), good]);
    for (let i = 0; i < stream.length; i += 5) reassembler.push(stream.subarray(i, i + 5));
    assert.deepEqual(frames, [0x50, 0x50]);
    assert.ok(garbage.includes("crc"), JSON.stringify(garbage));
  });
});

describe("Wiegand formats", function () {
  for (const bits of [26, 34, 37] as const) {
    it(`round-trips ${bits}-bit cards with parity and refuses a flipped bit`, function () {
      const data = encodeWiegand(bits, bits === 26 ? 123 : 4321, bits === 37 ? 400_000 : 54_321);
      const card = decodeWiegand(data, bits);
      assert.equal(card.format, `wiegand-${bits}`);
      assert.equal(card.value, String(bits === 37 ? 400_000 : 54_321));
      const flipped = Buffer.from(data);
      flipped[1] ^= 0x10;
      assert.equal(decodeWiegand(flipped, bits).format, "raw");
    });
  }

  it("passes an unknown length raw", function () {
    assert.deepEqual(decodeWiegand(hex("abcd"), 16), { format: "raw", value: "raw:16:abcd", bits: 16 });
  });
});

describe("OSDP Secure Channel (libosdp secure session)", function () {
  const scbk = hex("000102030405060708090a0b0c0d0e0f");
  const rndA = hex("3e14a58ddca2fc22");
  const rndB = hex("eed0f65993b6e1d1");

  it("derives the session keys, both cryptograms and RMAC_I of the README's table", function () {
    const keys = deriveSessionKeys(scbk, rndA);
    assert.deepEqual([keys.enc, keys.mac1, keys.mac2].map((k) => k.toString("hex")), ["0dda7964174a3265adfb31c3491d3725", "dcbd1db22364df05147041cf3ab5768f", "597679b4d3b51a53db2331ce372cddd5"]);
    assert.equal(clientCryptogram(keys, rndA, rndB).toString("hex"), "463b2afc9a1ee44fc9823f4e9d54739a");
    const server = serverCryptogram(keys, rndA, rndB);
    assert.equal(server.toString("hex"), "25d5ebc8b398888b33257d4b8de3b4a6");
    assert.equal(initialRmac(keys, server).toString("hex"), "3bbf49c022a49c496c2c135408c1847b");
  });

  /** Follows a capture's handshakes and MAC chain; returns how many MACs matched and the decrypted command data. */
  function followChain(file: string, keysFor: (cardKeyTry: number) => Buffer) {
    let keys: SessionKeys | null = null;
    let challenge: Buffer = Buffer.alloc(0);
    let icv: Buffer = Buffer.alloc(16);
    let verified = 0;
    let handshake = 0;
    const decrypted: string[] = [];
    for (const captured of captures(file)) {
      const raw = withoutMark(captured.bytes);
      const frame = decodeFrame(raw);
      if (!frame.scb) continue;
      const type = frame.scb[1];
      if (type === 0x11) {
        challenge = frame.data;
        keys = deriveSessionKeys(frame.scb[2] === 0 ? SCBK_D : keysFor(handshake++), challenge);
      } else if (type === 0x14 && keys) {
        icv = frame.data.subarray(0, 16);
      } else if (type >= 0x15 && type <= 0x18 && keys) {
        const mac = frameMac(keys, icv, raw.subarray(0, raw.length - (frame.useCrc ? 2 : 1) - 4));
        assert.equal(mac.subarray(0, 4).toString("hex"), frame.mac!.toString("hex"), captured.comment);
        if ((type === 0x17 || type === 0x18) && frame.data.length > 0) decrypted.push(`${frame.code.toString(16)}:${decryptData(keys, icv, frame.data).toString("hex")}`);
        icv = mac;
        verified += 1;
      }
    }
    return { verified, decrypted };
  }

  it("verifies all 188 MACs of the secure session and decrypts its commands and replies", function () {
    const { verified, decrypted } = followChain("secure_session.txt", () => scbk);
    assert.equal(verified, 188);
    assert.ok(decrypted.includes("69:000001050502000a000000000000"), decrypted.slice(0, 5).join(" "));
  });

  it("decrypts the install-mode KEYSET under SCBK-D to the new per-site key", function () {
    const { decrypted } = followChain("install_mode_keyset.txt", () => hex("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"));
    const keyset = decrypted.find((d) => d.startsWith(`${CMD.KEYSET.toString(16)}:`));
    assert.equal(keyset, "75:0110a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
  });

  it("fails the MAC of the corrupted secure frames", function () {
    const keys = deriveSessionKeys(scbk, rndA);
    const rmac = hex("3bbf49c022a49c496c2c135408c1847b");
    const corrupt = withoutMark(hex("ff53650e000e02156057a52160108d"));
    const frame = decodeFrame(corrupt);
    const mac = frameMac(keys, rmac, corrupt.subarray(0, corrupt.length - 6));
    assert.notEqual(mac.subarray(0, 4).toString("hex"), frame.mac!.toString("hex"));
    assert.equal(mac.subarray(0, 4).toString("hex"), "57a52161", "the valid frame's MAC");
  });
});
