// GB/T 28181 signalling against captured datagrams (Ellean simulator, sipp): SIP, digest, MANSCDP with GBK bodies, alarms.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { kindOfAlarm, severityOfPriority } from "../../../../lib/devices/gb28181/alarm";
import { parseDigest, verifyDigest } from "../../../../lib/devices/gb28181/digest";
import { buildManscdp, decodeBody, parseManscdp } from "../../../../lib/devices/gb28181/manscdp";
import { header, paramOf, parseSip, responseTo, userOf } from "../../../../lib/devices/gb28181/sip";

// Copies of ../shared/vectors/gb28181 (see test/vectors/README.md).
const VECTORS = path.resolve(__dirname, "..", "..", "..", "..", "..", "test", "vectors", "gb28181");
const datagram = (file: string) => fs.readFileSync(path.join(VECTORS, file));
const all = ["ellean", "sipp_device", "gbk"].flatMap((dir) => fs.readdirSync(path.join(VECTORS, dir)).map((f) => `${dir}/${f}`));

describe("GB/T 28181 SIP (captured datagrams)", function () {
  for (const file of all) {
    it(`parses ${file} with its exact Content-Length body`, function () {
      const message = parseSip(datagram(file));
      const length = Number(header(message, "content-length") ?? "0");
      assert.equal(message.body.length, length);
      assert.ok(header(message, "call-id"));
    });
  }

  it("reads requests and responses, header padding, Via branch and the device ID in From", function () {
    const alarm = parseSip(datagram("sipp_device/08_MESSAGE_Alarm.sip"));
    assert.deepEqual([alarm.method, alarm.uri], ["MESSAGE", "sip:34020000002000000001@3402000000"]);
    assert.equal(header(alarm, "content-length"), "402");
    assert.equal(paramOf(header(alarm, "via")!, "branch"), "z9hG4bK-3634-1-12");
    assert.equal(userOf(header(alarm, "from")!), "34020000001320000001");
    const challenge = parseSip(datagram("ellean/02_401_Unauthorized_from_platform.sip"));
    assert.deepEqual([challenge.status, challenge.reason], [401, "Unauthorized"]);
    assert.match(header(challenge, "www-authenticate")!, /Digest realm="3402000000"/);
  });

  it("answers with Via, From, To (tagged), Call-ID and CSeq copied from the request", function () {
    const request = parseSip(datagram("sipp_device/05_MESSAGE_Keepalive.sip"));
    const response = parseSip(responseTo(request, 200, "OK", { toTag: "abc123" }));
    assert.deepEqual([response.status, header(response, "call-id"), header(response, "cseq")], [200, header(request, "call-id"), header(request, "cseq")]);
    assert.equal(paramOf(header(response, "to")!, "tag"), "abc123");
    assert.deepEqual(response.headers.get("via"), request.headers.get("via"));
  });

  for (const [bad, why] of [
    ["HELLO world\r\n\r\n", /not a SIP start line/],
    ["MESSAGE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP a\r\n", /no blank line/],
    ["MESSAGE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP a\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\nCall-ID: 1\r\n\r\n", /lacks the cseq header/],
    ["MESSAGE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP a\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\nCall-ID: 1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 50\r\n\r\nshort", /Content-Length says 50/],
    ["MESSAGE sip:x SIP/2.0\r\nno colon here\r\n\r\n", /malformed SIP header/],
  ] as const) {
    it(`rejects malformed SIP with a reason: ${why}`, function () {
      assert.throws(() => parseSip(Buffer.from(bad, "latin1")), why);
    });
  }
});

describe("GB/T 28181 digest authentication (MD5)", function () {
  for (const file of ["ellean/03_REGISTER_with_Authorization.sip", "sipp_device/03_REGISTER_with_Authorization.sip", "sipp_device/14_REGISTER_Expires0_with_Authorization.sip", "gbk/00_REGISTER_with_Authorization_same_session.sip"]) {
    it(`verifies ${file} with the device password and refuses a wrong one`, function () {
      const register = parseSip(datagram(file));
      const credentials = parseDigest(header(register, "authorization")!);
      assert.ok(credentials);
      assert.deepEqual([credentials.username, credentials.realm], ["34020000001320000001", "3402000000"]);
      assert.equal(verifyDigest(credentials, "REGISTER", "12345678"), true);
      assert.equal(verifyDigest(credentials, "REGISTER", "87654321"), false);
    });
  }
});

describe("GB/T 28181 MANSCDP bodies", function () {
  it("reads a Keepalive whose SN is a millisecond timestamp", function () {
    const doc = parseManscdp(parseSip(datagram("ellean/05_MESSAGE_Keepalive.sip")).body);
    assert.deepEqual([doc.root, doc.cmdType, doc.sn, doc.deviceId, doc.fields.Status], ["Notify", "Keepalive", "1795465904499", "34020000001320000001", "OK"]);
  });

  it("reads a Catalog response with its channel list", function () {
    const doc = parseManscdp(parseSip(datagram("ellean/09_MESSAGE_Catalog_Response.sip")).body);
    assert.equal(doc.cmdType, "Catalog");
    const list = doc.fields.DeviceList as { "@Num": string; Item: Array<Record<string, string>> };
    assert.equal(list["@Num"], "1");
    assert.deepEqual([list.Item[0].DeviceID, list.Item[0].Manufacturer, list.Item[0].Model, list.Item[0].Status], ["34020000001320000001", "SimCamera", "SC-2000", "ON"]);
  });

  it("reads DeviceInfo and an alarm with its channel DeviceID, priority, method and type", function () {
    const info = parseManscdp(parseSip(datagram("ellean/12_MESSAGE_DeviceInfo_Response.sip")).body);
    assert.deepEqual([info.fields.DeviceName, info.fields.Firmware, info.fields.Channel], ["peer-ipc-1", "V1.0.0", "1"]);
    const alarm = parseManscdp(parseSip(datagram("sipp_device/08_MESSAGE_Alarm.sip")).body);
    assert.deepEqual([alarm.deviceId, alarm.fields.AlarmPriority, alarm.fields.AlarmMethod, alarm.fields.AlarmTime, (alarm.fields.Info as { AlarmType: string }).AlarmType], ["34020000001340000001", "1", "5", "2026-11-23T20:33:00", "2"]);
  });

  it("decodes GBK bodies declared GB2312, and GBK characters GB2312 does not have", function () {
    const first = parseManscdp(parseSip(datagram("gbk/01_MESSAGE_Alarm_GBK_body_declared_GB2312.sip")).body);
    assert.equal(first.fields.AlarmDescription, "区域入侵报警：前门摄像机检测到人员闯入");
    const second = parseManscdp(parseSip(datagram("gbk/02_MESSAGE_Alarm_GBK_body_declared_GBK_with_non_GB2312_chars.sip")).body);
    assert.equal(second.fields.AlarmDescription, "喆镕堃 周界报警");
  });

  it("refuses malformed XML and a document without its root or fields", function () {
    assert.throws(() => parseManscdp(Buffer.from("<Notify><CmdType>Alarm</CmdType><SN>1</Notify>")), /not well-formed XML/);
    assert.throws(() => parseManscdp(Buffer.from("<Hello/>")), /no Notify, Query, Response or Control root/);
    assert.throws(() => parseManscdp(Buffer.from("<Notify><CmdType>Alarm</CmdType><SN>1</SN></Notify>")), /lacks <DeviceID>/);
  });

  it("builds a GB2312 document that reads back with Chinese text", function () {
    const body = buildManscdp("Response", [["CmdType", "Alarm"], ["SN", 5], ["DeviceID", "34020000001340000001"], ["Result", "OK"], ["Note", "已处理 <ok>"]]);
    assert.match(decodeBody(body), /已处理 &lt;ok&gt;/);
    const doc = parseManscdp(body);
    assert.deepEqual([doc.root, doc.fields.Result, doc.fields.Note], ["Response", "OK", "已处理 <ok>"]);
  });
});

describe("GB/T 28181 alarm mapping", function () {
  it("maps AlarmMethod and AlarmType to kinds and AlarmPriority to severity", function () {
    assert.deepEqual(
      [[5, 2], [5, 5], [5, 6], [5, 8], [5, 9], [5, 10], [5, 12], [2, 1], [2, 2], [6, null], [1, null], [7, 3]].map(([m, t]) => kindOfAlarm(m as number, t as number | null)),
      ["motion", "line-crossing", "field-intrusion", "loitering", "object-count", "crowd", "fast-movement", "video-loss", "tamper", "device-fault", "phone-alarm", "raw"],
    );
    assert.deepEqual([1, 2, 3, 4].map(severityOfPriority), ["critical", "high", "medium", "low"]);
  });
});
