// osdp-door: one door behind an OSDP reader; card reads become AccessRequests, door alarms become SafetyEvents, commands drive the lock.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { parseDoorCommand } from "../../lib/access/door-command";
import type { AccessRequest } from "../../lib/access/messages";
import { DoorState } from "../../lib/devices/osdp/door";
import type { WiegandCard } from "../../lib/devices/osdp/wiegand";
import { errorMessage } from "../../lib/errors";
import type { SafetyEvent, Severity } from "../../lib/events";
import { StatusThrottle, shortReason, statusDegraded, statusFailed, statusOk } from "../../lib/nodered/status";
import type { OsdpBusNode, SafetyStoreNode } from "../../lib/nodered/types";

interface OsdpDoorDef extends NodeDef {
  bus: string;
  store: string;
  address: string | number;
  schoolId: string;
  doorId: string;
  readerId: string;
  zoneId: string;
  contactInput: string | number;
  rexInput: string | number;
  lockOutput: string | number;
  heldOpenSec: string | number;
  pulseMs: string | number;
}

export = function register(RED: NodeAPI): void {
  function OsdpDoor(this: Node, def: OsdpDoorDef): void {
    RED.nodes.createNode(this, def);
    const bus = RED.nodes.getNode(def.bus) as OsdpBusNode | null;
    const storeNode = RED.nodes.getNode(def.store) as SafetyStoreNode | null;
    const status = new StatusThrottle((s) => this.status(s));
    const address = Number(def.address);
    const schoolId = (def.schoolId || "").trim();
    const readerId = (def.readerId || `osdp-${address}`).trim();
    const doorId = (def.doorId || readerId).trim();
    let requestSeq = 0;
    let eventSeq = 0;

    const configProblem = !bus ? RED._("osdp-door.errors.noBus") : bus.configError ?? (!bus.panel ? RED._("osdp-door.errors.noBus") : !storeNode || !schoolId ? RED._("osdp-door.errors.config") : null);
    if (configProblem) {
      status.now(statusFailed(shortReason(configProblem)));
      this.error(configProblem);
      return;
    }
    const panel = bus!.panel!;
    try {
      panel.addReader(address);
    } catch (err) {
      status.now(statusFailed(shortReason(errorMessage(err))));
      this.error(err);
      return;
    }

    const door = new DoorState({
      contactInput: Number(def.contactInput ?? 0),
      rexInput: Number(def.rexInput ?? 1),
      lockOutput: Number(def.lockOutput ?? 0),
      heldOpenMs: Number(def.heldOpenSec || 30) * 1000,
      defaultPulseMs: Number(def.pulseMs || 5000),
      graceMs: 2000,
    });

    // Events are journaled before they leave the node, one after another.
    let chain: Promise<void> = Promise.resolve();
    const emitEvent = (kind: string, severity: Severity, details: Record<string, unknown>) => {
      const atMs = Date.now();
      const event: SafetyEvent = {
        eventId: `${readerId}:${kind}:${atMs}:${(eventSeq += 1)}`.slice(0, 128),
        schoolId,
        zoneId: def.zoneId || null,
        deviceId: readerId,
        kind,
        severity,
        occurredAt: new Date(atMs).toISOString(),
        source: "osdp",
        details: { doorId, address, ...details },
      };
      chain = chain
        .then(async () => {
          const writer = await storeNode!.journalWriter();
          await writer.append(event);
          this.send([null, { topic: kind, payload: event }]);
        })
        .catch((err: unknown) => {
          status.now(statusFailed(shortReason(RED._("osdp-door.status.notStored", { reason: errorMessage(err) }))));
          this.error(err);
        });
    };

    const describe = () => RED._(`osdp-door.status.${door.mode === "lockdown" ? "lockdown" : "online"}`, { address });
    const request = (credential: AccessRequest["credential"]) => {
      requestSeq += 1;
      const payload: AccessRequest = {
        requestId: `${readerId}:${Date.now()}:${requestSeq}`,
        schoolId,
        doorId,
        readerId,
        credential,
        direction: "in",
        occurredAt: new Date().toISOString(),
      };
      this.send([{ topic: "access-request", payload }, null]);
    };

    const listeners: Array<[string, (...args: never[]) => void]> = [
      [
        "online",
        ((a: number, info: { secure: boolean }) => {
          if (a !== address) return;
          status.now(statusOk(describe()));
          emitEvent("device-online", "info", { secure: info.secure });
        }) as never,
      ],
      [
        "offline",
        ((a: number, reason: string) => {
          if (a !== address) return;
          status.now(statusFailed(shortReason(RED._("osdp-door.status.offline", { address, reason }))));
          emitEvent("device-offline", "high", { reason });
        }) as never,
      ],
      [
        "secure-failed",
        ((a: number, reason: string) => {
          if (a !== address) return;
          status.now(statusFailed(shortReason(RED._("osdp-door.status.secureFailed", { reason }))));
          this.error(RED._("osdp-door.status.secureFailed", { reason }));
        }) as never,
      ],
      [
        "card",
        ((a: number, _reader: number, card: WiegandCard) => {
          if (a !== address) return;
          request({ kind: "card", value: card.value, format: card.format, facilityCode: card.facilityCode });
        }) as never,
      ],
      [
        "keypad",
        ((a: number, _reader: number, keys: string) => {
          if (a !== address) return;
          const digits = keys.replace(/[^0-9]/g, "");
          if (digits.length > 0) request({ kind: "pin", value: digits });
        }) as never,
      ],
      [
        "inputs",
        ((a: number, states: boolean[]) => {
          if (a !== address) return;
          for (const alarm of door.inputs(states, Date.now())) emitEvent(alarm.kind, "high", { openSince: new Date(alarm.openSinceMs).toISOString() });
        }) as never,
      ],
      [
        "local-status",
        ((a: number, local: { tamper: boolean; power: boolean }) => {
          if (a !== address) return;
          emitEvent("tamper", local.tamper ? "high" : "info", { restore: !local.tamper, power: local.power });
        }) as never,
      ],
    ];
    for (const [event, listener] of listeners) panel.on(event as "online", listener as never);
    const unsubscribeLine = bus!.onLineState((state) => {
      if (state !== "open") status.now(statusDegraded(shortReason(RED._("osdp-door.status.line", { state }))));
    });
    status.now(statusDegraded(RED._("osdp-door.status.connecting", { address })));
    const heldTimer = setInterval(() => {
      for (const alarm of door.check(Date.now())) emitEvent(alarm.kind, "medium", { openSince: new Date(alarm.openSinceMs).toISOString() });
    }, 1000);

    this.on("input", (msg: NodeMessageInFlow, _send, done) => {
      let frames;
      try {
        const command = parseDoorCommand(msg.payload, msg.topic);
        frames = door.commandsFor(command, Date.now());
        if (frames.refused) status.now(statusDegraded(RED._("osdp-door.status.refused")));
        else if (command.command === "lockdown" || command.command === "normal") status.now(statusOk(describe()));
      } catch (err) {
        status.now(statusFailed(shortReason(errorMessage(err))));
        done(err as Error);
        return;
      }
      Promise.all(frames.frames.map((frame) => panel.command(address, frame.code, frame.data))).then(
        () => done(),
        (err: Error) => {
          status.now(statusFailed(shortReason(err.message)));
          done(err);
        },
      );
    });

    this.on("close", (_removed: boolean, finished: () => void) => {
      clearInterval(heldTimer);
      status.cancel();
      unsubscribeLine();
      for (const [event, listener] of listeners) panel.off(event as "online", listener as never);
      panel.removeReader(address);
      chain.finally(finished);
    });
  }

  RED.nodes.registerType("osdp-door", OsdpDoor);
};
