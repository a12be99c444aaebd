// event-journal: appends each SafetyEvent to the store's journal (idempotent on eventId) before passing it on.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { ValidationError, errorMessage } from "../../lib/errors";
import { parseSafetyEvent, type SafetyEvent } from "../../lib/events";
import { StatusThrottle, shortReason, statusFailed, statusOk } from "../../lib/nodered/status";
import type { SafetyStoreNode } from "../../lib/nodered/types";

interface EventJournalDef extends NodeDef {
  store: string;
  duplicates: "forward" | "drop";
}

/** What the node sends on: the validated event plus where it stands in the journal. */
interface JournaledMessage extends NodeMessageInFlow {
  topic: string;
  payload: SafetyEvent;
  journal: { duplicate: boolean; receivedAt: string };
}

export = function register(RED: NodeAPI): void {
  function EventJournal(this: Node, def: EventJournalDef): void {
    RED.nodes.createNode(this, def);
    const storeNode = RED.nodes.getNode(def.store) as SafetyStoreNode | null;
    const dropDuplicates = def.duplicates === "drop";
    const status = new StatusThrottle((s) => this.status(s));
    let stored = 0;
    let duplicates = 0;

    if (!storeNode) {
      status.now(statusFailed(RED._("event-journal.status.noStore")));
    } else {
      storeNode.store().then(
        () => status.now(statusOk(RED._("event-journal.status.ready"))),
        (err: Error) => status.now(statusFailed(shortReason(RED._("event-journal.status.storeFailed", { reason: err.message }))))
      );
    }

    this.on("input", (msg: NodeMessageInFlow, send, done) => {
      if (!storeNode) {
        done(new Error(RED._("event-journal.errors.noStore")));
        return;
      }
      let event: SafetyEvent;
      try {
        event = parseSafetyEvent(msg.payload);
      } catch (err) {
        const field = err instanceof ValidationError ? err.field : "payload";
        status.now(statusFailed(shortReason(RED._("event-journal.status.invalid", { field }))));
        done(err as Error);
        return;
      }
      storeNode
        .journalWriter()
        .then((writer) => writer.append(event))
        .then(
          (result) => {
            if (result.duplicate) duplicates += 1;
            else stored += 1;
            status.set(statusOk(RED._("event-journal.status.counts", { stored, duplicates })));
            if (!(result.duplicate && dropDuplicates)) {
              const out = msg as JournaledMessage;
              out.topic = event.kind;
              out.payload = event;
              out.journal = { duplicate: result.duplicate, receivedAt: result.receivedAt };
              send(out);
            }
            done();
          },
          (err: unknown) => {
            status.now(statusFailed(shortReason(RED._("event-journal.status.writeFailed", { reason: errorMessage(err) }))));
            done(err as Error);
          },
        );
    });

    this.on("close", () => status.cancel());
  }

  RED.nodes.registerType("event-journal", EventJournal);
};
