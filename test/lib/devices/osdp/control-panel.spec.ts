// The OSDP control panel against the simulated reader over a real socat pty pair: plaintext and Secure Channel.
import assert from "node:assert/strict";
import { SerialPort } from "serialport";
import { OsdpControlPanel, type ControlPanelOptions } from "../../../../lib/devices/osdp/control-panel";
import { decodeFrame } from "../../../../lib/devices/osdp/frame";
import { CMD, outputRecord } from "../../../../lib/devices/osdp/messages";
import { OsdpLineSim, type OsdpReaderSim } from "../../../../sim/osdp-reader";
import { openPtyPair, type PtyPair } from "../../../../sim/pty";

const SITE_KEY = Buffer.from("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf", "hex");

async function until(check: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("OSDP control panel over a serial line (simulated readers)", function () {
  let pty: PtyPair;
  let port: SerialPort;
  let panel: OsdpControlPanel;
  let line: OsdpLineSim;
  let sims: OsdpReaderSim[] = [];
  const log: string[] = [];

  async function start(readerKeys: Array<Buffer | null>, options: Partial<ControlPanelOptions> = {}): Promise<void> {
    pty = await openPtyPair();
    line = new OsdpLineSim(pty.deviceEnd);
    sims = readerKeys.map((key, i) => line.addReader(0x10 + i, key));
    await line.open();
    port = new SerialPort({ path: pty.hostEnd, baudRate: 9600, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    panel = new OsdpControlPanel({
      readers: readerKeys.map((_, i) => ({ address: 0x10 + i })),
      write: (bytes) => new Promise((resolve, reject) => port.write(bytes, (err) => (err ? reject(err) : resolve()))),
      pollIntervalMs: 50,
      replyTimeoutMs: 100,
      ...options,
    });
    port.on("data", (chunk: Buffer) => panel.push(chunk));
    for (const event of ["online", "offline", "card", "keypad", "inputs", "local-status", "secure-failed", "keyset"] as const) {
      panel.on(event, (...args: unknown[]) => log.push(`${event} ${args.map((a) => (typeof a === "object" ? JSON.stringify(a) : String(a))).join(" ")}`));
    }
    panel.start();
  }

  afterEach(async function () {
    await panel?.stop();
    await line?.close();
    await new Promise<void>((resolve) => (port?.isOpen ? port.close(() => resolve()) : resolve()));
    await pty?.close();
    log.length = 0;
  });

  it("brings two readers on one line online with their identity, reports a card, keys, inputs and tamper, and drives an output", async function () {
    await start([null, null]);
    await until(() => panel.isOnline(0x10) && panel.isOnline(0x11), "both readers online");
    assert.ok(log.some((l) => l.startsWith("online 16") && l.includes('"serialNumber":16909060') && l.includes('"firmware":"1.2.3"')), log.join("\n"));
    sims[1].presentCard(123, 4567);
    sims[0].keypad("1234");
    sims[0].setInput(0, true);
    sims[0].tamper(true);
    await until(() => log.some((l) => l.startsWith("card 17")) && log.some((l) => l.startsWith("local-status 16")), "the reports");
    assert.ok(log.includes('card 17 0 {"format":"wiegand-26","value":"4567","facilityCode":123,"bits":26}'), log.join("\n"));
    assert.ok(log.includes("keypad 16 0 1234"));
    assert.ok(log.includes("inputs 16 [true,false]"));
    assert.ok(log.includes('local-status 16 {"tamper":true,"power":false}'));
    const reply = await panel.command(0x10, CMD.OUT, outputRecord({ output: 0, control: "pulse", timerTenths: 50 }));
    assert.equal(reply.type, "ack");
    assert.deepEqual(sims[0].commands(CMD.OUT).map((c) => c.data.toString("hex")), ["00053200"]);
  });

  it("retransmits the identical frame when a reply is lost, and the reader stays online", async function () {
    await start([SITE_KEY], { secure: { scbk: SITE_KEY } });
    await until(() => panel.isOnline(0x10), "online");
    const wire: Buffer[] = [];
    const write = (panel as unknown as { options: ControlPanelOptions }).options.write;
    (panel as unknown as { options: ControlPanelOptions }).options.write = (bytes) => {
      wire.push(Buffer.from(bytes));
      return write(bytes);
    };
    sims[0].dropNext = 1;
    const reply = await panel.command(0x10, CMD.OUT, outputRecord({ output: 0, control: "pulse", timerTenths: 20 }));
    assert.equal(reply.type, "ack");
    // The command code travels in clear even inside the Secure Channel; the data is encrypted.
    const outs = wire.filter((frame) => decodeFrame(frame.subarray(1)).code === CMD.OUT);
    assert.equal(outs.length, 2, "sent twice");
    assert.equal(outs[0].toString("hex"), outs[1].toString("hex"), "the retransmission is byte for byte the same frame");
    assert.equal(sims[0].commands(CMD.OUT).length, 1, "the reader acted once");
    assert.equal(panel.isOnline(0x10), true);
    assert.equal(log.some((l) => l.startsWith("offline")), false);
  });

  it("marks a reader that stops answering offline, and online again when it answers", async function () {
    await start([null]);
    await until(() => panel.isOnline(0x10), "online");
    sims[0].answering = false;
    await until(() => log.some((l) => l.startsWith("offline 16 no answer to polls")), "offline");
    sims[0].answering = true;
    await until(() => log.filter((l) => l.startsWith("online 16")).length === 2, "online again");
  });

  it("runs the Secure Channel with the site key: encrypted commands, MACs both ways", async function () {
    await start([SITE_KEY], { secure: { scbk: SITE_KEY } });
    await until(() => panel.isOnline(0x10), "online in secure mode");
    assert.ok(log.some((l) => l.startsWith("online 16") && l.includes('"secure":true')));
    sims[0].presentCard(1, 2);
    await until(() => log.some((l) => l.startsWith("card 16")), "an encrypted card report");
    await panel.command(0x10, CMD.OUT, outputRecord({ output: 0, control: "pulse", timerTenths: 30 }));
    const out = sims[0].commands(CMD.OUT)[0];
    assert.deepEqual([out.secure, out.data.toString("hex")], [true, "00051e00"]);
    assert.ok(sims[0].commands(CMD.POLL).every((c) => c.secure), "every poll inside the session carries a MAC");
  });

  it("refuses to run when the reader holds another key, and never falls back to plaintext", async function () {
    await start([Buffer.alloc(16, 7)], { secure: { scbk: SITE_KEY } });
    await until(() => log.some((l) => l.startsWith("secure-failed 16")), "the refusal");
    assert.match(log.find((l) => l.startsWith("secure-failed"))!, /holds a different Secure Channel key/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(panel.isOnline(0x10), false);
    assert.equal(sims[0].commands(CMD.POLL).length, 0, "no plaintext polls");
  });

  it("commissions a new reader: install mode under SCBK-D, KEYSET to the site key, then a session on the new key", async function () {
    await start([null], { secure: { scbk: SITE_KEY, installMode: true } });
    await until(() => panel.isOnline(0x10), "online after commissioning");
    assert.ok(log.includes("keyset 16"), log.join("\n"));
    assert.equal(sims[0].key?.toString("hex"), SITE_KEY.toString("hex"));
  });
});
