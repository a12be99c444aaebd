// ONVIF event topics (standard and vendor spellings) → SafetyEvent kinds, and how a message's data says "active" or "count".
import type { Severity } from "../../events";
import type { NotificationMessage } from "./messages";

export type CameraEventKind = "motion" | "line-crossing" | "field-intrusion" | "object-count" | "tamper" | "digital-input";

export interface TopicRule {
  kind: CameraEventKind;
  /** Matched against the topic with every namespace prefix removed, e.g. "RuleEngine/LineDetector/Crossed". */
  pattern: RegExp;
  /** Who sends it, for the documentation and the tests. */
  examples: string[];
}

/**
 * First match wins; more specific patterns come first. Vendors keep the ONVIF roots (VideoSource, RuleEngine, Device)
 * but add their own rule containers and names, so the patterns look at the meaningful tail.
 */
export const TOPIC_RULES: readonly TopicRule[] = [
  { kind: "line-crossing", pattern: /LineDetector\/Crossed$/i, examples: ["tns1:RuleEngine/LineDetector/Crossed", "tns1:RuleEngine/MyLineDetector/Crossed (Hikvision)"] },
  { kind: "line-crossing", pattern: /(CrossLine|LineCrossing|Tripwire)[^/]*(\/|$)/i, examples: ["tns1:RuleEngine/CrossLineDetector/CrossLine (Dahua)", "tnsaxis:CameraApplicationPlatform/CrossLineDetection/xinternal_data (Axis)"] },
  { kind: "field-intrusion", pattern: /FieldDetector\/ObjectsInside$/i, examples: ["tns1:RuleEngine/FieldDetector/ObjectsInside", "tns1:RuleEngine/MyFieldDetector/ObjectsInside (Hikvision)"] },
  { kind: "field-intrusion", pattern: /(Intrusion|CrossRegion|RegionEntrance)[^/]*(\/|$)/i, examples: ["tns1:RuleEngine/IntrusionDetector/Intrusion (Dahua)", "tns1:RuleEngine/tnshik:RegionEntrance/Entered (Hikvision)"] },
  { kind: "object-count", pattern: /(CountAggregation\/Counter|ObjectCount|PeopleCount|Crowd)[^/]*(\/|$)/i, examples: ["tns1:RuleEngine/CountAggregation/Counter", "tns1:RuleEngine/CrowdDetector/Crowd (Dahua)", "tnsaxis:CameraApplicationPlatform/ObjectCounting/… (Axis)"] },
  { kind: "tamper", pattern: /(^|\/)(TamperDetector|GlobalSceneChange|Tampering|VideoBlind|SceneChange)(\/|$)/i, examples: ["tns1:RuleEngine/TamperDetector/Tamper", "tns1:VideoSource/GlobalSceneChange/ImagingService", "tns1:VideoSource/tnsaxis:Tampering (Axis)", "tns1:VideoSource/VideoBlind (Dahua)"] },
  { kind: "motion", pattern: /(^|\/)(MotionAlarm|MotionDetection|MotionRegionDetector|CellMotionDetector|MotionDetector|VMD\d*)(\/|$)/i, examples: ["tns1:VideoSource/MotionAlarm", "tns1:RuleEngine/CellMotionDetector/Motion (Hikvision)", "tns1:VideoAnalytics/tnsaxis:MotionDetection (Axis)", "tns1:RuleEngine/tnsaxis:VMD3/vmd3_video_1 (Axis)"] },
  { kind: "digital-input", pattern: /(^|\/)(Trigger\/DigitalInput|DigitalInput|IO\/Port|AlarmIn|AlarmLocal)(\/|$)/i, examples: ["tns1:Device/Trigger/DigitalInput", "tns1:Device/tnsaxis:IO/Port (Axis)", "tns1:Device/Trigger/tnshik:AlarmIn (Hikvision)", "tns1:AlarmLocal (Dahua)"] },
];

/** "tns1:RuleEngine/tnsaxis:VMD3/vmd3_video_1" → "RuleEngine/VMD3/vmd3_video_1" */
export function topicPath(topic: string): string {
  return topic
    .trim()
    .split("/")
    .map((segment) => segment.slice(segment.lastIndexOf(":") + 1))
    .join("/");
}

export function ruleForTopic(topic: string): TopicRule | null {
  const tail = topicPath(topic);
  return TOPIC_RULES.find((rule) => rule.pattern.test(tail)) ?? null;
}

// Data item names vendors use for the on/off state, in order of preference.
const STATE_ITEMS = ["State", "IsMotion", "IsInside", "IsTamper", "LogicalState", "IsActive", "active", "motion", "tampering", "state", "Value"];
const COUNT_ITEMS = ["Count", "ObjectCount", "Number", "count", "Value", "HumanCount", "PeopleCount"];
const TRUE = new Set(["true", "1", "on", "active", "yes"]);
const FALSE = new Set(["false", "0", "off", "inactive", "no"]);

/** The message's on/off state, or null when no data item reads as a boolean. */
export function activeOf(data: Record<string, string>): boolean | null {
  for (const name of STATE_ITEMS) {
    if (!(name in data)) continue;
    const value = data[name].trim().toLowerCase();
    if (TRUE.has(value)) return true;
    if (FALSE.has(value)) return false;
  }
  // Other item names count only with a word, never a bare 0/1: "ObjectId=0" is an identifier, not a state.
  for (const name of Object.keys(data)) {
    const value = data[name].trim().toLowerCase();
    if (TRUE.has(value) && value !== "1") return true;
    if (FALSE.has(value) && value !== "0") return false;
  }
  return null;
}

export function countOf(data: Record<string, string>): number | null {
  for (const name of COUNT_ITEMS) {
    if (!(name in data)) continue;
    const value = Number(data[name]);
    if (Number.isFinite(value) && data[name].trim() !== "") return value;
  }
  return null;
}

export const SEVERITY_OF_KIND: Record<CameraEventKind | "crowd", Severity> = {
  motion: "low",
  "line-crossing": "medium",
  "field-intrusion": "high",
  "object-count": "info",
  crowd: "high",
  tamper: "high",
  "digital-input": "high",
};

/** What one notification means for us. */
export interface Interpretation {
  /** null for topics outside the table: they are kept as state only. */
  kind: CameraEventKind | "crowd" | null;
  /** Identifies the property (topic + source items) whose state this message sets. */
  stateKey: string;
  active: boolean | null;
  count: number | null;
  /** True when this message is an occurrence that becomes a SafetyEvent. */
  alarm: boolean;
}

/**
 * Only "Changed" messages (and stateless pulses, which carry no PropertyOperation) are occurrences; "Initialized"
 * reports the state at subscription time and "Deleted" removes a property. A falling edge (active=false) updates the
 * state without an alarm. Counts become object-count, or crowd when the count reaches the threshold.
 */
export function interpret(message: NotificationMessage, crowdThreshold: number): Interpretation {
  const rule = ruleForTopic(message.topic);
  const sourceKey = Object.keys(message.source)
    .sort()
    .map((name) => `${name}=${message.source[name]}`)
    .join("&");
  const stateKey = `${topicPath(message.topic)}?${sourceKey}`;
  const occurrence = message.propertyOperation === "Changed" || message.propertyOperation === null;
  if (!rule) return { kind: null, stateKey, active: activeOf(message.data), count: null, alarm: false };
  if (rule.kind === "object-count") {
    const count = countOf(message.data);
    const active = activeOf(message.data);
    // Vendor crowd topics carry a state instead of a count: an active one is a crowd.
    const crowd = count !== null ? count >= crowdThreshold : active === true;
    const kind = crowd ? "crowd" : "object-count";
    return { kind, stateKey, active: count !== null ? count > 0 : active, count, alarm: occurrence && (count !== null || active === true) };
  }
  const active = activeOf(message.data);
  // A crossing without a boolean data item (Hikvision sends ObjectId) is an occurrence by itself.
  const effectiveActive = active ?? (rule.kind === "line-crossing" ? true : null);
  return { kind: rule.kind, stateKey, active: effectiveActive, count: null, alarm: occurrence && effectiveActive === true };
}
