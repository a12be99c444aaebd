// Gathers the prebuilt flows (flows/ and dashboards/) into one Node-RED flow file and checks their shape.
import fs from "node:fs";
import path from "node:path";
import { ConfigError } from "../errors";

export interface FlowNode {
  id: string;
  type: string;
  z?: string;
  x?: number;
  y?: number;
  wires?: string[][];
  [key: string]: unknown;
}

const FLOW_DIRS = ["flows", "dashboards"];
/** Flows that wire the simulated campus's devices; installed only when the simulated campus runs. */
const SIMULATED_CAMPUS_DIR = path.join("flows", "simulated-campus");

/** Reads every JSON file of the prebuilt flow folders, in name order. Throws naming the file on any defect. */
export function readPrebuiltFlows(packageRoot: string, options: { simulatedCampus?: boolean } = {}): FlowNode[] {
  const nodes: FlowNode[] = [];
  const seen = new Map<string, string>();
  for (const dir of options.simulatedCampus ? [...FLOW_DIRS, SIMULATED_CAMPUS_DIR] : FLOW_DIRS) {
    const folder = path.join(packageRoot, dir);
    if (!fs.existsSync(folder)) continue;
    for (const name of fs.readdirSync(folder).filter((f) => f.endsWith(".json")).sort()) {
      const file = path.join(dir, name);
      let parsed: unknown;
      try {
        parsed = JSON.parse(fs.readFileSync(path.join(packageRoot, file), "utf8"));
      } catch (err) {
        throw new ConfigError(`${file} is not valid JSON: ${(err as Error).message}`, file);
      }
      if (!Array.isArray(parsed)) throw new ConfigError(`${file} must hold a JSON array of nodes`, file);
      for (const node of parsed as FlowNode[]) {
        if (typeof node.id !== "string" || typeof node.type !== "string") {
          throw new ConfigError(`${file} has a node without id or type`, file);
        }
        const other = seen.get(node.id);
        if (other) throw new ConfigError(`${file}: node id ${node.id} is also used in ${other}`, file);
        seen.set(node.id, file);
        // A node on a tab without a position is taken for a config node by Node-RED and silently lost.
        if (node.z && (typeof node.x !== "number" || typeof node.y !== "number")) {
          throw new ConfigError(`${file}: node ${node.id} (${node.type}) on a tab has no x/y position`, file);
        }
        nodes.push(node);
      }
    }
  }
  for (const node of nodes) {
    for (const output of node.wires ?? []) {
      for (const target of output) {
        if (!seen.has(target)) throw new ConfigError(`${seen.get(node.id)}: ${node.id} is wired to missing node ${target}`, "flows");
      }
    }
  }
  return nodes;
}

/**
 * Writes the prebuilt flows into the user folder's flow file unless one exists: a school's edits are never
 * overwritten. Returns whether it wrote.
 */
export function installPrebuiltFlows(packageRoot: string, flowFile: string, options: { simulatedCampus?: boolean } = {}): boolean {
  if (fs.existsSync(flowFile)) return false;
  const nodes = readPrebuiltFlows(packageRoot, options);
  fs.mkdirSync(path.dirname(flowFile), { recursive: true });
  fs.writeFileSync(flowFile, JSON.stringify(nodes, null, 2) + "\n");
  return true;
}
