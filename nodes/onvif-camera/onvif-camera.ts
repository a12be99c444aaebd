// onvif-camera: follows one ONVIF camera's events (PullPoint or push), journals each SafetyEvent, then sends it on.
import type { Request, Response } from "express";
import type { Node, NodeAPI, NodeDef, NodeStatus } from "node-red";
import { OnvifCamera, type CameraInfo, type ConnectionState } from "../../lib/devices/onvif/camera";
import { NotifyRoutes, readRequestBody, type NotifyConsumer } from "../../lib/devices/onvif/push-consumer";
import { ConfigError, errorMessage } from "../../lib/errors";
import type { SafetyEvent } from "../../lib/events";
import type { OnvifCameraConfigNode } from "../../lib/nodered/onvif";
import { shortReason, statusDegraded, statusFailed, statusOk } from "../../lib/nodered/status";
import type { SafetyStoreNode } from "../../lib/nodered/types";
import type { DeviceStatus } from "../../lib/store/domain";

interface CameraDef extends NodeDef {
  camera: string;
  store: string;
  schoolId: string;
  deviceId: string;
  zoneId: string;
}

const NOTIFY_PATH = "/onvif-camera/notify/";
// One Notify route per httpNode app; each subscription adds its own token.
const notifyRoutesByApp = new WeakMap<object, NotifyRoutes>();

export = function register(RED: NodeAPI): void {
  let routes = notifyRoutesByApp.get(RED.httpNode);
  if (!routes) {
    const table = new NotifyRoutes();
    routes = table;
    notifyRoutesByApp.set(RED.httpNode, table);
    RED.httpNode.post(`${NOTIFY_PATH}:token`, (req: Request, res: Response) => {
      // Some httpNodeMiddleware parses bodies first; otherwise the raw stream is still unread.
      const pending = typeof req.body === "string" ? Promise.resolve(req.body) : Buffer.isBuffer(req.body) ? Promise.resolve(req.body.toString("utf8")) : readRequestBody(req);
      pending
        .then((body) => table.answer(String(req.params.token), body))
        .then(
          (answer) => res.status(answer.status).type("text/plain").send(answer.body),
          () => res.status(400).end(),
        );
    });
  }
  const notifyRoutes = routes;

  function OnvifCameraNode(this: Node, def: CameraDef): void {
    RED.nodes.createNode(this, def);
    const config = RED.nodes.getNode(def.camera) as OnvifCameraConfigNode | null;
    const storeNode = RED.nodes.getNode(def.store) as SafetyStoreNode | null;
    let camera: OnvifCamera;
    try {
      if (!config || !config.address) throw new ConfigError(RED._("onvif-camera.errors.camera"), "camera");
      if (!storeNode || !def.schoolId || !def.deviceId) throw new ConfigError(RED._("onvif-camera.errors.config"), "store");
      if (config.eventMode === "push" && !/^https?:\/\/[^/]+/.test(config.consumerBaseUrl)) throw new ConfigError(RED._("onvif-camera.errors.consumerBaseUrl"), "consumerBaseUrl");
      const root = String(RED.settings.httpNodeRoot ?? "/").replace(/\/+$/, "");
      const consumerBase = `${config.consumerBaseUrl.replace(/\/+$/, "")}${root}${NOTIFY_PATH}`;
      const consumer: NotifyConsumer = {
        register: (token, handler) => {
          notifyRoutes.set(token, handler);
          return consumerBase + token;
        },
        unregister: (token) => notifyRoutes.delete(token),
      };
      camera = new OnvifCamera({
        host: config.address,
        port: config.port,
        // Credentials from the config node, or ONVIF_USERNAME / ONVIF_PASSWORD in the environment; never from the flow.
        username: config.credentials?.username || process.env.ONVIF_USERNAME || "",
        password: config.credentials?.password || process.env.ONVIF_PASSWORD || "",
        identity: { schoolId: def.schoolId, deviceId: def.deviceId, zoneId: def.zoneId || null },
        eventMode: config.eventMode,
        crowdThreshold: config.crowdThreshold,
        notifyConsumer: config.eventMode === "push" ? consumer : undefined,
        deliver: async (event: SafetyEvent) => {
          const result = await (await storeNode.journalWriter()).append(event);
          if (!result.duplicate) this.send({ topic: event.kind, payload: event });
        },
      });
    } catch (err) {
      this.status(statusFailed(shortReason(errorMessage(err))));
      this.error(err);
      return;
    }

    const statusFor = (state: ConnectionState, reason: string): NodeStatus => {
      switch (state) {
        case "connected":
          return statusOk(RED._("onvif-camera.status.connected", { mode: config.eventMode }));
        case "connecting":
          return statusDegraded(RED._("onvif-camera.status.connecting"));
        case "retrying":
          return statusDegraded(shortReason(RED._("onvif-camera.status.retrying", { reason })));
        case "auth-failed":
          return statusFailed(RED._("onvif-camera.status.authFailed"));
        case "unreachable":
          return statusFailed(RED._("onvif-camera.status.unreachable"));
        case "stopped":
          return {};
      }
    };
    const healthOf: Partial<Record<ConnectionState, DeviceStatus>> = { connected: "online", unreachable: "offline", "auth-failed": "fault" };
    const saveWarning = (err: unknown) => this.warn(RED._("onvif-camera.errors.save", { reason: errorMessage(err) }));

    const saveDevice = async (info: CameraInfo) => {
      const store = await storeNode.store();
      const existing = await store.devices.get(def.deviceId);
      await store.devices.upsert({
        id: def.deviceId,
        schoolId: def.schoolId,
        kind: existing?.kind ?? "camera",
        protocol: "onvif",
        address: `${config.address}:${config.port}`,
        zoneId: def.zoneId || existing?.zoneId || null,
        name: existing?.name || `${info.device.manufacturer} ${info.device.model}`.trim() || def.deviceId,
        status: "online",
        lastSeen: new Date().toISOString(),
        details: {
          ...(existing?.details ?? {}),
          manufacturer: info.device.manufacturer,
          model: info.device.model,
          firmwareVersion: info.device.firmwareVersion,
          serialNumber: info.device.serialNumber,
          hardwareId: info.device.hardwareId,
          eventMode: config.eventMode,
          profiles: info.profiles,
          streamUri: info.profiles.find((p) => p.streamUri)?.streamUri ?? null,
        },
      });
    };

    camera.on("connection", (state, reason) => {
      this.status(statusFor(state, reason));
      if (state === "auth-failed" || state === "unreachable") this.warn(RED._("onvif-camera.errors.connection", { state, reason }));
      const health = healthOf[state];
      if (health) void storeNode.store().then((store) => store.devices.setStatus(def.deviceId, health, health === "online" ? Date.now() : undefined)).catch(saveWarning);
    });
    camera.on("info", (info) => void saveDevice(info).catch(saveWarning));
    camera.on("warning", (err) => this.warn(errorMessage(err)));
    this.status(statusFor("connecting", ""));
    camera.start();

    this.on("close", (_removed: boolean, done: () => void) => {
      camera.stop().then(done, done);
    });
  }

  RED.nodes.registerType("onvif-camera", OnvifCameraNode as unknown as (this: Node, def: NodeDef) => void);
};
