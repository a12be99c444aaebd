// process-start: msg → a new process instance; the business key (the incident id) and variables come from the msg.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { ValidationError } from "../../lib/errors";
import { firstText, processEngineNode, settleInput, variablesOf } from "../../lib/nodered/process";
import { statusFailed, statusOk } from "../../lib/nodered/status";

interface StartDef extends NodeDef {
  engine: string;
  bpmnProcessId: string;
}

type StartMessage = NodeMessageInFlow & { bpmnProcessId?: unknown; businessKey?: unknown; variables?: unknown; payload?: unknown };

export = function register(RED: NodeAPI): void {
  function ProcessStart(this: Node, def: StartDef): void {
    RED.nodes.createNode(this, def);
    const engineNode = processEngineNode(RED.nodes.getNode, def.engine);
    let started = 0;
    if (!engineNode) this.status(statusFailed(RED._("process-start.errors.engine")));

    this.on("input", (msg: StartMessage, send, done) => {
      settleInput(
        (async () => {
          if (!engineNode) throw new ValidationError(RED._("process-start.errors.engine"), "engine");
          const bpmnProcessId = firstText(def.bpmnProcessId, msg.bpmnProcessId);
          if (!bpmnProcessId) throw new ValidationError(RED._("process-start.errors.processId"), "bpmnProcessId");
          const payload = variablesOf(msg.payload);
          const businessKey = firstText(msg.businessKey, payload.incidentId) ?? undefined;
          const variables = msg.variables !== undefined ? variablesOf(msg.variables) : payload;
          const host = await engineNode.host();
          const instance = await host.engine.startInstance({ bpmnProcessId, businessKey, variables });
          started += 1;
          this.status(statusOk(RED._("process-start.status.started", { count: started, process: bpmnProcessId })));
          send({ ...msg, payload: instance, instanceId: instance.instanceId, businessKey: instance.businessKey });
        })(),
        done,
        (reason) => this.status(statusFailed(reason)),
      );
    });
  }

  RED.nodes.registerType("process-start", ProcessStart as unknown as (this: Node, def: NodeDef) => void);
};
