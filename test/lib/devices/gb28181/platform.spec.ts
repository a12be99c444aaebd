// The GB/T 28181 platform against simulated devices over real UDP and TCP on 127.0.0.1, journaling into a real SQLite store.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import path from "node:path";
import { Gb28181Platform } from "../../../../lib/devices/gb28181/platform";
import { parseSip } from "../../../../lib/devices/gb28181/sip";
import { sharedJournalWriter, type SafetyEvent } from "../../../../lib/events";
import { Store } from "../../../../lib/store";
import { Gb28181DeviceSim } from "../../../../sim/gb28181-device";
import { tempDir } from "../../../support/stores";

const PLATFORM_ID = "34020000002000000001";
const DOMAIN = "3402000000";
const DEVICE = "34020000001320000001";

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("GB/T 28181 platform (simulated devices on 127.0.0.1)", function () {
  let store: Store;
  let platform: Gb28181Platform;
  let port: number;
  const events: SafetyEvent[] = [];
  const rejected: string[] = [];
  const sims: Gb28181DeviceSim[] = [];

  before(async function () {
    store = await Store.open({ dialect: "sqlite", filename: path.join(tempDir("ssf-gb-"), "gb.db") });
  });

  after(async function () {
    await store.close();
  });

  beforeEach(async function () {
    const writer = sharedJournalWriter(store);
    platform = new Gb28181Platform({
      schoolId: "demo-school",
      host: "127.0.0.1",
      port: 0,
      transports: ["udp", "tcp"],
      platformId: PLATFORM_ID,
      domain: DOMAIN,
      passwordFor: (id) => (id.startsWith("3402") ? "12345678" : null),
      keepaliveIntervalMs: 100,
      missedKeepalives: 3,
      journal: (event) => writer.append(event),
    });
    platform.on("event", (event) => events.push(event));
    platform.on("rejected", (reason) => rejected.push(reason));
    port = await platform.start();
  });

  afterEach(async function () {
    for (const sim of sims.splice(0)) await sim.stop();
    await platform.stop();
    events.length = 0;
    rejected.length = 0;
  });

  async function device(transport: "udp" | "tcp" = "udp", id = DEVICE, channels?: string[]): Promise<Gb28181DeviceSim> {
    const sim = new Gb28181DeviceSim({ deviceId: id, password: "12345678", platformHost: "127.0.0.1", platformPort: port, platformId: PLATFORM_ID, domain: DOMAIN, transport, channels });
    await sim.start();
    sims.push(sim);
    return sim;
  }

  for (const transport of ["udp", "tcp"] as const) {
    it(`registers a device over ${transport.toUpperCase()} with the digest challenge, then learns its channels and identity`, async function () {
      const sim = await device(transport, DEVICE, [DEVICE, "34020000001310000001", "34020000001340000001"]);
      assert.equal(await sim.register(), 200);
      await until(() => platform.devices()[0]?.channels.length === 3 && Boolean(platform.devices()[0]?.info.DeviceName), "catalog and device info");
      const [registered] = platform.devices();
      assert.deepEqual([registered.deviceId, registered.transport, registered.online], [DEVICE, transport, true]);
      assert.equal(registered.info.DeviceName, "模拟摄像机");
      assert.deepEqual(registered.channels.map((c) => c.Name), ["通道1", "通道2", "通道3"]);
      await until(() => events.some((e) => e.kind === "device-online"), "device-online");
    });
  }

  it("refuses a wrong password and an unknown device with 403", async function () {
    const sim = await device();
    assert.equal(await sim.register(3600, "wrong-password"), 403);
    const stranger = await device("udp", "99990000001320000001");
    assert.equal(await stranger.register(), 403);
    assert.equal(platform.devices().length, 0);
  });

  it("refuses messages from a device that has not registered", async function () {
    const sim = await device();
    assert.equal(await sim.keepalive(), 403);
  });

  it("reports a device offline after three missed keepalives and online when they resume; unregistering is offline too", async function () {
    const sim = await device();
    await sim.register();
    await until(() => events.some((e) => e.kind === "device-online"), "online");
    await until(() => events.some((e) => e.kind === "device-offline"), "offline after silence", 2000);
    assert.equal((events.find((e) => e.kind === "device-offline")!.details as { reason: string }).reason, "keepalives missed");
    assert.equal(await sim.keepalive(), 200);
    await until(() => events.filter((e) => e.kind === "device-online").length === 2, "online again");
    assert.equal(await sim.register(0), 200);
    await until(() => platform.devices().length === 0, "unregistered");
  });

  it("journals an alarm before its 200 OK, then sends the Alarm Response; a repeat of the same alarm is stored once", async function () {
    const sim = await device();
    await sim.register();
    sim.startKeepalives(50);
    const first = await sim.alarm({ channelId: "34020000001340000001", priority: 1, method: 5, type: 6, description: "区域入侵报警：前门摄像机检测到人员闯入", sn: 900 });
    assert.equal(first.status, 200);
    // The row is there by the time the device has its 200 OK.
    const stored = await store.journal.list({ schoolId: "demo-school", kind: "field-intrusion" });
    assert.equal(stored.length, 1);
    assert.deepEqual([stored[0].event.deviceId, stored[0].event.severity, (stored[0].event.details as { description: string }).description], ["34020000001340000001", "critical", "区域入侵报警：前门摄像机检测到人员闯入"]);
    await until(() => sim.fromPlatform.some((m) => m.root === "Response" && m.cmdType === "Alarm"), "the Alarm Response");
    assert.equal(sim.fromPlatform.find((m) => m.root === "Response" && m.cmdType === "Alarm")!.fields.Result, "OK");
    assert.equal((await sim.alarm({ channelId: "34020000001340000001", type: 6, sn: 900 })).status, 200);
    assert.equal((await store.journal.list({ schoolId: "demo-school", kind: "field-intrusion" })).length, 1, "journaled once");
    sim.stopKeepalives();
  });

  it("answers malformed SIP with 400 and the reason, malformed XML with 400, and keeps serving", async function () {
    const sim = await device();
    await sim.register();
    const client = dgram.createSocket("udp4");
    const answers: string[] = [];
    client.on("message", (msg) => answers.push(msg.toString("latin1")));
    await new Promise<void>((resolve) => client.bind(0, "127.0.0.1", () => resolve()));
    const send = (text: string) => client.send(Buffer.from(text, "latin1"), port, "127.0.0.1");
    send("MESSAGE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKa\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\nCall-ID: bad-1\r\nContent-Length: 10\r\n\r\n");
    send("\u0000\u00ff garbage");
    send(`MESSAGE sip:${PLATFORM_ID}@${DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKb\r\nFrom: <sip:${DEVICE}@${DOMAIN}>;tag=1\r\nTo: <sip:${PLATFORM_ID}@${DOMAIN}>\r\nCall-ID: bad-2\r\nCSeq: 1 MESSAGE\r\nContent-Type: Application/MANSCDP+xml\r\n\r\n<Notify><CmdType>Alarm</Notify>`);
    await until(() => answers.length === 2, "two 400 answers");
    client.close();
    const statuses = answers.map((a) => parseSip(Buffer.from(a, "latin1")).status);
    assert.deepEqual(statuses, [400, 400]);
    assert.match(answers.join("\n"), /Warning: 399 platform .*(cseq|well-formed)/i);
    assert.ok(rejected.some((r) => /no blank line/.test(r)), "garbage is logged, not answered");
    assert.equal(await sim.keepalive(), 200, "still serving");
  });

  it("journals a storm of 10,000 alarms once each, retransmissions included", async function () {
    this.timeout(120000);
    const sim = await device();
    await sim.register();
    const total = 10_000;
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const sn = 10_000 + next++;
        // A device retransmits until it has its 200 OK; every tenth alarm is sent twice anyway.
        for (let attempt = 0; attempt < 5; attempt += 1) {
          try {
            await sim.alarm({ sn, type: 5, priority: 2 });
            if (sn % 10 === 0 && attempt === 0) continue;
            break;
          } catch {
            // lost on a crowded loopback: send again
          }
        }
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    const count = Number((await store.knex("events").where({ kind: "line-crossing" }).count({ n: "*" }))[0].n);
    assert.equal(count, total);
  });
});
