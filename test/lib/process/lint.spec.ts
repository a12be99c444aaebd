// Quality gate: every BPMN file we ship or test with deploys on Camunda 8.8 unchanged, as bpmnlint's camunda-compat rules judge.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { BROKEN_FIXTURES, FIXTURES, REPO_ROOT } from "./support";

/* eslint-disable @typescript-eslint/no-require-imports */
const { Linter } = require("bpmnlint") as { Linter: new (options: unknown) => { lint(definitions: unknown): Promise<Record<string, LintReport[]>> } };
const NodeResolver = require("bpmnlint/lib/resolver/node-resolver") as new () => unknown;
const bpmnModdleModule = require("bpmn-moddle") as { default?: unknown };
const zeebeSchema = require("zeebe-bpmn-moddle/resources/zeebe.json") as unknown;
/* eslint-enable @typescript-eslint/no-require-imports */
const BpmnModdle = (bpmnModdleModule.default ?? bpmnModdleModule) as new (packages: unknown) => { fromXML(xml: string): Promise<{ rootElement: unknown }> };

interface LintReport {
  id?: string;
  message: string;
  category: string;
}

const CONFIG = { extends: "plugin:camunda-compat/camunda-cloud-8-8" };

async function lint(file: string): Promise<string[]> {
  const { rootElement } = await new BpmnModdle({ zeebe: zeebeSchema }).fromXML(fs.readFileSync(file, "utf8"));
  const linter = new Linter({ config: CONFIG, resolver: new NodeResolver() });
  const reports = await linter.lint(rootElement);
  return Object.entries(reports).flatMap(([rule, list]) => list.map((report) => `${rule} ${report.category} ${report.id ?? ""}: ${report.message}`));
}

function bpmnFiles(folder: string): string[] {
  if (!fs.existsSync(folder)) return [];
  return fs.readdirSync(folder, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(".bpmn")).map((file) => path.join(folder, file));
}

describe("BPMN quality gate (bpmnlint camunda-compat, Camunda 8.8)", function () {
  const shipped = [...bpmnFiles(path.join(REPO_ROOT, "bpmn")), ...bpmnFiles(FIXTURES)];

  it("finds the fixtures to lint", function () {
    assert.ok(shipped.some((file) => file.endsWith("lockdown.bpmn")), `linted: ${shipped.join(", ")}`);
  });

  for (const file of shipped) {
    it(`${path.relative(REPO_ROOT, file)} deploys on Camunda 8.8 without errors or warnings`, async function () {
      assert.deepEqual(await lint(file), []);
    });
  }

  it("fails a file Camunda 8 would not deploy, with the linter's own message", async function () {
    const reports = await lint(path.join(BROKEN_FIXTURES, "service-task-without-type.bpmn"));
    assert.deepEqual(reports, [
      "camunda-compat/implementation error task-without-type: Element of type <bpmn:ServiceTask> must have one extension element of type <zeebe:TaskDefinition>",
    ]);
  });
});
