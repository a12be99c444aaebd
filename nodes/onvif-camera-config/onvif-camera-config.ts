// onvif-camera-config: where an ONVIF camera is and how to reach it (credentials in Node-RED credentials); serves discovery to the editor.
import type { Node, NodeAPI, NodeDef } from "node-red";
import type { Request, Response } from "express";
import { probe } from "../../lib/devices/onvif/discovery";
import { errorMessage } from "../../lib/errors";
import type { OnvifCameraConfigNode } from "../../lib/nodered/onvif";

interface ConfigDef extends NodeDef {
  address: string;
  port: string | number;
  eventMode: "pullpoint" | "push";
  crowdThreshold: string | number;
  consumerBaseUrl: string;
}

const registeredAdminApps = new WeakSet<object>();

export = function register(RED: NodeAPI): void {
  function OnvifCameraConfig(this: OnvifCameraConfigNode, def: ConfigDef): void {
    RED.nodes.createNode(this, def);
    this.address = (def.address ?? "").trim();
    this.port = Number(def.port || 80);
    this.eventMode = def.eventMode === "push" ? "push" : "pullpoint";
    this.crowdThreshold = Number(def.crowdThreshold || 20);
    this.consumerBaseUrl = (def.consumerBaseUrl ?? "").trim();
  }

  RED.nodes.registerType("onvif-camera-config", OnvifCameraConfig as unknown as (this: Node, def: NodeDef) => void, {
    credentials: { username: { type: "text" }, password: { type: "password" } },
  });

  // One route per admin app, however often the module is loaded (tests load it per flow).
  if (!registeredAdminApps.has(RED.httpAdmin)) {
    registeredAdminApps.add(RED.httpAdmin);
    RED.httpAdmin.get("/onvif-camera/discover", RED.auth.needsPermission("onvif-camera-config.read"), (req: Request, res: Response) => {
      // ?target=host:port adds a unicast probe, for cameras in another subnet (multicast does not cross routers).
      const target = typeof req.query.target === "string" ? /^([\w.-]+):(\d{1,5})$/.exec(req.query.target.trim()) : null;
      if (typeof req.query.target === "string" && req.query.target.trim() !== "" && !target) {
        res.status(400).json({ error: RED._("onvif-camera-config.errors.target") });
        return;
      }
      const timeoutMs = Math.min(Math.max(Number(req.query.timeoutMs) || 3000, 200), 10_000);
      probe({ timeoutMs, unicast: target ? { host: target[1], port: Number(target[2]) } : undefined, multicast: req.query.multicast !== "false" }).then(
        (cameras) => res.json({ cameras }),
        (err: unknown) => res.status(500).json({ error: errorMessage(err) }),
      );
    });
  }
};
