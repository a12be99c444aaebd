// event-priority: panics never wait behind detections; detections go through a bounded queue that coalesces and sheds, counted.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { ValidationError, errorMessage } from "../../lib/errors";
import { parseSafetyEvent } from "../../lib/events";
import { PriorityDispatcher } from "../../lib/flow-control/priority-dispatcher";
import { StatusThrottle, shortReason, statusDegraded, statusFailed, statusOk } from "../../lib/nodered/status";

interface EventPriorityDef extends NodeDef {
  maxQueued: string | number;
  coalesceWindowMs: string | number;
  drainPerTick: string | number;
}

const REPORT_EVERY_MS = 10_000;

export = function register(RED: NodeAPI): void {
  function EventPriority(this: Node, def: EventPriorityDef): void {
    RED.nodes.createNode(this, def);
    const status = new StatusThrottle((s) => this.status(s));
    let lastShedReported = 0;
    let lastReportAt = 0;

    const dispatcher = new PriorityDispatcher({
      maxQueued: Math.max(1, Number(def.maxQueued || 10_000)),
      coalesceWindowMs: Math.max(0, Number(def.coalesceWindowMs ?? 1000)),
      drainPerTick: Math.max(1, Number(def.drainPerTick || 200)),
      lifeSafety: () => undefined,
      detection: (event) => this.send([null, { topic: event.kind, payload: event }]),
    });

    const report = () => {
      const c = dispatcher.counters;
      const text = RED._("event-priority.status.counts", { lifeSafety: c.lifeSafety, queued: c.queued, coalesced: c.coalesced, shed: c.shed });
      status.set(c.shed > 0 ? statusDegraded(text) : statusOk(text));
      // Shedding is never silent: the log says how many, at most every ten seconds.
      const now = Date.now();
      if (c.shed > lastShedReported && now - lastReportAt >= REPORT_EVERY_MS) {
        this.warn(RED._("event-priority.warnings.shed", { shed: c.shed - lastShedReported, total: c.shed }));
        lastShedReported = c.shed;
        lastReportAt = now;
      }
    };

    this.on("input", (msg: NodeMessageInFlow, send, done) => {
      let event;
      try {
        event = parseSafetyEvent(msg.payload);
      } catch (err) {
        const field = err instanceof ValidationError ? err.field : "payload";
        status.now(statusFailed(shortReason(RED._("event-priority.status.invalid", { field }))));
        done(err as Error);
        return;
      }
      try {
        const outcome = dispatcher.offer(event);
        if (outcome === "life-safety") {
          msg.payload = event;
          msg.topic = event.kind;
          send([msg, null]);
        }
        report();
        done();
      } catch (err) {
        status.now(statusFailed(shortReason(errorMessage(err))));
        done(err as Error);
      }
    });

    this.on("close", () => {
      const left = dispatcher.close();
      status.cancel();
      if (left > 0) this.warn(RED._("event-priority.warnings.dropped", { count: left }));
    });
  }

  RED.nodes.registerType("event-priority", EventPriority);
};
