// process-engine: the engine a school's process nodes use (embedded now), with every BPMN file deployed at start.
import path from "node:path";
import type { Node, NodeAPI, NodeDef } from "node-red";
import { ConfigError, errorMessage } from "../../lib/errors";
import type { ProcessEngineNode } from "../../lib/nodered/process";
import { registerTaskApi } from "../../lib/process/task-api";
import { deployFolders, forgetHost, hostFor, type DeploymentReport, type ProcessHost } from "../../lib/process/host";
import { ENGINE_KINDS, acquireProcessEngine, releaseProcessEngine, type EngineKind } from "../../lib/process/registry";
import type { SafetyStoreNode } from "../../lib/nodered/types";

interface EngineDef extends NodeDef {
  store: string;
  schoolId: string;
  kind: string;
  bpmnDir: string;
  jobTimeoutSec: string | number;
}

/** The package's own processes: `bpmn/` beside `dist/`. */
const PACKAGE_BPMN = path.resolve(__dirname, "..", "..", "..", "bpmn");

export = function register(RED: NodeAPI): void {
  registerTaskApi(RED.httpNode, (message) => RED.log.warn(message));

  function ProcessEngineConfig(this: ProcessEngineNode, def: EngineDef): void {
    RED.nodes.createNode(this, def);
    this.schoolId = (def.schoolId || "").trim();
    const storeNode = RED.nodes.getNode(def.store) as SafetyStoreNode | null;
    const userDir = (RED.settings as unknown as { userDir?: string }).userDir ?? process.cwd();
    const extraDir = (def.bpmnDir || "").trim() || path.join(userDir, "bpmn");
    const folders = [...new Set([PACKAGE_BPMN, path.resolve(userDir, extraDir)])];
    let acquired: { store: import("../../lib/store").Store } | null = null;

    const starting: Promise<{ host: ProcessHost; report: DeploymentReport }> = (async () => {
      if (!storeNode) throw new ConfigError(RED._("process-engine.errors.store"), "store");
      if (!this.schoolId) throw new ConfigError(RED._("process-engine.errors.schoolId"), "schoolId");
      const kind = (def.kind || "embedded") as EngineKind;
      if (!ENGINE_KINDS.includes(kind)) throw new ConfigError(RED._("process-engine.errors.kind", { kind }), "kind");
      const store = await storeNode.store();
      const engine = await acquireProcessEngine(store, this.schoolId, { kind, defaultJobTimeoutMs: Number(def.jobTimeoutSec || 300) * 1000 });
      acquired = { store };
      const host = hostFor(engine, store, this.schoolId);
      const report = await deployFolders(host, folders);
      for (const problem of report.problems) {
        this.error(RED._("process-engine.errors.deploy", { file: problem.resourceName, element: problem.elementId ?? "-", reason: problem.message }));
      }
      for (const problem of report.formProblems) this.error(RED._("process-engine.errors.form", { file: problem.file, reason: problem.message }));
      this.log(RED._("process-engine.log.deployed", { count: report.deployed.length, processes: report.deployed.map((d) => `${d.bpmnProcessId} v${d.version}`).join(", ") || "-", forms: report.forms.length }));
      return { host, report };
    })();
    starting.catch((err: unknown) => this.error(RED._("process-engine.errors.start", { reason: errorMessage(err) })));

    this.host = async () => (await starting).host;
    this.deployment = async () => (await starting).report;

    this.on("close", (done: () => void) => {
      starting
        .catch(() => null)
        .then(async (started) => {
          if (!acquired) return;
          if (await releaseProcessEngine(acquired.store, this.schoolId)) {
            if (started) forgetHost(started.host);
          }
        })
        .catch((err: unknown) => this.warn(errorMessage(err)))
        .finally(done);
    });
  }

  RED.nodes.registerType("process-engine", ProcessEngineConfig as unknown as (this: Node, def: NodeDef) => void);
};
