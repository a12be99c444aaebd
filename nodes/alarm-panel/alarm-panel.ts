// alarm-panel: an alarm panel or panic-button line on a serial port; each message is journaled, then acknowledged, then sent on.
import type { Node, NodeAPI, NodeDef } from "node-red";
import { AlarmPanelReceiver, BUTTON_PROFILE, lineProfileFrom, type LineProfile, type PanelProtocol } from "../../lib/devices/alarm-panel";
import { SerialLine } from "../../lib/devices/serial-line";
import { ConfigError, errorMessage } from "../../lib/errors";
import type { SafetyEvent } from "../../lib/events";
import { StatusThrottle, shortReason, statusDegraded, statusFailed, statusOk } from "../../lib/nodered/status";
import type { SafetyStoreNode } from "../../lib/nodered/types";

interface AlarmPanelDef extends NodeDef {
  store: string;
  schoolId: string;
  panelId: string;
  port: string;
  baudRate: string | number;
  protocol: PanelProtocol;
  profile: "button" | "custom";
  linePattern: string;
  lineStates: string;
  lineAck: string;
  zoneMap: string;
  retransmitWindowSec: string | number;
}

function parseJsonSetting(text: string | undefined, setting: string, fallback: unknown): unknown {
  if (!text || text.trim() === "") return fallback;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${setting} is not valid JSON: ${(err as Error).message}`, setting);
  }
}

function zoneMapFrom(text: string | undefined): Record<string, string> {
  const value = parseJsonSetting(text, "zoneMap", {});
  if (typeof value !== "object" || value === null || Array.isArray(value) || !Object.values(value).every((v) => typeof v === "string")) {
    throw new ConfigError('zoneMap must map zone numbers to zone ids, e.g. {"15": "demo-school-duty-room"}', "zoneMap");
  }
  return value as Record<string, string>;
}

export = function register(RED: NodeAPI): void {
  function AlarmPanel(this: Node, def: AlarmPanelDef): void {
    RED.nodes.createNode(this, def);
    const storeNode = RED.nodes.getNode(def.store) as SafetyStoreNode | null;
    const status = new StatusThrottle((s) => this.status(s));
    let receiver: AlarmPanelReceiver | null = null;
    let accepted = 0;

    const fail = (text: string) => status.now(statusFailed(shortReason(text)));

    let profile: LineProfile | undefined;
    let zoneMap: Record<string, string>;
    try {
      if (!storeNode) throw new ConfigError(RED._("alarm-panel.errors.noStore"), "store");
      if (!def.port) throw new ConfigError(RED._("alarm-panel.errors.noPort"), "port");
      if (!def.schoolId || !def.panelId) throw new ConfigError(RED._("alarm-panel.errors.noIds"), "panelId");
      zoneMap = zoneMapFrom(def.zoneMap);
      if (def.protocol === "line") {
        profile =
          def.profile === "custom"
            ? lineProfileFrom({ pattern: def.linePattern, states: parseJsonSetting(def.lineStates, "lineStates", {}), ack: def.lineAck, name: "custom" })
            : BUTTON_PROFILE;
      }
    } catch (err) {
      fail(errorMessage(err));
      this.error(err);
      return;
    }

    const describe = () => RED._("alarm-panel.status.listening", { port: def.port, accepted });

    receiver = new AlarmPanelReceiver({
      schoolId: def.schoolId,
      panelId: def.panelId,
      protocol: def.protocol === "line" ? "line" : "contact-id",
      profile,
      zoneMap,
      retransmitWindowMs: (def.retransmitWindowSec === undefined || def.retransmitWindowSec === "" ? 30 : Number(def.retransmitWindowSec)) * 1000,
      journal: async (event: SafetyEvent) => {
        const writer = await storeNode!.journalWriter();
        return writer.append(event);
      },
      write: (bytes) => line.write(bytes),
      onEvent: (event, duplicate) => {
        if (duplicate) return;
        accepted += 1;
        status.set(statusOk(describe()));
        this.send({ topic: event.kind, payload: event });
      },
      onRejected: (err, line) => {
        fail(RED._("alarm-panel.status.rejected", { reason: err.message }));
        this.error(err, { topic: "rejected", payload: line } as never);
      },
      onJournalError: (err) => {
        fail(RED._("alarm-panel.status.notStored", { reason: errorMessage(err) }));
        this.error(err);
      },
    });

    const line = new SerialLine({
      path: def.port,
      baudRate: Number(def.baudRate || 9600),
      onData: (chunk) => receiver?.push(chunk),
      onDrop: () => receiver?.reset(),
      onError: (err) => this.debug(`serial ${def.port}: ${err.message}`),
      onState: (state) => {
        if (state.open) status.now(statusOk(describe()));
        else {
          const reason = state.disconnected ? RED._("alarm-panel.status.disconnected") : state.reason;
          status.now(statusDegraded(shortReason(RED._("alarm-panel.status.retrying", { port: def.port, reason }))));
        }
      },
    });
    line.open();

    this.on("close", (_removed: boolean, done: () => void) => {
      status.cancel();
      void line.close().then(() => (receiver ? receiver.idle().then(done, done) : done()));
    });
  }

  RED.nodes.registerType("alarm-panel", AlarmPanel);
};
