// A small school for access specs: two gates, a lab, classrooms; students, a teacher, a guard, a visitor.
import type { AccessRequest } from "../../../lib/access/messages";
import { DEFAULT_ACCESS_SETTINGS, type AccessSnapshot } from "../../../lib/access/model";

export const SCHOOL = "demo-school";

export function snapshot(overrides: Partial<AccessSnapshot> = {}): AccessSnapshot {
  const person = (id: string, role: string, extra: Partial<AccessSnapshot["people"][number]> = {}) => ({
    id,
    role,
    grade: null,
    classId: null,
    teachesClassIds: [],
    disabled: false,
    validFromMs: null,
    validUntilMs: null,
    ...extra,
  });
  const card = (value: string, personId: string, extra: Partial<AccessSnapshot["credentials"][number]> = {}) => ({
    kind: "card" as const,
    value,
    personId,
    facilityCode: null,
    disabled: false,
    validFromMs: null,
    validUntilMs: null,
    ...extra,
  });
  return {
    schoolId: SCHOOL,
    people: [
      person("s1", "student", { grade: 1, classId: "g1c1" }),
      person("s6", "student", { grade: 6, classId: "g6c2" }),
      person("t1", "teacher", { teachesClassIds: ["g6c2"] }),
      person("guard1", "guard"),
      person("v1", "visitor", { validFromMs: Date.parse("2026-11-24T01:00:00Z"), validUntilMs: Date.parse("2026-11-24T04:00:00Z") }),
      person("gone", "student", { grade: 3, classId: "g3c1", disabled: true }),
    ],
    credentials: [
      card("1001", "s1"),
      card("1006", "s6"),
      card("2001", "t1"),
      card("3001", "guard1"),
      card("4001", "v1"),
      card("9999", "gone"),
      card("5001", "s6", { disabled: true }),
      { kind: "pin", value: "2468", personId: "t1", facilityCode: null, disabled: false, validFromMs: null, validUntilMs: null },
    ],
    doorGroups: [
      { id: "gates", kind: "gate", name: "Gates", doorIds: ["gate-north", "gate-south"] },
      { id: "labs", kind: "lab", name: "Labs", doorIds: ["lab-science"] },
      { id: "rooms", kind: "classroom", name: "Classrooms", doorIds: ["room-g1c1", "room-g6c2"] },
      { id: "exits", kind: "exit", name: "Fire exits", doorIds: ["exit-east"] },
    ],
    rules: [
      {
        id: "students-gates",
        name: "Students at the gates on school days",
        who: { roles: ["student"] },
        doorGroupId: "gates",
        windows: [{ days: [1, 2, 3, 4, 5], from: "06:30", to: "18:00" }],
        calendar: { schoolDays: true, examDays: true },
      },
      {
        id: "grade6-labs",
        name: "Grade 6 in the labs, school hours",
        who: { roles: ["student"], grades: [6] },
        doorGroupId: "labs",
        windows: [{ days: [1, 2, 3, 4, 5], from: "08:00", to: "16:00" }],
        calendar: { schoolDays: true, examDays: false },
      },
      {
        id: "teachers-all",
        name: "Teachers, gates, every day 06:00-22:00",
        who: { roles: ["teacher"] },
        doorGroupId: "gates",
        windows: [{ days: [0, 1, 2, 3, 4, 5, 6], from: "06:00", to: "22:00" }],
        calendar: { schoolDays: true, examDays: true, holidays: true, breaks: true },
      },
      {
        id: "teachers-labs",
        name: "Teachers of class 6-2 in the labs",
        who: { teachersOfClassIds: ["g6c2"] },
        doorGroupId: "labs",
        windows: [{ days: [1, 2, 3, 4, 5], from: "07:00", to: "20:00" }],
        calendar: { schoolDays: true, examDays: true },
      },
      {
        id: "guards",
        name: "Guards, always",
        who: { roles: ["guard"] },
        doorGroupId: "gates",
        windows: [{ days: [0, 1, 2, 3, 4, 5, 6], from: "00:00", to: "24:00" }],
        calendar: { schoolDays: true, examDays: true, holidays: true, breaks: true },
      },
      {
        id: "visitors",
        name: "Visitors at the gates in their window",
        who: { roles: ["visitor"] },
        doorGroupId: "gates",
        windows: [{ days: [1, 2, 3, 4, 5], from: "08:00", to: "17:00" }],
        calendar: { schoolDays: true },
      },
    ],
    calendar: [
      { kind: "term", from: "2026-09-01", to: "2027-01-20", name: "Autumn term" },
      { kind: "holiday", from: "2026-10-01", to: "2026-10-07", name: "National Day" },
      { kind: "exam", from: "2026-11-25", to: "2026-11-26", name: "Mid-term exams" },
    ],
    mode: "normal",
    settings: { ...DEFAULT_ACCESS_SETTINGS },
    ...overrides,
  };
}

export function request(value: string, doorId: string, extra: Partial<AccessRequest> = {}): AccessRequest {
  return {
    requestId: `r-${value}-${doorId}`,
    schoolId: SCHOOL,
    doorId,
    readerId: `reader-${doorId}`,
    credential: { kind: "card", value },
    occurredAt: "2026-11-24T00:00:00.000Z",
    ...extra,
  };
}

/** Beijing local wall time (UTC+8) → epoch ms. */
export function beijing(local: string): number {
  return Date.parse(`${local}+08:00`);
}
