// The access-control model: who (people and credentials), where (door groups), when (rules, calendar), and modes.
import type { CredentialKind } from "./messages";

export const ACCESS_MODES = ["normal", "secure", "lockdown", "evacuate"] as const;
export type AccessMode = (typeof ACCESS_MODES)[number];

export const DOOR_GROUP_KINDS = ["gate", "perimeter", "dormitory", "classroom", "lab", "office", "exit", "other"] as const;
export type DoorGroupKind = (typeof DOOR_GROUP_KINDS)[number];

export interface AccessPerson {
  id: string;
  role: string;
  grade: number | null;
  classId: string | null;
  /** Teachers: the classes they teach (a rule for a class admits its teachers too when it says so). */
  teachesClassIds: string[];
  disabled: boolean;
  /** Visitors and temporary staff: outside [validFrom, validUntil) the person is "expired". Epoch ms. */
  validFromMs: number | null;
  validUntilMs: number | null;
}

export interface AccessCredential {
  kind: CredentialKind;
  value: string;
  personId: string;
  facilityCode: number | null;
  disabled: boolean;
  validFromMs: number | null;
  validUntilMs: number | null;
}

export interface DoorGroup {
  id: string;
  kind: DoorGroupKind;
  name: string;
  doorIds: string[];
}

/** Minutes since local midnight; `to` is exclusive and may be 1440. */
export interface WeeklyWindow {
  /** 0 = Sunday … 6 = Saturday, local to the school's time zone. */
  days: number[];
  from: string;
  to: string;
}

/** Which kinds of calendar day a rule applies on. Unset fields default to: school days yes, others no. */
export interface CalendarScope {
  schoolDays?: boolean;
  examDays?: boolean;
  holidays?: boolean;
  /** Days outside every term (summer and winter breaks) that are not marked holidays. */
  breaks?: boolean;
}

export interface AccessRule {
  id: string;
  name: string;
  who: { roles?: string[]; grades?: number[]; classIds?: string[]; personIds?: string[]; teachersOfClassIds?: string[] };
  doorGroupId: string;
  windows: WeeklyWindow[];
  calendar: CalendarScope;
}

export type CalendarEntryKind = "term" | "holiday" | "exam";

export interface CalendarEntry {
  kind: CalendarEntryKind;
  /** Local dates, inclusive, YYYY-MM-DD. */
  from: string;
  to: string;
  name: string;
}

export interface AccessSettings {
  timeZone: string;
  /** Roles let through in lockdown (responders). */
  responderRoles: string[];
  antiPassback: boolean;
  unlockMs: number;
}

export const DEFAULT_ACCESS_SETTINGS: AccessSettings = {
  timeZone: "Asia/Shanghai",
  responderRoles: ["guard", "principal", "duty-officer"],
  antiPassback: false,
  unlockMs: 5000,
};

/** Everything a decision index is compiled from. */
export interface AccessSnapshot {
  schoolId: string;
  people: AccessPerson[];
  credentials: AccessCredential[];
  doorGroups: DoorGroup[];
  rules: AccessRule[];
  calendar: CalendarEntry[];
  mode: AccessMode;
  settings: AccessSettings;
}
