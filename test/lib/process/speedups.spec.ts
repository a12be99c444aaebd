// Feature: the engine's faster smqp and bpmn-elements functions change nothing a process does, only how long it takes.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { installSpeedups } from "../../../lib/process/embedded/speedups";

const run = promisify(execFile);
const DRIVER = path.join(__dirname, "speedups-driver.js");
const SMQP_DRIVER = path.join(__dirname, "smqp-driver.js");

async function drive(speedups: "on" | "off", driver = DRIVER): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, [driver], {
    env: { ...process.env, SSF_ENGINE_SPEEDUPS: speedups },
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe("Feature: engine speedups", function () {
  this.timeout(60_000);

  it("Scenario: Given every fixture, When it runs step by step with and without the speedups, Then waits, history, saved state and variables are the same", async function () {
    const [withSpeedups, without] = await Promise.all([drive("on"), drive("off")]);
    assert.equal(withSpeedups.speedups, true, "the speedups were not installed for this smqp / bpmn-elements");
    assert.equal(without.speedups, false, "SSF_ENGINE_SPEEDUPS=off did not leave them out");
    const fixtures = Object.keys(without).filter((key) => key.endsWith(".bpmn"));
    assert.ok(fixtures.length >= 5, `expected the fixtures, got ${fixtures.join(", ")}`);
    const steps = fixtures.flatMap((fixture) => Object.values(without[fixture] as Record<string, unknown[]>)).reduce((sum, list) => sum + list.length, 0);
    assert.ok(steps >= 15, `only ${steps} steps were compared`);
    for (const fixture of fixtures) assert.deepEqual(withSpeedups[fixture], without[fixture], `${fixture} ran differently with the speedups`);
  });

  it("Scenario: Given smqp's broker driven through prefetch, acks, requeues, cancels, deletes, nested publishes, expiry, errors, a shovel and a recovery, When it runs with and without the speedups, Then every delivery, count, event and state is the same", async function () {
    const [withSpeedups, without] = await Promise.all([drive("on", SMQP_DRIVER), drive("off", SMQP_DRIVER)]);
    assert.equal(withSpeedups.speedups, true);
    assert.equal(without.speedups, false);
    const trace = without.trace as unknown[][];
    assert.ok(trace.length >= 50, `only ${trace.length} observations`);
    for (const kind of ["prefetch", "second got", "queue delete heard", "watched heard", "after recover", "returned"]) {
      assert.ok(trace.some((entry) => entry[0] === kind), `the driver saw no "${kind}"`);
    }
    const seen = withSpeedups.trace as unknown[][];
    trace.forEach((entry, index) => assert.deepEqual(seen[index], entry, `observation ${index} differs with the speedups`));
    assert.equal(seen.length, trace.length);
  });

  it("Scenario: Given the speedups, When smqp and bpmn-elements make ids, Then 200,000 of them are all different", function () {
    assert.equal(installSpeedups(), true);
    /* eslint-disable @typescript-eslint/no-require-imports */
    const smqp = require(path.join(path.dirname(require.resolve("smqp")), "shared.js")) as { generateId(): string };
    const elements = require(path.join(path.dirname(require.resolve("bpmn-elements")), "shared.js")) as { getUniqueId(prefix: string): string };
    /* eslint-enable @typescript-eslint/no-require-imports */
    const ids = new Set<string>();
    for (let i = 0; i < 100_000; i += 1) {
      ids.add(smqp.generateId());
      ids.add(elements.getUniqueId("task.1"));
    }
    assert.equal(ids.size, 200_000);
    assert.match(elements.getUniqueId("task.1"), /^task_1_[0-9a-z]+$/);
  });
});
