// BPMN files on disk: every `*.bpmn` under a folder, in path order, each named by its path for deployment errors.
import fs from "node:fs";
import path from "node:path";
import type { BpmnResource } from "./engine";

export interface ReadProblem {
  file: string;
  message: string;
}

function walk(dir: string, suffix: string, found: string[]): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, suffix, found);
    else if (entry.isFile() && entry.name.endsWith(suffix)) found.push(full);
  }
}

/** Files under `dir` whose names end with `suffix`; none when the folder does not exist. */
export function filesUnder(dir: string, suffix: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const found: string[] = [];
  walk(dir, suffix, found);
  return found;
}

/**
 * Reads every BPMN file under `dir`. Resources are named relative to `nameBase` (e.g. "bpmn/lockdown.bpmn"), so an
 * error names the file as the school sees it. A file that cannot be read is a problem; the others are still read.
 */
export function readBpmnFolder(dir: string, nameBase = path.dirname(dir)): { resources: BpmnResource[]; problems: ReadProblem[] } {
  const resources: BpmnResource[] = [];
  const problems: ReadProblem[] = [];
  for (const file of filesUnder(dir, ".bpmn")) {
    const name = path.relative(nameBase, file) || file;
    try {
      resources.push({ name, xml: fs.readFileSync(file, "utf8") });
    } catch (err) {
      problems.push({ file: name, message: (err as Error).message });
    }
  }
  return { resources, problems };
}
