// Roster problems in words, in en-US and zh-CN: the report school IT staff read to fix their spreadsheet.
import type { RosterProblem, RosterProblemCode } from "./roster";

export type RosterLanguage = "en-US" | "zh-CN";

type Template = (p: Record<string, string | number>) => string;

const MESSAGES: Record<RosterLanguage, Record<RosterProblemCode, Template>> = {
  "en-US": {
    "unreadable-file": (p) => `The file cannot be read: ${p.reason}`,
    "missing-column": (p) => `The required column "${p.column}" (or "${p.columnZh}") is missing from the header row.`,
    "unknown-column": (p) => `Unknown column "${p.header}": rename it to one of the documented columns or delete it.`,
    "duplicate-column": (p) => `The column "${p.header}" appears twice.`,
    "extra-cell": (p) => `A value ("${p.value}") stands beyond the last column header.`,
    required: () => "A value is required here.",
    "invalid-id": (p) => `"${p.value}" is not a valid id: use letters, digits and . _ - : @ (at most 64), starting with a letter or digit.`,
    "invalid-role": (p) => `"${p.value}" is not a role; use one of: ${p.allowed}.`,
    "invalid-grade": (p) => `"${p.value}" is not a grade: use a whole number from 1 to 12.`,
    "student-needs-class": () => "A student (and anyone with a class) needs both a grade and a class id.",
    "class-grade-conflict": (p) =>
      Number(p.otherRow) > 0
        ? `Class "${p.classId}" is grade ${p.grade} here but grade ${p.otherGrade} in row ${p.otherRow}.`
        : `Class "${p.classId}" is grade ${p.grade} here but grade ${p.otherGrade} in the store.`,
    "invalid-date": (p) => `"${p.value}" is not a date: write it as YYYY-MM-DD, e.g. 2026-09-01.`,
    "invalid-range": (p) => `The validity ends (${p.until}) before it starts (${p.from}).`,
    "invalid-status": (p) => `"${p.value}" is not a status: use active or disabled.`,
    "invalid-card": (p) => `"${p.value}" is not a card number: digits, optionally "facility:number" (e.g. 12:34567), or raw:<bits>:<hex>.`,
    "invalid-pin": () => "A PIN must be 4 to 12 digits.",
    "duplicate-person": (p) => `Person "${p.value}" already appears in row ${p.firstRow}.`,
    "duplicate-credential": (p) => `"${p.value}" is already given to the person in row ${p.firstRow}.`,
    "credential-taken": (p) => `"${p.value}" belongs to "${p.owner}", who is not in this roster: remove it from them first.`,
    "unknown-class": (p) => `Class "${p.value}" is neither in this roster nor in the store.`,
    "other-school": (p) => `"${p.value}" already belongs to school "${p.schoolId}".`,
  },
  "zh-CN": {
    "unreadable-file": (p) => `无法读取文件：${p.reason}`,
    "missing-column": (p) => `表头缺少必填列“${p.columnZh}”（或“${p.column}”）。`,
    "unknown-column": (p) => `未知列“${p.header}”：请改为文档中列出的列名或删除该列。`,
    "duplicate-column": (p) => `列“${p.header}”出现了两次。`,
    "extra-cell": (p) => `最后一个表头之后还有内容（“${p.value}”）。`,
    required: () => "此处必须填写。",
    "invalid-id": (p) => `“${p.value}”不是有效编号：只能使用字母、数字及 . _ - : @（最多 64 个字符），并以字母或数字开头。`,
    "invalid-role": (p) => `“${p.value}”不是有效身份，可选：${p.allowed}（或 学生、教师、职工、保安、校长、值班员、校医）。`,
    "invalid-grade": (p) => `“${p.value}”不是有效年级：请填写 1 到 12 的整数。`,
    "student-needs-class": () => "学生（以及填写了班级的人员）必须同时填写年级和班级编号。",
    "class-grade-conflict": (p) =>
      Number(p.otherRow) > 0
        ? `班级“${p.classId}”在此为 ${p.grade} 年级，但在第 ${p.otherRow} 行为 ${p.otherGrade} 年级。`
        : `班级“${p.classId}”在此为 ${p.grade} 年级，但系统中为 ${p.otherGrade} 年级。`,
    "invalid-date": (p) => `“${p.value}”不是有效日期：请按 YYYY-MM-DD 填写，例如 2026-09-01。`,
    "invalid-range": (p) => `失效日期（${p.until}）早于生效日期（${p.from}）。`,
    "invalid-status": (p) => `“${p.value}”不是有效状态：请填写 启用 或 停用（active / disabled）。`,
    "invalid-card": (p) => `“${p.value}”不是有效卡号：请填写数字，或“场地码:卡号”（如 12:34567），或 raw:<位数>:<十六进制>。`,
    "invalid-pin": () => "密码必须是 4 到 12 位数字。",
    "duplicate-person": (p) => `人员“${p.value}”已在第 ${p.firstRow} 行出现。`,
    "duplicate-credential": (p) => `“${p.value}”已分配给第 ${p.firstRow} 行的人员。`,
    "credential-taken": (p) => `“${p.value}”属于不在本名册中的“${p.owner}”：请先从其名下移除。`,
    "unknown-class": (p) => `班级“${p.value}”既不在本名册中，也不在系统中。`,
    "other-school": (p) => `“${p.value}”已属于学校“${p.schoolId}”。`,
  },
};

export function describeRosterProblem(problem: Pick<RosterProblem, "code" | "params">, language: RosterLanguage): string {
  return MESSAGES[language][problem.code](problem.params);
}

/** Picks the report language from an Accept-Language header, a LANG variable or a Node-RED lang setting. */
export function rosterLanguage(preference: string | undefined): RosterLanguage {
  return preference && /^zh/i.test(preference.trim()) ? "zh-CN" : "en-US";
}
