// process-signal: broadcasts a signal (e.g. all-clear) to every instance of the school that waits for it.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { ValidationError } from "../../lib/errors";
import { firstText, processEngineNode, settleInput, variablesOf } from "../../lib/nodered/process";
import { statusFailed, statusOk } from "../../lib/nodered/status";

interface SignalDef extends NodeDef {
  engine: string;
  signalName: string;
}

export = function register(RED: NodeAPI): void {
  function ProcessSignal(this: Node, def: SignalDef): void {
    RED.nodes.createNode(this, def);
    const engineNode = processEngineNode(RED.nodes.getNode, def.engine);
    if (!engineNode) this.status(statusFailed(RED._("process-signal.errors.engine")));

    this.on("input", (msg: NodeMessageInFlow, send, done) => {
      settleInput(
        (async () => {
          if (!engineNode) throw new ValidationError(RED._("process-signal.errors.engine"), "engine");
          const name = firstText(def.signalName, msg.topic);
          if (!name) throw new ValidationError(RED._("process-signal.errors.name"), "topic");
          const host = await engineNode.host();
          const result = await host.engine.broadcastSignal({ name, variables: variablesOf(msg.payload) });
          this.status(statusOk(RED._("process-signal.status.sent", { name, count: result.signaledInstanceIds.length })));
          send({ ...msg, payload: result });
        })(),
        done,
        (reason) => this.status(statusFailed(reason)),
      );
    });
  }

  RED.nodes.registerType("process-signal", ProcessSignal as unknown as (this: Node, def: NodeDef) => void);
};
