// process-message: publishes a message to the instances waiting for it by name and correlation key, with a TTL buffer.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { ValidationError } from "../../lib/errors";
import { firstText, processEngineNode, settleInput, variablesOf } from "../../lib/nodered/process";
import { statusDegraded, statusFailed, statusOk } from "../../lib/nodered/status";

interface MessageDef extends NodeDef {
  engine: string;
  messageName: string;
  ttlSec: string | number;
}

type CorrelateMessage = NodeMessageInFlow & { correlationKey?: unknown; businessKey?: unknown; messageId?: unknown; ttlSec?: unknown };

export = function register(RED: NodeAPI): void {
  function ProcessMessage(this: Node, def: MessageDef): void {
    RED.nodes.createNode(this, def);
    const engineNode = processEngineNode(RED.nodes.getNode, def.engine);
    if (!engineNode) this.status(statusFailed(RED._("process-message.errors.engine")));

    this.on("input", (msg: CorrelateMessage, send, done) => {
      settleInput(
        (async () => {
          if (!engineNode) throw new ValidationError(RED._("process-message.errors.engine"), "engine");
          const name = firstText(def.messageName, msg.topic);
          if (!name) throw new ValidationError(RED._("process-message.errors.name"), "topic");
          // The correlation key of our emergency processes is the incident id, which is also the business key.
          const correlationKey = firstText(msg.correlationKey, msg.businessKey);
          if (!correlationKey) throw new ValidationError(RED._("process-message.errors.correlationKey"), "correlationKey");
          const ttlSec = Number(msg.ttlSec ?? def.ttlSec ?? 0);
          if (!Number.isFinite(ttlSec) || ttlSec < 0) throw new ValidationError(RED._("process-message.errors.ttl"), "ttlSec");
          const host = await engineNode.host();
          const result = await host.engine.publishMessage({
            name,
            correlationKey,
            variables: variablesOf(msg.payload),
            timeToLiveMs: ttlSec * 1000,
            messageId: firstText(msg.messageId) ?? undefined,
          });
          const delivered = result.correlatedInstanceIds.length;
          this.status(
            delivered > 0 || result.buffered
              ? statusOk(RED._(delivered > 0 ? "process-message.status.delivered" : "process-message.status.buffered", { name, key: correlationKey, count: delivered }))
              : statusDegraded(RED._("process-message.status.nobody", { name, key: correlationKey })),
          );
          send({ ...msg, payload: result });
        })(),
        done,
        (reason) => this.status(statusFailed(reason)),
      );
    });
  }

  RED.nodes.registerType("process-message", ProcessMessage as unknown as (this: Node, def: NodeDef) => void);
};
