// Shared helpers for benchmark scripts: percentiles, the one-line `bench <name> <value> <unit>` format, and a
// real embedded Node-RED runtime (the test helper wraps every node method in spies, which dominates any figure).
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

export function report(name: string, value: number, unit: string): void {
  const shown = Math.abs(value) >= 100 ? Math.round(value).toString() : value.toFixed(2);
  process.stdout.write(`bench ${name} ${shown} ${unit}\n`);
}

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export interface RuntimeNode<M = unknown> {
  on(event: "input", listener: (msg: M) => void): void;
  receive(msg: unknown): void;
}

export interface BenchRuntime {
  node(id: string): RuntimeNode;
  stop(): Promise<void>;
}

const PACKAGE_ROOT = path.resolve(__dirname, "..", "..", "..");

/** Starts Node-RED in this process with our module and the given flows; no editor, no HTTP. */
export async function startRuntime(userDir: string, flows: Array<Record<string, unknown>>): Promise<BenchRuntime> {
  fs.writeFileSync(path.join(userDir, "flows.json"), JSON.stringify(flows));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require("node-red") as {
    init(server: http.Server, settings: Record<string, unknown>): void;
    start(): Promise<void>;
    stop(): Promise<void>;
    nodes: { getNode(id: string): unknown };
  };
  RED.init(http.createServer(), {
    userDir,
    flowFile: "flows.json",
    credentialSecret: false,
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    nodesDir: [PACKAGE_ROOT],
    telemetry: { enabled: false },
    logging: { console: { level: "warn" } },
  });
  await RED.start();
  for (let i = 0; i < 200 && !RED.nodes.getNode(String(flows[flows.length - 1].id)); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return {
    node: (id) => {
      const node = RED.nodes.getNode(id);
      if (!node) throw new Error(`bench flow has no running node ${id}`);
      return node as RuntimeNode;
    },
    stop: () => RED.stop(),
  };
}
