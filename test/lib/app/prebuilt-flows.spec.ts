// The prebuilt flows ship well-formed, and are installed once without overwriting a school's edits.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ConfigError } from "../../../lib/errors";
import { installPrebuiltFlows, readPrebuiltFlows } from "../../../lib/app/prebuilt-flows";
import { tempDir } from "../../support/stores";

const ROOT = path.resolve(__dirname, "..", "..", "..", "..");

function packageWith(files: Record<string, unknown>): string {
  const root = tempDir("ssf-flows-");
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), typeof content === "string" ? content : JSON.stringify(content));
  }
  return root;
}

describe("prebuilt flows", function () {
  it("the shipped flows and dashboards are valid: unique ids, positions, wires to existing nodes", function () {
    const nodes = readPrebuiltFlows(ROOT);
    const types = nodes.map((n) => n.type);
    assert.ok(types.includes("event-journal"));
    assert.ok(types.includes("ui-base"));
    assert.equal(new Set(nodes.map((n) => n.id)).size, nodes.length);
  });

  it("adds the simulated campus's device flows only when the simulated campus runs", function () {
    const plain = readPrebuiltFlows(ROOT).map((n) => n.type);
    const campus = readPrebuiltFlows(ROOT, { simulatedCampus: true });
    assert.equal(plain.includes("osdp-door"), false);
    for (const type of ["osdp-bus", "osdp-door", "access-decision", "alarm-panel", "event-priority", "device-health"]) {
      assert.ok(campus.some((n) => n.type === type), `campus flows contain ${type}`);
    }
    assert.equal(new Set(campus.map((n) => n.id)).size, campus.length);
    const bus = campus.find((n) => n.type === "osdp-bus")!;
    assert.equal(bus.port, "${SSF_SIM_DOOR_PORT}", "the port comes from the environment, the key never sits in the flow");
    assert.equal("scbk" in bus, false);
  });

  it("names the file and node of a flow node without a position", function () {
    const root = packageWith({ "flows/a.json": [{ id: "t", type: "tab" }, { id: "n1", type: "debug", z: "t", wires: [] }] });
    assert.throws(() => readPrebuiltFlows(root), (err: unknown) => err instanceof ConfigError && /flows\/a\.json: node n1 \(debug\) on a tab has no x\/y/.test(err.message));
  });

  it("names the file of invalid JSON and of ids used twice", function () {
    assert.throws(() => readPrebuiltFlows(packageWith({ "flows/bad.json": "[{" })), /flows\/bad\.json is not valid JSON/);
    const twice = packageWith({
      "flows/a.json": [{ id: "same", type: "tab" }],
      "dashboards/b.json": [{ id: "same", type: "tab" }],
    });
    assert.throws(() => readPrebuiltFlows(twice), /dashboards\/b\.json: node id same is also used in flows\/a\.json/);
  });

  it("refuses wires to nodes that do not exist", function () {
    const root = packageWith({ "flows/a.json": [{ id: "t", type: "tab" }, { id: "n1", type: "inject", z: "t", x: 1, y: 1, wires: [["ghost"]] }] });
    assert.throws(() => readPrebuiltFlows(root), /wired to missing node ghost/);
  });

  it("installs into an empty user folder once and leaves an edited flow file alone", function () {
    const dataDir = tempDir("ssf-data-");
    const flowFile = path.join(dataDir, "flows.json");
    assert.equal(installPrebuiltFlows(ROOT, flowFile), true);
    assert.deepEqual(JSON.parse(fs.readFileSync(flowFile, "utf8")), readPrebuiltFlows(ROOT));
    fs.writeFileSync(flowFile, "[]");
    assert.equal(installPrebuiltFlows(ROOT, flowFile), false);
    assert.equal(fs.readFileSync(flowFile, "utf8"), "[]");
  });
});
