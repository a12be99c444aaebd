// osdp-bus (config): one RS-485 line of OSDP readers; owns the serial port and the control panel the door nodes share.
import type { Node, NodeAPI, NodeDef } from "node-red";
import { SerialPort } from "serialport";
import { OsdpControlPanel } from "../../lib/devices/osdp/control-panel";
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


const RECONNECT_MAX_MS = 30_000;

export = function register(RED: NodeAPI): void {
  function OsdpBus(this: OsdpBusNode, def: OsdpBusDef): void {
    RED.nodes.createNode(this, def);
    this.configError = null;
    this.panel = null;
    let port: SerialPort | null = null;
    let state = "opening";
    let closing = false;
    let reconnectTimer: NodeJS.Timeout | null = null;
    let reconnectMs = 500;
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
      write: (bytes) =>
        new Promise<void>((resolve, reject) => {
          if (!port?.isOpen) {
            reject(new Error("the serial port is closed"));
            return;
          }
          port.write(bytes, (err) => (err ? reject(err) : resolve()));
        }),
    });
    this.panel = panel;
    panel.on("garbage", (reason) => this.debug(`osdp ${def.port}: ${reason}`));
    panel.on("keyset", (address) => this.log(RED._("osdp-bus.log.keyset", { address })));

    const scheduleReconnect = (reason: string) => {
      if (closing || reconnectTimer) return;
      setState(reason);
      reconnectTimer = setTimeout(() => {
        reconnectTimer = null;
        open();
      }, reconnectMs);
      reconnectMs = Math.min(RECONNECT_MAX_MS, reconnectMs * 2);
    };
    const open = () => {
      const serial = new SerialPort({ path: def.port, baudRate: Number(def.baudRate || 9600), autoOpen: false });
      serial.open((err) => {
        if (closing) {
          if (!err) serial.close();
          return;
        }
        if (err) {
          scheduleReconnect(err.message);
          return;
        }
        port = serial;
        reconnectMs = 500;
        setState("open");
        panel.start();
      });
      serial.on("data", (chunk: Buffer) => panel.push(chunk));
      serial.on("error", (err: Error) => this.debug(`osdp ${def.port}: ${err.message}`));
      serial.on("close", () => {
        if (port === serial) port = null;
        panel.lineReset();
        scheduleReconnect(RED._("osdp-bus.status.disconnected"));
      });
    };
    open();

    this.on("close", (_removed: boolean, done: () => void) => {
      closing = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      panel
        .stop()
        .catch(() => undefined)
        .then(() => {
          const current = port;
          port = null;
          if (current?.isOpen) current.close(() => done());
          else done();
        });
    });
  }

  RED.nodes.registerType("osdp-bus", OsdpBus as unknown as (this: Node, def: NodeDef) => void, { credentials: { scbk: { type: "password" } } });
};
