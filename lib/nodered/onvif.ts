// The onvif-camera-config node as onvif-camera nodes see it.
import type { Node } from "node-red";

export interface OnvifCameraConfigNode extends Node<{ username?: string; password?: string }> {
  address: string;
  port: number;
  eventMode: "pullpoint" | "push";
  crowdThreshold: number;
  /** How the camera reaches this Node-RED for push Notify, e.g. http://192.168.1.10:1880. */
  consumerBaseUrl: string;
}
