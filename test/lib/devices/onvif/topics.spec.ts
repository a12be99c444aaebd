// The topic table: standard ONVIF topics and vendor spellings map to kinds; data items decide active, count and crowd.
import assert from "node:assert/strict";
import { EventNormalizer, interpret, ruleForTopic, topicPath, type NotificationMessage } from "../../../../lib/devices/onvif";

const message = (topic: string, data: Record<string, string>, propertyOperation: string | null = "Changed"): NotificationMessage => ({
  topic,
  topicDialect: "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet",
  utcTime: "2026-11-23T20:30:25Z",
  propertyOperation,
  source: { VideoSourceConfigurationToken: "VS1", Rule: "Rule1" },
  data,
});

describe("ONVIF topic table", function () {
  const cases: Array<[string, string]> = [
    ["tns1:VideoSource/MotionAlarm", "motion"],
    ["tns1:RuleEngine/CellMotionDetector/Motion", "motion"],
    ["tns1:VideoAnalytics/tnsaxis:MotionDetection", "motion"],
    ["tns1:RuleEngine/tnsaxis:VMD3/vmd3_video_1", "motion"],
    ["tns1:RuleEngine/MotionRegionDetector/Motion", "motion"],
    ["tns1:RuleEngine/LineDetector/Crossed", "line-crossing"],
    ["tns1:RuleEngine/MyLineDetector/Crossed", "line-crossing"],
    ["tns1:RuleEngine/CrossLineDetector/CrossLine", "line-crossing"],
    ["tnsaxis:CameraApplicationPlatform/CrossLineDetection/xinternal_data", "line-crossing"],
    ["tns1:RuleEngine/FieldDetector/ObjectsInside", "field-intrusion"],
    ["tns1:RuleEngine/MyFieldDetector/ObjectsInside", "field-intrusion"],
    ["tns1:RuleEngine/IntrusionDetector/Intrusion", "field-intrusion"],
    ["tns1:RuleEngine/tnshik:RegionEntrance/Entered", "field-intrusion"],
    ["tns1:RuleEngine/CountAggregation/Counter", "object-count"],
    ["tns1:RuleEngine/CrowdDetector/Crowd", "object-count"],
    ["tns1:RuleEngine/TamperDetector/Tamper", "tamper"],
    ["tns1:VideoSource/GlobalSceneChange/ImagingService", "tamper"],
    ["tns1:VideoSource/GlobalSceneChange/AnalyticsService", "tamper"],
    ["tns1:VideoSource/tnsaxis:Tampering", "tamper"],
    ["tns1:VideoSource/VideoBlind", "tamper"],
    ["tns1:Device/Trigger/DigitalInput", "digital-input"],
    ["tns1:Device/tnsaxis:IO/Port", "digital-input"],
    ["tns1:Device/Trigger/tnshik:AlarmIn", "digital-input"],
    ["tns1:AlarmLocal", "digital-input"],
  ];
  for (const [topic, kind] of cases) {
    it(`maps ${topic} to ${kind}`, function () {
      assert.equal(ruleForTopic(topic)?.kind, kind);
    });
  }

  it("leaves unknown topics unmapped (state only, no event)", function () {
    assert.equal(ruleForTopic("tns1:Monitoring/ProcessorUsage"), null);
    const result = interpret(message("tns1:Monitoring/ProcessorUsage", { Value: "1" }), 10);
    assert.deepEqual([result.kind, result.alarm], [null, false]);
  });

  it("strips namespace prefixes from every topic segment", function () {
    assert.equal(topicPath(" tns1:RuleEngine/tnsaxis:VMD3/vmd3_video_1 "), "RuleEngine/VMD3/vmd3_video_1");
  });

  it("reads vendor state items: IsMotion, IsInside, IsTamper, LogicalState, Axis active/state as 1/0", function () {
    const active = (topic: string, data: Record<string, string>) => interpret(message(topic, data), 10).active;
    assert.equal(active("tns1:RuleEngine/CellMotionDetector/Motion", { IsMotion: "true" }), true);
    assert.equal(active("tns1:RuleEngine/FieldDetector/ObjectsInside", { IsInside: "false" }), false);
    assert.equal(active("tns1:RuleEngine/TamperDetector/Tamper", { IsTamper: "true" }), true);
    assert.equal(active("tns1:Device/Trigger/DigitalInput", { LogicalState: "true" }), true);
    assert.equal(active("tns1:RuleEngine/tnsaxis:VMD3/vmd3_video_1", { active: "1" }), true);
    assert.equal(active("tns1:Device/tnsaxis:IO/Port", { state: "0" }), false);
  });

  it("takes a line crossing that carries only an ObjectId (Hikvision, no PropertyOperation) as an occurrence", function () {
    const result = interpret(message("tns1:RuleEngine/LineDetector/Crossed", { ObjectId: "17" }, null), 10);
    assert.deepEqual([result.kind, result.active, result.alarm], ["line-crossing", true, true]);
    // Object ids 0 and 1 are identifiers, not states.
    for (const id of ["0", "1"]) {
      const crossing = interpret(message("tns1:RuleEngine/LineDetector/Crossed", { ObjectId: id }, null), 10);
      assert.deepEqual([crossing.active, crossing.alarm], [true, true], `ObjectId=${id}`);
    }
  });

  it("makes object-count below the threshold and crowd at or above it", function () {
    const normalizer = new EventNormalizer({ schoolId: "s", deviceId: "cam" }, 25);
    const at = (count: string) => normalizer.normalize(message("tns1:RuleEngine/CountAggregation/Counter", { Count: count })).event!;
    assert.deepEqual([at("24").kind, at("24").severity, at("24").details!.count], ["object-count", "info", 24]);
    assert.deepEqual([at("25").kind, at("25").severity, at("25").details!.crowdThreshold], ["crowd", "high", 25]);
    assert.equal(at("60").kind, "crowd");
  });

  it("takes a vendor crowd topic with a boolean state as crowd when active", function () {
    const result = interpret(message("tns1:RuleEngine/CrowdDetector/Crowd", { State: "true" }), 25);
    assert.deepEqual([result.kind, result.alarm], ["crowd", true]);
  });

  it("does not raise alarms for Initialized or Deleted, nor for Changed falling edges", function () {
    for (const [operation, state] of [["Initialized", "true"], ["Deleted", "true"], ["Changed", "false"]]) {
      assert.equal(interpret(message("tns1:VideoSource/MotionAlarm", { State: state }, operation), 10).alarm, false, `${operation} ${state}`);
    }
    assert.equal(interpret(message("tns1:VideoSource/MotionAlarm", { State: "true" }, "Changed"), 10).alarm, true);
  });

  it("keeps a separate state per source (two video sources, two digital inputs)", function () {
    const normalizer = new EventNormalizer({ schoolId: "s", deviceId: "cam" }, 10);
    normalizer.normalize({ ...message("tns1:Device/Trigger/DigitalInput", { LogicalState: "true" }), source: { InputToken: "DI_0" } });
    normalizer.normalize({ ...message("tns1:Device/Trigger/DigitalInput", { LogicalState: "false" }, "Initialized"), source: { InputToken: "DI_1" } });
    assert.deepEqual([...normalizer.states.values()].map((s) => [s.source.InputToken, s.active]), [["DI_0", true], ["DI_1", false]]);
  });
});
