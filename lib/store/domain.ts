// Domain records the repositories return: camelCase, ISO times, parsed JSON.
import type { SafetyEvent, Severity } from "../events";

export interface School {
  id: string;
  name: string;
  nameEn: string | null;
  timeZone: string;
  createdAt: string;
}

export interface Site {
  id: string;
  schoolId: string;
  name: string;
  address: string | null;
}

export interface Building {
  id: string;
  schoolId: string;
  siteId: string;
  name: string;
  floors: number;
}

export const ZONE_KINDS = [
  "gate",
  "classroom",
  "corridor",
  "stairwell",
  "playground",
  "office",
  "duty-room",
  "lab",
  "library",
  "canteen",
  "dormitory",
  "gym",
  "assembly-point",
  "perimeter",
] as const;
export type ZoneKind = (typeof ZONE_KINDS)[number];

export interface Zone {
  id: string;
  schoolId: string;
  siteId: string;
  buildingId: string | null;
  kind: ZoneKind;
  name: string;
  floor: number | null;
}

export const DEVICE_STATUSES = ["unknown", "online", "offline", "fault"] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

export interface Device {
  id: string;
  schoolId: string;
  kind: string;
  protocol: string;
  address: string;
  zoneId: string | null;
  name: string;
  status: DeviceStatus;
  lastSeen: string | null;
  details: Record<string, unknown>;
}

export interface ClassGroup {
  id: string;
  schoolId: string;
  grade: number;
  name: string;
  classroomZoneId: string | null;
  homeroomTeacherId: string | null;
}

export const PERSON_ROLES = [
  "student",
  "teacher",
  "staff",
  "guard",
  "principal",
  "duty-officer",
  "nurse",
  "visitor",
  "parent",
] as const;
export type PersonRole = (typeof PERSON_ROLES)[number];

export interface Person {
  id: string;
  schoolId: string;
  role: PersonRole;
  name: string;
  grade: number | null;
  classId: string | null;
  status: "active" | "disabled";
  createdAt: string;
}

export interface JournalEntry {
  seq: number;
  event: SafetyEvent;
  receivedAt: string;
}

export type IncidentStatus = "open" | "acknowledged" | "closed";

export interface Incident {
  id: string;
  schoolId: string;
  kind: string;
  severity: Severity;
  status: IncidentStatus;
  dedupeKey: string;
  zoneId: string | null;
  processInstanceId: string | null;
  summary: string;
  openedAt: string;
  updatedAt: string;
  closedAt: string | null;
}

export interface TimelineEntry {
  id: number;
  incidentId: string;
  schoolId: string;
  at: string;
  actor: string;
  action: string;
  details: Record<string, unknown>;
}

export interface Role {
  name: string;
  schoolId: string;
  description: string;
}

export interface User {
  id: string;
  schoolId: string;
  username: string;
  displayName: string;
  passwordHash: string | null;
  personId: string | null;
  disabled: boolean;
  roles: string[];
  createdAt: string;
}

export interface AuditEntry {
  id: number;
  schoolId: string;
  at: string;
  actor: string;
  action: string;
  targetType: string;
  targetId: string | null;
  details: Record<string, unknown>;
}
