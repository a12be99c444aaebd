// The roster command line on a real SQLite store in DATA_DIR: import, a report with exit status 1, export.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { Store, parseDatabaseUrl } from "../../../lib/store";
import { tempDir } from "../../support/stores";

const CLI = path.resolve(__dirname, "..", "..", "..", "lib", "cli.js");

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as NodeJS.ErrnoException & { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe("school-safety roster (command line)", function () {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;

  before(async function () {
    dataDir = tempDir("ssf-cli-");
    env = { DATA_DIR: dataDir, LANG: "C", USER: "it-admin" };
    const store = await Store.open(parseDatabaseUrl(undefined, dataDir));
    await store.schools.create({ id: "cli-school", name: "命令行学校", nameEn: "CLI school", timeZone: "Asia/Shanghai" });
    await store.close();
  });

  it("imports a CSV roster into the app's store and says what it imported", async function () {
    const file = path.join(dataDir, "roster.csv");
    fs.writeFileSync(file, "person_id,name,role,grade,class_id,cards\nc-s1,Li Lei,student,1,c-g1c1,5551\nc-t1,Teacher,teacher,,,5552\n");
    const result = await run(["roster", "import", "--school", "cli-school", file], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /imported 2 people \(2 new\), 1 new classes, 2 credentials from 2 rows/);
    const store = await Store.open(parseDatabaseUrl(undefined, dataDir));
    try {
      assert.deepEqual((await store.people.list("cli-school")).map((p) => p.id), ["c-s1", "c-t1"]);
      assert.equal((await store.audit.list("cli-school"))[0].actor, "cli:it-admin");
    } finally {
      await store.close();
    }
  });

  it("prints every problem with row and column, in Chinese with --lang zh-CN, and exits 1 without importing", async function () {
    const file = path.join(dataDir, "bad.csv");
    fs.writeFileSync(file, "person_id,name,role,grade,class_id\nc-s9,,student,1,c-g1c1\nc-s10,X,student,0,c-g1c1\n");
    const result = await run(["roster", "import", "--school", "cli-school", "--lang", "zh-CN", file], env);
    assert.equal(result.code, 1);
    assert.deepEqual(result.stdout.trim().split("\n"), [
      "第 2 行，name（B 列）: 此处必须填写。",
      "第 3 行，grade（D 列）: “0”不是有效年级：请填写 1 到 12 的整数。",
      "未导入任何数据：2 行中有 2 个问题",
    ]);
  });

  it("exports an XLSX roster that imports back unchanged", async function () {
    const out = path.join(dataDir, "export.xlsx");
    const exported = await run(["roster", "export", "--school", "cli-school", "--out", out], env);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(fs.readFileSync(out).subarray(0, 2).toString("latin1"), "PK");
    const again = await run(["roster", "import", "--school", "cli-school", "--json", out], env);
    assert.equal(again.code, 0, again.stderr);
    const report = JSON.parse(again.stdout);
    assert.equal(report.format, "xlsx");
    assert.deepEqual(report.imported, { people: 2, newPeople: 0, classes: 0, credentials: 2 });
  });

  it("exits 2 with a one-line reason for an unknown school or a missing file", async function () {
    const unknown = await run(["roster", "import", "--school", "nowhere", path.join(dataDir, "roster.csv")], env);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr.trim(), 'school-safety: school "nowhere" does not exist in the store');
    const missing = await run(["roster", "import", "--school", "cli-school", path.join(dataDir, "absent.csv")], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^school-safety: cannot read .*absent\.csv: ENOENT/);
  });
});
