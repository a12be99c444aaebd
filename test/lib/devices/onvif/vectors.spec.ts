// ONVIF readers against onvif_simple_server captures: device, media and event bodies, and the normalized events they become.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import {
  EventNormalizer,
  OnvifFaultError,
  passwordDigest,
  readCapabilities,
  readDeviceInformation,
  readFault,
  readNotify,
  readProfiles,
  readPullMessages,
  readServices,
  readStreamUri,
  readSubscription,
  readSystemDateAndTime,
  responseBody,
  type NotificationMessage,
} from "../../../../lib/devices/onvif";
import { parseXml } from "../../../../lib/devices/onvif/xml";

// Copies of ../shared/vectors/onvif (see test/vectors/README.md).
const VECTORS = path.resolve(__dirname, "..", "..", "..", "..", "..", "test", "vectors", "onvif");
const raw = (file: string) => fs.readFileSync(path.join(VECTORS, file), "utf8");
const body = (file: string) => responseBody(parseXml(raw(file), file), file);
const expected = JSON.parse(raw("expected_events.json")) as Record<string, { currentTime?: string; terminationTime?: string; messages: NotificationMessage[] }>;

describe("ONVIF wire vectors (onvif_simple_server)", function () {
  it("reads the camera clock from GetSystemDateAndTime", function () {
    const time = readSystemDateAndTime(body("01_GetSystemDateAndTime.response.xml"));
    assert.equal(new Date(time.utcMs).toISOString(), "2026-11-23T20:29:41.000Z");
    assert.equal(time.timeZone, "UTC0");
  });

  it("reads the five services of GetServices with their versions", function () {
    const services = readServices(body("02_GetServices.response.xml"));
    assert.deepEqual(
      services.map((s) => [s.namespace.replace("http://www.onvif.org/", ""), s.xaddr.replace("http://127.0.0.1:8080/onvif/", ""), s.version]),
      [
        ["ver10/device/wsdl", "device_service", "19.12"],
        ["ver10/events/wsdl", "events_service", "18.6"],
        ["ver10/media/wsdl", "media_service", "19.6"],
        ["ver10/deviceIO/wsdl", "deviceio_service", "17.12"],
        ["ver20/media/wsdl", "media2_service", "17.12"],
      ],
    );
  });

  it("reads Device, Events, Media and (from Extension) DeviceIO XAddrs from GetCapabilities", function () {
    assert.deepEqual(readCapabilities(body("03_GetCapabilities.response.xml")), {
      device: "http://127.0.0.1:8080/onvif/device_service",
      events: "http://127.0.0.1:8080/onvif/events_service",
      media: "http://127.0.0.1:8080/onvif/media_service",
      deviceIO: "http://127.0.0.1:8080/onvif/deviceio_service",
    });
  });

  for (const file of ["04_media2_GetProfiles.response.xml", "06_media1_GetProfiles.response.xml"]) {
    it(`reads two H264 profiles from ${file}`, function () {
      assert.deepEqual(readProfiles(body(file)), [
        { token: "Profile_0", name: "Profile_0", fixed: true, encoding: "H264", width: 1920, height: 1080 },
        { token: "Profile_1", name: "Profile_1", fixed: true, encoding: "H264", width: 640, height: 360 },
      ]);
    });
  }

  it("reads the RTSP stream URI from Media2 and Media GetStreamUri", function () {
    assert.equal(readStreamUri(body("05_media2_GetStreamUri.response.xml")), "rtsp://127.0.0.1:8554/ch0_0");
    assert.equal(readStreamUri(body("07_media1_GetStreamUri.response.xml")), "rtsp://127.0.0.1:8554/ch0_0");
  });

  it("reads GetDeviceInformation", function () {
    assert.deepEqual(readDeviceInformation(body("08_GetDeviceInformation.response.xml")), {
      manufacturer: "onvif_simple_server",
      model: "PeerCam",
      firmwareVersion: "0.0.1",
      serialNumber: "SN0001",
      hardwareId: "HWID",
    });
  });

  it("reads the subscription reference and times of CreatePullPointSubscription and Subscribe", function () {
    assert.deepEqual(readSubscription(body("11_CreatePullPointSubscription.response.xml")), {
      address: "http://127.0.0.1:8080/onvif/events_service?sub=1",
      currentTime: "2026-11-23T20:29:41Z",
      terminationTime: "2026-11-23T20:31:41Z",
    });
    assert.deepEqual(readSubscription(body("22_Subscribe.response.xml")), {
      address: "http://127.0.0.1:8080/onvif/events_service?sub=2",
      currentTime: "2026-11-23T20:30:21Z",
      terminationTime: "2026-11-23T20:32:21Z",
    });
  });

  it("reads the Renew fault's code and subcodes (HTTP 500, ter:ActionFailed)", function () {
    assert.deepEqual(readFault(parseXml(raw("12_Renew_fault.response.xml"), "renew")), { codes: ["Receiver", "Action", "ActionFailed"], reason: "Action failed" });
    assert.ok(new OnvifFaultError("x", ["Receiver", "Action", "ActionFailed"], 500) instanceof Error);
  });

  it("computes the WS-Security digest the captured requests carry", function () {
    assert.equal(passwordDigest(Buffer.from("K4mbGszXcJp57LO81y6OTQ==", "base64"), "2026-11-23T20:29:41.113Z", "admin123"), "6oovAjt1H9goh2pF4bbiYi3dyvs=");
    const request = raw("11_CreatePullPointSubscription.request.xml");
    const nonce = /<Nonce[^>]*>([^<]+)</.exec(request)![1];
    const created = /<Created[^>]*>([^<]+)</.exec(request)![1];
    assert.equal(passwordDigest(Buffer.from(nonce, "base64"), created, "admin123"), /<Password[^>]*>([^<]+)</.exec(request)![1]);
  });

  for (const [file, want] of Object.entries(expected)) {
    it(`reads ${file} exactly as expected_events.json says`, function () {
      if (file.includes("PullMessages")) {
        const result = readPullMessages(body(file));
        assert.deepEqual(result, { currentTime: want.currentTime, terminationTime: want.terminationTime, messages: want.messages });
      } else {
        assert.deepEqual(readNotify(body(file)), want.messages);
      }
    });
  }

  it("turns only Changed rising edges of the captures into SafetyEvents; Initialized and falling edges set state", function () {
    const normalizer = new EventNormalizer({ schoolId: "demo-school", deviceId: "cam-1", zoneId: "demo-school-gate-north" }, 10);
    const emitted: Array<[string, string, string, string]> = [];
    for (const [file, want] of Object.entries(expected)) {
      for (const message of want.messages) {
        const { event } = normalizer.normalize(message);
        if (event) emitted.push([file.slice(0, 2), event.kind, event.severity, event.occurredAt]);
      }
    }
    assert.deepEqual(emitted, [
      ["14", "motion", "low", "2026-11-23T20:29:42.000Z"],
      ["15", "line-crossing", "medium", "2026-11-23T20:29:44.000Z"],
      ["16", "tamper", "high", "2026-11-23T20:29:45.000Z"],
      ["17", "digital-input", "high", "2026-11-23T20:29:47.000Z"],
      ["28", "motion", "low", "2026-11-23T20:30:23.000Z"],
      ["29", "line-crossing", "medium", "2026-11-23T20:30:25.000Z"],
      ["30", "tamper", "high", "2026-11-23T20:30:26.000Z"],
      ["31", "digital-input", "high", "2026-11-23T20:30:28.000Z"],
    ]);
    // After the last capture every property is back to inactive.
    assert.deepEqual(
      [...normalizer.states.values()].map((s) => [s.topic, s.active]),
      [
        ["tns1:VideoSource/MotionAlarm", false],
        ["tns1:RuleEngine/LineDetector/Crossed", false],
        ["tns1:VideoSource/GlobalSceneChange/ImagingService", false],
        ["tns1:Device/Trigger/DigitalInput", false],
      ],
    );
  });

  it("builds a complete SafetyEvent with the camera's identity, topic, source and data, and a stable eventId", function () {
    const normalizer = new EventNormalizer({ schoolId: "demo-school", deviceId: "cam-1", zoneId: "demo-school-gate-north" }, 10);
    const message = expected["29_Notify_LineDetector_Crossed_true.xml"].messages[0];
    const first = normalizer.normalize(message).event!;
    assert.deepEqual({ ...first, eventId: undefined }, {
      eventId: undefined,
      schoolId: "demo-school",
      zoneId: "demo-school-gate-north",
      deviceId: "cam-1",
      kind: "line-crossing",
      severity: "medium",
      occurredAt: "2026-11-23T20:30:25.000Z",
      source: "onvif",
      details: {
        topic: "tns1:RuleEngine/LineDetector/Crossed",
        propertyOperation: "Changed",
        source: { VideoSourceConfigurationToken: "VideoSourceToken" },
        data: { State: "true" },
        active: true,
      },
    });
    assert.match(first.eventId, /^onvif:cam-1:[0-9a-f]{24}$/);
    assert.equal(normalizer.normalize(message).event!.eventId, first.eventId);
  });
});
