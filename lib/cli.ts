#!/usr/bin/env node
// The school-safety command line: roster import and export against the same store the app uses.
import fs from "node:fs";
import path from "node:path";
import { exportRoster, importRoster, type RosterImportReport } from "./access/roster";
import { rosterLanguage, type RosterLanguage } from "./access/roster-messages";
import type { RosterFormat } from "./access/roster-table";
import { errorMessage } from "./errors";
import { Store, describeStore, parseDatabaseUrl } from "./store";

const USAGE = `usage:
  school-safety roster import --school <schoolId> <file.csv|file.xlsx> [--dry-run] [--json] [--lang zh-CN]
  school-safety roster export --school <schoolId> --out <file.csv|file.xlsx> [--format csv|xlsx] [--lang zh-CN] [--include-pins]

The store is the app's: DATABASE_URL if set, otherwise SQLite in DATA_DIR (default ./data).
Exit status: 0 done, 1 the roster has problems (nothing was imported), 2 wrong usage or the store cannot be opened.`;

const USAGE_ZH = `用法：
  school-safety roster import --school <学校编号> <名册.csv|名册.xlsx> [--dry-run] [--json] [--lang zh-CN]
  school-safety roster export --school <学校编号> --out <名册.csv|名册.xlsx> [--format csv|xlsx] [--lang zh-CN] [--include-pins]

数据库与应用相同：设置了 DATABASE_URL 时使用它，否则使用 DATA_DIR（默认 ./data）中的 SQLite。
退出码：0 完成；1 名册有问题（未导入任何数据）；2 用法错误或无法打开数据库。`;

class UsageError extends Error {}

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
}

function parseArgs(argv: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split("=", 2);
    if (["dry-run", "json", "include-pins", "help"].includes(name)) flags.set(name, true);
    else if (inline !== undefined) flags.set(name, inline);
    else if (i + 1 < argv.length) flags.set(name, argv[++i]);
    else throw new UsageError(`--${name} needs a value`);
  }
  return { positional, flags };
}

function stringFlag(parsed: Parsed, name: string): string | undefined {
  const value = parsed.flags.get(name);
  return typeof value === "string" ? value : undefined;
}

const LABELS: Record<RosterLanguage, { row: string; column: string; ok: string; failed: string; dry: string }> = {
  "en-US": {
    row: "row",
    column: "column",
    ok: "imported {people} people ({newPeople} new), {classes} new classes, {credentials} credentials from {rows} rows",
    failed: "nothing imported: {count} problem(s) in {rows} rows",
    dry: "the roster is valid ({rows} rows); nothing written (dry run)",
  },
  "zh-CN": {
    row: "第",
    column: "列",
    ok: "已导入 {people} 人（新增 {newPeople} 人）、新班级 {classes} 个、凭证 {credentials} 个，共 {rows} 行",
    failed: "未导入任何数据：{rows} 行中有 {count} 个问题",
    dry: "名册有效（{rows} 行）；试运行，未写入数据",
  },
};

function fill(template: string, values: Record<string, number>): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => String(values[key] ?? ""));
}

function printReport(report: RosterImportReport, language: RosterLanguage, dryRun: boolean): void {
  const labels = LABELS[language];
  for (const problem of report.problems) {
    const where =
      language === "zh-CN"
        ? `第 ${problem.row} 行${problem.column ? `，${problem.column}（${problem.columnLetter} 列）` : ""}`
        : `row ${problem.row}${problem.column ? `, column ${problem.column} (${problem.columnLetter})` : ""}`;
    process.stdout.write(`${where}: ${problem.message}\n`);
  }
  const values = { ...report.imported, rows: report.rows, count: report.problems.length };
  process.stdout.write(`${fill(report.ok ? (dryRun ? labels.dry : labels.ok) : labels.failed, values)}\n`);
}

async function withStore<T>(run: (store: Store) => Promise<T>): Promise<T> {
  const dataDir = path.resolve(process.env.DATA_DIR || "./data");
  fs.mkdirSync(dataDir, { recursive: true });
  const config = parseDatabaseUrl(process.env.DATABASE_URL || undefined, dataDir);
  let store: Store;
  try {
    store = await Store.open(config);
  } catch (err) {
    throw new UsageError(`cannot open the store at ${describeStore(config)}: ${errorMessage(err)}`);
  }
  try {
    return await run(store);
  } finally {
    await store.close();
  }
}

function formatOf(file: string, explicit: string | undefined): RosterFormat {
  const format = explicit ?? (/\.xlsx$/i.test(file) ? "xlsx" : "csv");
  if (format !== "csv" && format !== "xlsx") throw new UsageError(`--format must be csv or xlsx, not "${format}"`);
  return format;
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv);
  const language = rosterLanguage(stringFlag(parsed, "lang") ?? process.env.LC_ALL ?? process.env.LANG);
  const [area, action, file] = parsed.positional;
  if (parsed.flags.has("help") || area !== "roster" || (action !== "import" && action !== "export")) {
    process.stdout.write(`${language === "zh-CN" ? USAGE_ZH : USAGE}\n`);
    return parsed.flags.has("help") ? 0 : 2;
  }
  const schoolId = stringFlag(parsed, "school");
  if (!schoolId) throw new UsageError("--school <schoolId> is required");
  const actor = `cli:${process.env.USER ?? "unknown"}`;

  if (action === "import") {
    if (!file) throw new UsageError("the roster file to import is required");
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (err) {
      throw new UsageError(`cannot read ${file}: ${errorMessage(err)}`);
    }
    const dryRun = parsed.flags.has("dry-run");
    const report = await withStore((store) =>
      importRoster(store, bytes, { schoolId, actor, fileName: path.basename(file), language, dryRun, format: stringFlag(parsed, "format") as RosterFormat | undefined }),
    );
    if (parsed.flags.has("json")) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else printReport(report, language, dryRun);
    return report.ok ? 0 : 1;
  }

  const out = stringFlag(parsed, "out");
  if (!out) throw new UsageError("--out <file.csv|file.xlsx> is required");
  const format = formatOf(out, stringFlag(parsed, "format"));
  const bytes = await withStore((store) => exportRoster(store, { schoolId, actor, format, language, includePins: parsed.flags.has("include-pins") }));
  fs.writeFileSync(out, bytes, { mode: 0o600 });
  process.stdout.write(`${language === "zh-CN" ? "已导出到" : "exported to"} ${out}\n`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`school-safety: ${errorMessage(err)}\n`);
      process.exit(2);
    },
  );
}
