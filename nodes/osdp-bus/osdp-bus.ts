// osdp-bus (config): one RS-485 line of OSDP readers; owns the serial port and the control panel the door nodes share.
import type { Node, NodeAPI, NodeDef } from "node-red";
import { OsdpControlPanel } from "../../lib/devices/osdp/control-panel";
import { SerialLine } from "../../lib/devices/serial-line";
import { parseScbk } from "../../lib/devices/osdp/secure-channel";
import { errorMessage } from "../../lib/errors";
import type { OsdpBusNode } from "../../lib/nodered/types";

interface OsdpBusDef extends NodeDef {
  port: string;
  baudRate: string | number;
  pollIntervalMs: string | number;
  secure: boolean;
  installMode: boolean;
}


export = function register(RED: NodeAPI): void {
  function OsdpBus(this: OsdpBusNode, def: OsdpBusDef): void {
    RED.nodes.createNode(this, def);
    this.configError = null;
    this.panel = null;
    let state = "opening";
    const listeners = new Set<(state: string) => void>();
    const setState = (next: string) => {
      state = next;
      listeners.forEach((l) => l(next));
    };
    this.lineState = () => state;
    this.onLineState = (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    };

    let secure: { scbk: Buffer; installMode: boolean } | null = null;
    try {
      if (!def.port) throw new Error(RED._("osdp-bus.errors.noPort"));
      // The key comes from the node's credentials, or from OSDP_SITE_KEY in the environment; never from the flow.
      if (def.secure) secure = { scbk: parseScbk(this.credentials?.scbk || process.env.OSDP_SITE_KEY), installMode: def.installMode === true };
    } catch (err) {
      this.configError = errorMessage(err);
      this.error(this.configError);
      return;
    }

    const panel = new OsdpControlPanel({
      readers: [],
      secure,
      pollIntervalMs: Number(def.pollIntervalMs || 50),
      replyTimeoutMs: 200,
      write: (bytes) => line.write(bytes),
    });
    this.panel = panel;
    panel.on("garbage", (reason) => this.debug(`osdp ${def.port}: ${reason}`));
    panel.on("keyset", (address) => this.log(RED._("osdp-bus.log.keyset", { address })));

    const line = new SerialLine({
      path: def.port,
      baudRate: Number(def.baudRate || 9600),
      onData: (chunk) => panel.push(chunk),
      onDrop: () => panel.lineReset(),
      onError: (err) => this.debug(`osdp ${def.port}: ${err.message}`),
      onState: (state) => {
        if (state.open) {
          setState("open");
          panel.start();
        } else setState(state.disconnected ? RED._("osdp-bus.status.disconnected") : state.reason);
      },
    });
    line.open();

    this.on("close", (_removed: boolean, done: () => void) => {
      panel
        .stop()
        .catch(() => undefined)
        .then(() => line.close())
        .then(done, done);
    });
  }

  RED.nodes.registerType("osdp-bus", OsdpBus as unknown as (this: Node, def: NodeDef) => void, { credentials: { scbk: { type: "password" } } });
};
