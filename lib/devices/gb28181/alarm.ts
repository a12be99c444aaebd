// GB/T 28181 alarms → SafetyEvent kinds and severities (AlarmMethod, AlarmType, AlarmPriority).
import type { Severity } from "../../events";

/** AlarmPriority 1 is the most urgent. */
export function severityOfPriority(priority: number): Severity {
  return priority === 1 ? "critical" : priority === 2 ? "high" : priority === 3 ? "medium" : "low";
}

const VIDEO_TYPES: Record<number, string> = { 2: "motion", 5: "line-crossing", 6: "field-intrusion", 8: "loitering", 9: "object-count", 10: "crowd", 12: "fast-movement", 13: "occlusion" };
const DEVICE_TYPES: Record<number, string> = { 1: "video-loss", 2: "tamper" };

export function kindOfAlarm(method: number, type: number | null): string {
  if (method === 1) return "phone-alarm";
  if (method === 5 && type !== null && VIDEO_TYPES[type]) return VIDEO_TYPES[type];
  if ((method === 2 || method === 6) && type !== null && DEVICE_TYPES[type]) return DEVICE_TYPES[type];
  if (method === 6) return "device-fault";
  return "raw";
}
