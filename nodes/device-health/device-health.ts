// device-health: tracks every device's heartbeats and events, keeps devices.status and last_seen current, and emits offline/online events.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { DeviceHealthTracker, type HealthTransition } from "../../lib/devices/health";
import { ConfigError, ValidationError, errorMessage } from "../../lib/errors";
import type { SafetyEvent } from "../../lib/events";
import { StatusThrottle, shortReason, statusFailed, statusOk, statusDegraded } from "../../lib/nodered/status";
import type { SafetyStoreNode } from "../../lib/nodered/types";

interface DeviceHealthDef extends NodeDef {
  store: string;
  schoolId: string;
  timeoutSec: string | number;
  timeoutsByKind: string;
  checkIntervalSec: string | number;
}

export = function register(RED: NodeAPI): void {
  function DeviceHealth(this: Node, def: DeviceHealthDef): void {
    RED.nodes.createNode(this, def);
    const storeNode = RED.nodes.getNode(def.store) as SafetyStoreNode | null;
    const schoolId = (def.schoolId || "").trim();
    const status = new StatusThrottle((s) => this.status(s));
    let timer: NodeJS.Timeout | null = null;

    let tracker: DeviceHealthTracker;
    try {
      if (!storeNode || !schoolId) throw new ConfigError(RED._("device-health.errors.config"), "store");
      const byKind: Record<string, number> = {};
      if (def.timeoutsByKind && def.timeoutsByKind.trim() !== "") {
        let parsed: unknown;
        try {
          parsed = JSON.parse(def.timeoutsByKind);
        } catch (err) {
          throw new ConfigError(RED._("device-health.errors.timeouts", { reason: (err as Error).message }), "timeoutsByKind");
        }
        for (const [kind, seconds] of Object.entries(parsed as Record<string, unknown>)) {
          if (typeof seconds !== "number" || seconds <= 0) throw new ConfigError(RED._("device-health.errors.timeouts", { reason: kind }), "timeoutsByKind");
          byKind[kind] = seconds * 1000;
        }
      }
      tracker = new DeviceHealthTracker({ timeoutMsByKind: { ...byKind, default: Number(def.timeoutSec || 90) * 1000 } }, Date.now());
    } catch (err) {
      status.now(statusFailed(shortReason(errorMessage(err))));
      this.error(err);
      return;
    }

    const describe = () => RED._("device-health.status.counts", tracker.counts());

    // Transitions are written to the store and journaled before they are sent, one at a time and in order.
    let chain: Promise<void> = Promise.resolve();
    const publish = (transitions: HealthTransition[]) => {
      if (transitions.length === 0) return;
      chain = chain
        .then(async () => {
          const store = await storeNode.store();
          const writer = await storeNode.journalWriter();
          for (const transition of transitions) {
            const device = await store.devices.get(transition.deviceId);
            await store.devices.setStatus(transition.deviceId, transition.status, transition.status === "online" ? transition.lastSeenMs : undefined);
            const event: SafetyEvent = {
              eventId: `${transition.deviceId}:${transition.status}:${transition.atMs}`.slice(0, 128),
              schoolId,
              zoneId: device?.zoneId ?? null,
              deviceId: transition.deviceId,
              kind: transition.status === "online" ? "device-online" : "device-offline",
              severity: transition.status === "online" ? "info" : "high",
              occurredAt: new Date(transition.atMs).toISOString(),
              source: "device-health",
              details: { lastSeen: new Date(transition.lastSeenMs).toISOString(), deviceKind: device?.kind ?? null, name: device?.name ?? null },
            };
            const result = await writer.append(event);
            if (!result.duplicate) this.send({ topic: event.kind, payload: event });
          }
          const counts = tracker.counts();
          status.set(counts.offline > 0 ? statusDegraded(describe()) : statusOk(describe()));
        })
        .catch((err: unknown) => {
          status.now(statusFailed(shortReason(errorMessage(err))));
          this.error(err);
        });
    };

    const ready = (async () => {
      const store = await storeNode.store();
      const devices = await store.devices.list(schoolId);
      tracker.load(
        devices.map((d) => ({
          deviceId: d.id,
          kind: d.kind,
          status: d.status === "online" || d.status === "offline" ? d.status : "unknown",
          lastSeenMs: d.lastSeen ? Date.parse(d.lastSeen) : null,
        })),
      );
      status.now(statusOk(describe()));
      const intervalMs = Math.max(100, Number(def.checkIntervalSec || 10) * 1000);
      timer = setInterval(() => publish(tracker.check(Date.now())), intervalMs);
    })();
    ready.catch((err: unknown) => status.now(statusFailed(shortReason(errorMessage(err)))));

    this.on("input", (msg: NodeMessageInFlow, _send, done) => {
      ready
        .then(() => {
          const payload = msg.payload as { deviceId?: unknown; atMs?: unknown; occurredAt?: unknown; kind?: unknown; source?: unknown } | null;
          const deviceId = payload && typeof payload === "object" ? payload.deviceId : undefined;
          if (typeof deviceId !== "string" || deviceId === "") throw new ValidationError(RED._("device-health.errors.noDevice"), "deviceId");
          // Our own offline/online reports are not signs of life.
          if (payload!.source === "device-health") return done();
          const atMs = typeof payload!.atMs === "number" ? payload!.atMs : typeof payload!.occurredAt === "string" ? Math.min(Date.parse(payload!.occurredAt) || Date.now(), Date.now()) : Date.now();
          // A device node that reports its own device's health (an OSDP door) has already journaled the change.
          if (payload!.kind === "device-online" || payload!.kind === "device-offline") {
            tracker.follow(deviceId, payload!.kind === "device-online" ? "online" : "offline", atMs);
            return done();
          }
          const transition = tracker.seen(deviceId, atMs);
          if (transition) publish([transition]);
          done();
        })
        .catch((err: Error) => {
          status.now(statusFailed(shortReason(errorMessage(err))));
          done(err);
        });
    });

    this.on("close", (_removed: boolean, done: () => void) => {
      if (timer) clearInterval(timer);
      status.cancel();
      chain.finally(done);
    });
  }

  RED.nodes.registerType("device-health", DeviceHealth);
};
