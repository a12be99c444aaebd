// Roster import and export against every supported database: CSV (UTF-8 and GBK) and XLSX, all-or-nothing with a report.
import assert from "node:assert/strict";
import ExcelJS from "exceljs";
import iconv from "iconv-lite";
import { exportRoster, importRoster, type RosterImportReport } from "../../../lib/access/roster";
import { parseCsv, readRosterTable } from "../../../lib/access/roster-table";
import type { Store } from "../../../lib/store";
import { describeEachStore } from "../../support/stores";

const csv = (lines: string[]) => Buffer.from(lines.join("\r\n") + "\r\n", "utf8");

const GOOD_ROSTER = [
  "person_id,name,role,grade,class_id,class_name,teaches,cards,birth_date,valid_until,status",
  "r1-s001,Li Lei,student,1,r1-g1c1,一年级1班,,1001,2019-03-02,,active",
  "r1-s002,\"Han, Meimei\",student,1,r1-g1c1,,,0001002;12:1003,2019-05-20,,",
  "r1-s003,王小明,学生,2,r1-g2c1,二年级1班,,1004,2018-01-01,2027-07-15,",
  "r1-t001,张老师,教师,,,,r1-g1c1;r1-g2c1,2001,,,",
  "r1-g001,保安 刘,guard,,,,,3001,,,停用",
];

async function newSchool(store: Store, id: string): Promise<string> {
  await store.schools.create({ id, name: `学校 ${id}`, nameEn: id, timeZone: "Asia/Shanghai" });
  return id;
}

async function counts(store: Store, schoolId: string) {
  const count = async (table: string) => Number((await store.knex(table).where({ school_id: schoolId }).count({ n: "*" }))[0].n);
  return { people: await count("people"), classes: await count("classes"), credentials: await count("credentials"), teaching: await count("teacher_classes") };
}

function problemsOf(report: RosterImportReport) {
  return report.problems.map((p) => `${p.row}:${p.column ?? "-"}:${p.code}`);
}

describe("roster tables", function () {
  it("parses RFC 4180 CSV: quoted commas, doubled quotes, line breaks inside quotes, CRLF and LF", function () {
    assert.deepEqual(parseCsv('a,"b,c","say ""hi"""\r\n"two\nlines",x,\n'), [
      ["a", "b,c", 'say "hi"'],
      ["two\nlines", "x", ""],
    ]);
  });

  it("reports a CSV that ends inside a quoted field", async function () {
    await assert.rejects(readRosterTable(Buffer.from('person_id,name\n"r1,Li\n'), "csv"), /closing " is missing/);
  });

  it("reads GBK bytes, as Excel on Chinese Windows saves CSV, as Chinese text", async function () {
    const table = await readRosterTable(iconv.encode("学号/工号,姓名\r\ns1,王小明\r\n", "gbk"), "csv");
    assert.deepEqual(table, { headers: ["学号/工号", "姓名"], rows: [["s1", "王小明"]] });
  });
});

describeEachStore("roster import and export", (ctx) => {
  it("imports students, classes, teachers and cards from CSV and the access index sees them", async function () {
    const school = await newSchool(ctx.store, "roster-1");
    const report = await importRoster(ctx.store, csv(GOOD_ROSTER), { schoolId: school, actor: "it-admin" });
    assert.deepEqual(report.problems, []);
    assert.equal(report.ok, true);
    assert.deepEqual(report.imported, { people: 5, newPeople: 5, classes: 2, credentials: 6 });
    assert.deepEqual(await counts(ctx.store, school), { people: 5, classes: 2, credentials: 6, teaching: 2 });

    const classes = await ctx.store.people.classes(school);
    assert.deepEqual(
      classes.map((c) => [c.id, c.grade, c.name]),
      [
        ["r1-g1c1", 1, "一年级1班"],
        ["r1-g2c1", 2, "二年级1班"],
      ],
    );
    const snapshot = await ctx.store.access.snapshot(school);
    const han = snapshot.credentials.filter((c) => c.personId === "r1-s002").map((c) => [c.value, c.facilityCode]);
    assert.deepEqual(han.sort(), [
      ["1002", null],
      ["1003", 12],
    ]);
    const teacher = snapshot.people.find((p) => p.id === "r1-t001")!;
    assert.deepEqual(teacher.teachesClassIds.sort(), ["r1-g1c1", "r1-g2c1"]);
    assert.equal(snapshot.people.find((p) => p.id === "r1-g001")!.disabled, true);
    const wang = snapshot.people.find((p) => p.id === "r1-s003")!;
    // Valid through 2027-07-15 in Beijing: expires at the start of 2027-07-16 local time.
    assert.equal(wang.validUntilMs, Date.parse("2027-07-16T00:00:00+08:00"));
    const audit = await ctx.store.audit.list(school);
    assert.equal(audit[0].action, "roster.import");
    assert.equal(audit[0].actor, "it-admin");
  });

  it("imports nothing when any row is invalid, and reports every problem by row and column", async function () {
    const school = await newSchool(ctx.store, "roster-2");
    const rows = [
      "person_id,name,role,grade,class_id,cards,birth_date,valid_from,valid_until,status",
      "r2-s001,Good Row,student,3,r2-g3c1,5001,2017-02-02,,,",
      "r2-s002,,student,3,r2-g3c1,5002,,,,",
      "r2-s003,Bad Role,janitor,,,,,,,",
      "r2-s004,Bad Grade,student,13,r2-g3c1,,,,,",
      "r2-s005,No Class,student,3,,,,,,",
      "r2-s006,Bad Date,student,3,r2-g3c1,,2017-02-30,,,",
      "r2-s007,Bad Card,student,3,r2-g3c1,12ab,,,,",
      "r2-s001,Duplicate,student,3,r2-g3c1,,,,,",
      "r2-s008,Same Card,student,3,r2-g3c1,5001,,,,",
      "r2-s009,Wrong Grade,student,4,r2-g3c1,,,,,",
      "r2-s010,Backwards,staff,,,,,2026-09-01,2026-08-31,",
      "r2-s011,Bad Status,staff,,,,,,,retired",
      "bad id!,Bad Id,staff,,,,,,,",
      "r2-s012,Extra,staff,,,,,,,,surplus",
    ];
    const report = await importRoster(ctx.store, csv(rows), { schoolId: school, actor: "it-admin" });
    assert.equal(report.ok, false);
    assert.equal(report.rows, 14);
    assert.deepEqual(problemsOf(report), [
      "3:name:required",
      "4:role:invalid-role",
      "5:grade:invalid-grade",
      "6:class_id:student-needs-class",
      "7:birth_date:invalid-date",
      "8:cards:invalid-card",
      "9:person_id:duplicate-person",
      "10:cards:duplicate-credential",
      "11:grade:class-grade-conflict",
      "12:valid_until:invalid-range",
      "13:status:invalid-status",
      "14:person_id:invalid-id",
      "15:-:extra-cell",
    ]);
    const conflict = report.problems.find((p) => p.code === "class-grade-conflict")!;
    assert.equal(conflict.columnLetter, "D");
    assert.match(conflict.message, /grade 4 here but grade 3 in row 2/);
    assert.deepEqual(report.imported, { people: 0, newPeople: 0, classes: 0, credentials: 0 });
    assert.deepEqual(await counts(ctx.store, school), { people: 0, classes: 0, credentials: 0, teaching: 0 });
  });

  it("reports missing and unknown columns in the header row before reading any data", async function () {
    const school = await newSchool(ctx.store, "roster-3");
    const report = await importRoster(ctx.store, csv(["person_id,nmae,grade", "r3-s1,Li,1"]), { schoolId: school, actor: "it" });
    assert.deepEqual(problemsOf(report), ["1:nmae:unknown-column", "1:-:missing-column", "1:-:missing-column"]);
    assert.deepEqual(
      report.problems.filter((p) => p.code === "missing-column").map((p) => p.params.column),
      ["name", "role"],
    );
  });

  it("checks against the store inside the transaction: a card held by someone else, an unknown class, another school's id", async function () {
    const school = await newSchool(ctx.store, "roster-4");
    const other = await newSchool(ctx.store, "roster-4b");
    assert.equal((await importRoster(ctx.store, csv(["person_id,name,role,cards", "r4-keeper,Keeper,staff,7001"]), { schoolId: school, actor: "it" })).ok, true);
    assert.equal((await importRoster(ctx.store, csv(["person_id,name,role", "r4b-x,Elsewhere,staff"]), { schoolId: other, actor: "it" })).ok, true);
    const before = await counts(ctx.store, school);
    const report = await importRoster(
      ctx.store,
      csv(["person_id,name,role,teaches,cards", "r4-new,New,staff,,7001", "r4-t,Teacher,teacher,r4-nowhere,", "r4b-x,Moved,staff,,"]),
      { schoolId: school, actor: "it" },
    );
    assert.deepEqual(problemsOf(report), ["2:cards:credential-taken", "3:teaches:unknown-class", "4:person_id:other-school"]);
    assert.deepEqual(await counts(ctx.store, school), before);
  });

  it("moves a card between two people in the same roster and replaces a person's cards on re-import", async function () {
    const school = await newSchool(ctx.store, "roster-5");
    await importRoster(ctx.store, csv(["person_id,name,role,cards", "r5-a,A,staff,8001", "r5-b,B,staff,8002"]), { schoolId: school, actor: "it" });
    const report = await importRoster(ctx.store, csv(["person_id,name,role,cards", "r5-a,A,staff,8002", "r5-b,B,staff,"]), { schoolId: school, actor: "it" });
    assert.deepEqual(report.problems, []);
    const cards = (await ctx.store.access.snapshot(school)).credentials.map((c) => `${c.personId}=${c.value}`);
    assert.deepEqual(cards, ["r5-a=8002"]);
  });

  it("validates without writing on a dry run", async function () {
    const school = await newSchool(ctx.store, "roster-6");
    const report = await importRoster(ctx.store, csv(GOOD_ROSTER.map((line) => line.replace(/r1-/g, "r6-"))), { schoolId: school, actor: "it", dryRun: true });
    assert.equal(report.ok, true);
    assert.deepEqual(await counts(ctx.store, school), { people: 0, classes: 0, credentials: 0, teaching: 0 });
  });

  it("imports an XLSX workbook with Chinese headers, numeric cells and date cells", async function () {
    const school = await newSchool(ctx.store, "roster-7");
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet("花名册");
    sheet.addRow(["学号/工号", "姓名", "身份", "年级", "班级编号", "卡号", "出生日期"]);
    sheet.addRow(["r7-s1", "李雷", "学生", 5, "r7-g5c2", 9001, new Date(Date.UTC(2015, 8, 1))]);
    sheet.addRow(["r7-s2", { richText: [{ text: "韩" }, { text: "梅梅" }] }, "学生", 5, "r7-g5c2", "9002", "2015-10-01"]);
    const bytes = Buffer.from(await workbook.xlsx.writeBuffer());
    const report = await importRoster(ctx.store, bytes, { schoolId: school, actor: "it", fileName: "roster.xlsx" });
    assert.deepEqual(report.problems, []);
    assert.equal(report.format, "xlsx");
    const people = await ctx.store.people.list(school);
    assert.deepEqual(
      people.map((p) => [p.id, p.name, p.grade, p.classId]),
      [
        ["r7-s1", "李雷", 5, "r7-g5c2"],
        ["r7-s2", "韩梅梅", 5, "r7-g5c2"],
      ],
    );
    const birth = await ctx.store.knex("people").where({ id: "r7-s1" }).first();
    assert.equal(birth.birth_date, "2015-09-01");
  });

  it("reports problems in Chinese when asked", async function () {
    const school = await newSchool(ctx.store, "roster-8");
    const report = await importRoster(ctx.store, csv(["person_id,name,role,grade,class_id", "r8-s1,李雷,学生,十三,r8-c"]), {
      schoolId: school,
      actor: "it",
      language: "zh-CN",
    });
    assert.equal(report.problems[0].code, "invalid-grade");
    assert.match(report.problems[0].message, /不是有效年级/);
  });

  it("rejects a file named .xlsx that is not a workbook", async function () {
    const school = await newSchool(ctx.store, "roster-9");
    await assert.rejects(importRoster(ctx.store, csv(["person_id,name,role"]), { schoolId: school, actor: "it", fileName: "roster.xlsx" }), /not an XLSX workbook/);
  });

  for (const format of ["csv", "xlsx"] as const) {
    it(`exports ${format.toUpperCase()} in the import format: re-importing the export changes nothing`, async function () {
      const school = await newSchool(ctx.store, `roster-x-${format}`);
      const roster = GOOD_ROSTER.map((line) => line.replace(/r1-/g, `rx${format}-`));
      assert.equal((await importRoster(ctx.store, csv(roster), { schoolId: school, actor: "it" })).ok, true);
      const before = await ctx.store.access.snapshot(school);
      const exported = await exportRoster(ctx.store, { schoolId: school, actor: "it", format });
      const table = await readRosterTable(exported, format);
      assert.deepEqual(table.headers, ["person_id", "name", "role", "grade", "class_id", "class_name", "teaches", "cards", "birth_date", "valid_from", "valid_until", "status"]);
      const han = table.rows.find((row) => row[0] === `rx${format}-s002`)!;
      assert.deepEqual(han.slice(1, 8), ["Han, Meimei", "student", "1", `rx${format}-g1c1`, "一年级1班", "", "1002;12:1003"]);
      assert.equal(table.rows.find((row) => row[0] === `rx${format}-s003`)![10], "2027-07-15");

      const again = await importRoster(ctx.store, exported, { schoolId: school, actor: "it", format });
      assert.deepEqual(again.problems, []);
      assert.equal(again.imported.newPeople, 0);
      const after = await ctx.store.access.snapshot(school);
      const sortBy = <T extends { personId?: string; id?: string; value?: string }>(list: T[]) =>
        [...list].sort((a, b) => `${a.id ?? a.personId}${a.value ?? ""}`.localeCompare(`${b.id ?? b.personId}${b.value ?? ""}`));
      assert.deepEqual(sortBy(after.people).map((p) => ({ ...p, teachesClassIds: [...p.teachesClassIds].sort() })), sortBy(before.people).map((p) => ({ ...p, teachesClassIds: [...p.teachesClassIds].sort() })));
      assert.deepEqual(sortBy(after.credentials), sortBy(before.credentials));
    });
  }

  it("exports Chinese headers that import back, and PINs only when asked", async function () {
    const school = await newSchool(ctx.store, "roster-10");
    await importRoster(ctx.store, csv(["person_id,name,role,pins", "r10-a,A,staff,123456"]), { schoolId: school, actor: "it" });
    const zh = await readRosterTable(await exportRoster(ctx.store, { schoolId: school, actor: "it", format: "csv", language: "zh-CN" }), "csv");
    assert.equal(zh.headers[0], "学号/工号");
    assert.equal(zh.headers.includes("密码"), false);
    const withPins = await readRosterTable(await exportRoster(ctx.store, { schoolId: school, actor: "it", format: "csv", includePins: true }), "csv");
    assert.equal(withPins.rows[0][withPins.headers.indexOf("pins")], "123456");
    const exportAudit = (await ctx.store.audit.list(school)).filter((a) => a.action === "roster.export");
    assert.equal(exportAudit.length, 2);
  });
});
