// Feature: an instance let go after its save leaves nothing running in this process (its timers are the store's).
import assert from "node:assert/strict";
import { InstanceRun } from "../../../lib/process/embedded/instance-run";
import { compileResource } from "../../../lib/process/embedded/model";
import { fixture } from "./support";

function pendingTimeouts(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === "Timeout").length;
}

describe("Feature: evicting a waiting instance", function () {
  it("Scenario: Given lockdowns waiting at their 3-minute reminder, When they are saved and let go, Then none of their timers stays in this process", async function () {
    const lockdown = fixture("lockdown.bpmn");
    const [process] = (await compileResource(lockdown.name, lockdown.xml)).processes;
    const before = pendingTimeouts();
    const runs: InstanceRun[] = [];
    for (let i = 0; i < 5; i += 1) {
      const run = new InstanceRun(process, `evict-${i}`, { incidentId: `E-${i}`, classes: ["a", "b"] });
      await run.open(null);
      assert.ok([...run.waits.values()].some((wait) => wait.kind === "timer"), "the lockdown waits at its reminder timer");
      runs.push(run);
    }
    assert.ok(pendingTimeouts() >= before + 5, "bpmn-engine set a timer per instance");
    for (const run of runs) {
      assert.ok((await run.compactState()).length > 0);
      await run.evict();
    }
    assert.equal(pendingTimeouts(), before);
  });
});
