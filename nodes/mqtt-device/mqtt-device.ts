// mqtt-device: a school's panic buttons and door controllers on MQTT (schema v1) through Node-RED's own broker config node.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { parseDoorCommand } from "../../lib/access/door-command";
import { commandPayload, mqttTopics, parseDeviceMessage, parseDeviceTopic } from "../../lib/devices/mqtt/schema";
import { ValidationError, errorMessage } from "../../lib/errors";
import { StatusThrottle, shortReason, statusFailed, statusOk } from "../../lib/nodered/status";
import type { SafetyStoreNode } from "../../lib/nodered/types";

interface MqttDeviceDef extends NodeDef {
  broker: string;
  store: string;
  schoolId: string;
}

/** The parts of Node-RED's mqtt-broker config node this node uses (see @node-red/nodes/core/network/10-mqtt.js). */
interface MqttBrokerNode extends Node {
  connected: boolean;
  register(node: Node): void;
  deregister(node: Node, done: () => void, autoDisconnect?: boolean): void;
  subscribe(topic: string, options: { qos: number; datatype?: string }, callback: (topic: string, payload: Buffer) => void, ref: string): void;
  unsubscribe(topic: string, ref: string, removeClientSubscription?: boolean): void;
  publish(msg: { topic: string; payload: unknown; qos?: number; retain?: boolean }, done?: (err?: unknown) => void): void;
}

export = function register(RED: NodeAPI): void {
  function MqttDevice(this: Node, def: MqttDeviceDef): void {
    RED.nodes.createNode(this, def);
    const broker = RED.nodes.getNode(def.broker) as MqttBrokerNode | null;
    const storeNode = RED.nodes.getNode(def.store) as SafetyStoreNode | null;
    const schoolId = (def.schoolId || "").trim();
    const status = new StatusThrottle((s) => this.status(s));
    let received = 0;
    let rejected = 0;
    let commandSeq = 0;

    if (!broker || !storeNode || !schoolId) {
      status.now(statusFailed(RED._("mqtt-device.errors.config")));
      this.error(RED._("mqtt-device.errors.config"));
      return;
    }
    const counts = () => RED._("mqtt-device.status.counts", { received, rejected });
    const reject = (err: unknown, topic: string, payload: Buffer) => {
      rejected += 1;
      status.now(statusFailed(shortReason(RED._("mqtt-device.status.rejected", { reason: errorMessage(err) }))));
      this.error(err, { topic, payload: payload.toString("utf8").slice(0, 1000) } as never);
    };
    const acknowledge = (deviceId: string, messageId: string) =>
      broker.publish({ topic: mqttTopics.ack(schoolId, deviceId), payload: { v: 1, id: messageId, status: "stored" }, qos: 1 });

    // Messages are handled one after another so that a burst keeps its order into the journal.
    let chain: Promise<void> = Promise.resolve();
    const onEvent = (topic: string, payload: Buffer) => {
      chain = chain.then(async () => {
        let message;
        try {
          message = parseDeviceMessage(payload, topic);
        } catch (err) {
          reject(err, topic, payload);
          return;
        }
        received += 1;
        if (message.type === "event") {
          try {
            const writer = await storeNode.journalWriter();
            const result = await writer.append(message.event);
            acknowledge(message.event.deviceId!, message.messageId);
            if (!result.duplicate) this.send([{ topic: message.event.kind, payload: message.event }, null, null]);
          } catch (err) {
            // Not acknowledged: the device sends the message again.
            status.now(statusFailed(shortReason(RED._("mqtt-device.status.notStored", { reason: errorMessage(err) }))));
            this.error(err);
            return;
          }
        } else if (message.type === "access-request") {
          this.send([null, { topic: "access-request", payload: message.request }, null]);
        } else {
          const store = await storeNode.store();
          await store.devices.setStatus(message.deviceId, "online", message.atMs).catch(() => false);
          this.send([null, null, { topic: "heartbeat", payload: { deviceId: message.deviceId, atMs: message.atMs, battery: message.battery } }]);
        }
        status.set(statusOk(counts()));
      }).catch((err: unknown) => this.error(err));
    };
    const onStatus = (topic: string, payload: Buffer) => {
      chain = chain.then(async () => {
        let deviceId: string;
        let online: boolean;
        try {
          deviceId = parseDeviceTopic(topic).deviceId;
          const text = payload.toString("utf8").trim();
          const parsed = text.startsWith("{") ? (JSON.parse(text) as { online?: unknown }).online : text;
          if (parsed !== true && parsed !== false && parsed !== "online" && parsed !== "offline") {
            throw new ValidationError(`device status must be {"v":1,"online":true|false} or online/offline, got ${text.slice(0, 60)}`, "online");
          }
          online = parsed === true || parsed === "online";
        } catch (err) {
          reject(err, topic, payload);
          return;
        }
        const store = await storeNode.store();
        await store.devices.setStatus(deviceId, online ? "online" : "offline", Date.now()).catch(() => false);
        this.send([null, null, { topic: online ? "device-online" : "device-offline", payload: { deviceId, online } }]);
      }).catch((err: unknown) => this.error(err));
    };

    broker.register(this);
    broker.subscribe(mqttTopics.events(schoolId), { qos: 1, datatype: "buffer" }, onEvent, this.id);
    broker.subscribe(mqttTopics.statuses(schoolId), { qos: 1, datatype: "buffer" }, onStatus, this.id);

    this.on("input", (msg: NodeMessageInFlow, send, done) => {
      try {
        const payload = msg.payload as Record<string, unknown> | undefined;
        const deviceId = typeof (msg as { deviceId?: unknown }).deviceId === "string" ? String((msg as { deviceId?: unknown }).deviceId) : typeof payload?.readerId === "string" ? String(payload.readerId) : "";
        if (!/^[^/+#]{1,128}$/.test(deviceId)) throw new ValidationError(RED._("mqtt-device.errors.noDevice"), "deviceId");
        const command = parseDoorCommand(msg.payload, msg.topic);
        // A door command is not queued for later: an unlock that arrives minutes late is worse than one that fails now.
        if (!broker.connected) throw new Error(RED._("mqtt-device.errors.notConnected"));
        commandSeq += 1;
        broker.publish({ topic: mqttTopics.command(schoolId, deviceId), payload: commandPayload(command, `${Date.now()}-${commandSeq}`), qos: 1 }, (err?: unknown) => {
          if (err) done(err instanceof Error ? err : new Error(String(err)));
          else done();
        });
      } catch (err) {
        status.now(statusFailed(shortReason(errorMessage(err))));
        done(err as Error);
      }
    });

    this.on("close", (removed: boolean, done: () => void) => {
      status.cancel();
      broker.unsubscribe(mqttTopics.events(schoolId), this.id, removed);
      broker.unsubscribe(mqttTopics.statuses(schoolId), this.id, removed);
      chain.finally(() => broker.deregister(this, done, true));
    });
  }

  RED.nodes.registerType("mqtt-device", MqttDevice);
};
