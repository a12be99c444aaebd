// A pair of connected pseudo-terminals from socat: a serial line between a simulated device and the node under test.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface PtyPair {
  /** The device's end (the simulator opens it). */
  deviceEnd: string;
  /** The host's end (the node's serial port setting). */
  hostEnd: string;
  /** Cuts the line, as unplugging the cable does: both ends go away until `reconnect()`. */
  unplug(): Promise<void>;
  reconnect(): Promise<void>;
  close(): Promise<void>;
}

async function waitForLinks(paths: string[], child: ChildProcess, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (!paths.every((p) => fs.existsSync(p))) {
    if (child.exitCode !== null) throw new Error(`socat exited with code ${child.exitCode} before creating the ptys`);
    if (Date.now() - started > timeoutMs) throw new Error(`socat did not create ${paths.join(" and ")} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Starts socat with two linked ptys under `dir` (a fresh temporary folder by default). Needs socat on the PATH. */
export async function openPtyPair(dir = fs.mkdtempSync(path.join(os.tmpdir(), "ssf-pty-")), name = "line"): Promise<PtyPair> {
  const deviceEnd = path.join(dir, `${name}-device`);
  const hostEnd = path.join(dir, `${name}-host`);
  let child: ChildProcess | null = null;

  const start = async () => {
    const proc = spawn("socat", [`pty,raw,echo=0,link=${deviceEnd}`, `pty,raw,echo=0,link=${hostEnd}`], { stdio: "ignore" });
    child = proc;
    await new Promise<void>((resolve, reject) => {
      proc.once("error", (err) => reject(new Error(`socat cannot be started (install the socat package): ${err.message}`)));
      proc.once("spawn", () => resolve());
    });
    await waitForLinks([deviceEnd, hostEnd], proc, 5000);
  };
  const stop = async () => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once("exit", resolve));
    proc.kill("SIGTERM");
    await exited;
    for (const link of [deviceEnd, hostEnd]) fs.rmSync(link, { force: true });
  };

  await start();
  return { deviceEnd, hostEnd, unplug: stop, reconnect: start, close: stop };
}
