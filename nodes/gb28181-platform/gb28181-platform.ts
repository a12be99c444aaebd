// gb28181-platform: the SIP server GB/T 28181 cameras and NVRs register with; alarms and device health become SafetyEvents.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { Gb28181Platform, type PlatformDevice } from "../../lib/devices/gb28181/platform";
import { ConfigError, ValidationError, errorMessage } from "../../lib/errors";
import { StatusThrottle, shortReason, statusFailed, statusOk } from "../../lib/nodered/status";
import type { SafetyStoreNode } from "../../lib/nodered/types";

interface PlatformDef extends NodeDef {
  store: string;
  schoolId: string;
  host: string;
  port: string | number;
  transport: "udp" | "tcp" | "both";
  platformId: string;
  domain: string;
  keepaliveSec: string | number;
}

interface PlatformCredentials {
  defaultPassword?: string;
  /** JSON: {"<device id>": "<password>"} */
  passwords?: string;
}

const GB_ID = /^\d{20}$/;

export = function register(RED: NodeAPI): void {
  function Gb28181PlatformNode(this: Node<PlatformCredentials>, def: PlatformDef): void {
    RED.nodes.createNode(this, def);
    const storeNode = RED.nodes.getNode(def.store) as SafetyStoreNode | null;
    const status = new StatusThrottle((s) => this.status(s));
    let platform: Gb28181Platform;
    let passwords: Record<string, string> = {};
    try {
      if (!storeNode || !def.schoolId) throw new ConfigError(RED._("gb28181-platform.errors.config"), "store");
      if (!GB_ID.test(def.platformId || "")) throw new ConfigError(RED._("gb28181-platform.errors.platformId"), "platformId");
      if (this.credentials?.passwords) {
        try {
          passwords = JSON.parse(this.credentials.passwords) as Record<string, string>;
        } catch (err) {
          throw new ConfigError(RED._("gb28181-platform.errors.passwords", { reason: (err as Error).message }), "passwords");
        }
      }
    } catch (err) {
      status.now(statusFailed(shortReason(errorMessage(err))));
      this.error(err);
      return;
    }
    // The node's credentials, or GB28181_PASSWORD in the environment; never from the flow.
    const defaultPassword = this.credentials?.defaultPassword || process.env.GB28181_PASSWORD || null;
    platform = new Gb28181Platform({
      schoolId: def.schoolId,
      host: def.host || "0.0.0.0",
      port: Number(def.port ?? 5060),
      transports: def.transport === "both" ? ["udp", "tcp"] : [def.transport === "tcp" ? "tcp" : "udp"],
      platformId: def.platformId,
      domain: def.domain || def.platformId.slice(0, 10),
      keepaliveIntervalMs: Number(def.keepaliveSec || 60) * 1000,
      passwordFor: (deviceId) => passwords[deviceId] ?? defaultPassword,
      journal: async (event) => (await storeNode!.journalWriter()).append(event),
    });
    const describe = () => RED._("gb28181-platform.status.listening", { port: platform.localPort, online: platform.onlineCount() });
    // Alarm storms: the status text is rebuilt at most twice a second, not per event.
    let statusAtMs = 0;
    const saveDevice = async (device: PlatformDevice) => {
      const store = await storeNode!.store();
      const address = `${device.address}:${device.port}`;
      await store.devices.upsert({
        id: device.deviceId,
        schoolId: def.schoolId,
        kind: "video-device",
        protocol: "gb28181",
        address,
        zoneId: null,
        name: String(device.info.DeviceName ?? device.deviceId),
        status: device.online ? "online" : "offline",
        lastSeen: new Date(device.lastKeepaliveMs).toISOString(),
        details: { ...device.info, transport: device.transport, channels: device.channels.length },
      });
      for (const channel of device.channels) {
        if (channel.DeviceID === device.deviceId) continue;
        await store.devices.upsert({
          id: channel.DeviceID,
          schoolId: def.schoolId,
          kind: "camera-channel",
          protocol: "gb28181",
          address,
          zoneId: null,
          name: channel.Name ?? channel.DeviceID,
          status: channel.Status === "ON" || channel.Status === "ONLINE" ? "online" : "offline",
          lastSeen: null,
          details: { ...channel, parentDeviceId: device.deviceId },
        });
      }
    };
    platform.on("event", (event, duplicate) => {
      if (!duplicate) this.send({ topic: event.kind, payload: event });
      const now = Date.now();
      if (now - statusAtMs >= 500) {
        statusAtMs = now;
        status.set(statusOk(describe()));
      }
    });
    for (const name of ["catalog", "device-info"] as const) {
      platform.on(name, (device) => void saveDevice(device).catch((err: unknown) => this.warn(RED._("gb28181-platform.errors.save", { reason: errorMessage(err) }))));
    }
    platform.on("rejected", (reason, source) => this.warn(RED._("gb28181-platform.errors.rejected", { reason, source })));
    platform.on("auth-failed", (deviceId, source) => this.warn(RED._("gb28181-platform.errors.auth", { deviceId, source })));
    const started = platform.start().then(
      () => status.now(statusOk(describe())),
      (err: Error) => {
        status.now(statusFailed(shortReason(RED._("gb28181-platform.status.cannotListen", { reason: err.message }))));
        this.error(err);
      },
    );

    this.on("input", (msg: NodeMessageInFlow, _send, done) => {
      try {
        const payload = (msg.payload ?? {}) as { deviceId?: unknown; channelId?: unknown; cmdType?: unknown };
        if (typeof payload.deviceId !== "string" || !GB_ID.test(payload.deviceId)) throw new ValidationError(RED._("gb28181-platform.errors.deviceId"), "deviceId");
        let sent: boolean;
        if (msg.topic === "reset-alarm") sent = platform.resetAlarm(payload.deviceId, typeof payload.channelId === "string" ? payload.channelId : undefined);
        else if (msg.topic === "query" && (payload.cmdType === "Catalog" || payload.cmdType === "DeviceInfo" || payload.cmdType === "DeviceStatus")) sent = platform.query(payload.deviceId, payload.cmdType);
        else throw new ValidationError(RED._("gb28181-platform.errors.topic"), "topic");
        if (!sent) throw new ValidationError(RED._("gb28181-platform.errors.notRegistered", { deviceId: payload.deviceId }), "deviceId");
        done();
      } catch (err) {
        status.now(statusFailed(shortReason(errorMessage(err))));
        done(err as Error);
      }
    });

    this.on("close", (_removed: boolean, done: () => void) => {
      status.cancel();
      void started.then(() => platform.stop()).then(done, done);
    });
  }

  RED.nodes.registerType("gb28181-platform", Gb28181PlatformNode as unknown as (this: Node, def: NodeDef) => void, {
    credentials: { defaultPassword: { type: "password" }, passwords: { type: "password" } },
  });
};
