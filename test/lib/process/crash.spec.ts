// Feature: SIGKILL at any moment loses nothing that was acknowledged: instances, task completions, correlated messages, timers.
import assert from "node:assert/strict";
import path from "node:path";
import { startChild, stopChild } from "../../support/processes";
import { tempDir } from "../../support/stores";

const DRIVER = path.join(__dirname, "crash-driver.js");
const TRIALS = 20;

interface EndState {
  key: string;
  status: string;
  observedBy: string | null;
  taskCompletedBy: string | null;
  waits: string[];
}

describe("Feature: crash safety of the embedded engine (SIGKILL trials)", function () {
  this.timeout(150000);

  it(`Scenario: Given door drills in flight, When the engine is killed with SIGKILL at a random moment (${TRIALS} trials), Then after a restart every acknowledged step is still there and every drill finishes`, async function () {
    let acknowledged = 0;
    for (let trial = 0; trial < TRIALS; trial += 1) {
      const filename = path.join(tempDir("ssf-crash-"), "process.db");
      const killAfterMs = 30 + Math.floor(Math.random() * 600);
      const worker = startChild(process.execPath, [DRIVER, "work", filename, `trial${trial}`], process.env);
      await worker.waitFor(/^ready$/m, 20000);
      await new Promise((resolve) => setTimeout(resolve, killAfterMs));
      await stopChild(worker, "SIGKILL");
      const output = worker.output();
      const started = [...output.matchAll(/^ack start (\S+) \S+$/gm)].map((match) => match[1]);
      const tasks = [...output.matchAll(/^ack task (\S+)$/gm)].map((match) => match[1]);
      const messages = [...output.matchAll(/^ack message (\S+)$/gm)].map((match) => match[1]);
      acknowledged += started.length + tasks.length + messages.length;

      const finisher = startChild(process.execPath, [DRIVER, "finish", filename], process.env);
      const [, json] = await finisher.waitFor(/^summary (.*)$/m, 40000);
      await finisher.exited;
      const states = new Map((JSON.parse(json) as EndState[]).map((state) => [state.key, state]));
      const context = `trial ${trial}, killed after ${killAfterMs} ms`;

      for (const key of started) assert.ok(states.has(key), `${context}: started instance ${key} was lost`);
      for (const state of states.values()) {
        assert.equal(state.status, "completed", `${context}: ${state.key} ended ${state.status} waiting at ${state.waits.join(", ")}`);
      }
      for (const key of tasks) assert.equal(states.get(key)?.taskCompletedBy, "driver", `${context}: completion of ${key}'s task was lost`);
      for (const key of messages) assert.equal(states.get(key)?.observedBy, "driver", `${context}: message for ${key} was lost`);
    }
    assert.ok(acknowledged > TRIALS, `the trials acknowledged ${acknowledged} steps in all`);
  });
});
