// ONVIF request bodies and response readers: device, media (ver10 and ver20) and event (PullPoint, WS-BaseNotification) operations.
import { DeviceProtocolError } from "../../errors";
import { NS } from "./soap";
import { attr, child, escapeXml, list, path, text, type XmlNode } from "./xml";

export const REQUEST = {
  getSystemDateAndTime: `<GetSystemDateAndTime xmlns="${NS.device}"/>`,
  getCapabilities: `<GetCapabilities xmlns="${NS.device}"><Category>All</Category></GetCapabilities>`,
  getDeviceInformation: `<GetDeviceInformation xmlns="${NS.device}"/>`,
  getProfiles: `<GetProfiles xmlns="${NS.media}"/>`,
  getStreamUri: (profileToken: string) =>
    `<GetStreamUri xmlns="${NS.media}"><StreamSetup><Stream xmlns="${NS.schema}">RTP-Unicast</Stream><Transport xmlns="${NS.schema}"><Protocol>RTSP</Protocol></Transport></StreamSetup><ProfileToken>${escapeXml(profileToken)}</ProfileToken></GetStreamUri>`,
  createPullPointSubscription: (terminationSec: number) =>
    `<CreatePullPointSubscription xmlns="${NS.events}"><InitialTerminationTime>PT${terminationSec}S</InitialTerminationTime></CreatePullPointSubscription>`,
  pullMessages: (timeoutSec: number, messageLimit: number) =>
    `<PullMessages xmlns="${NS.events}"><Timeout>PT${timeoutSec}S</Timeout><MessageLimit>${messageLimit}</MessageLimit></PullMessages>`,
  renew: (terminationSec: number) => `<Renew xmlns="${NS.wsnt}"><TerminationTime>PT${terminationSec}S</TerminationTime></Renew>`,
  unsubscribe: `<Unsubscribe xmlns="${NS.wsnt}"/>`,
  subscribe: (consumerUrl: string, terminationSec: number) =>
    `<Subscribe xmlns="${NS.wsnt}"><ConsumerReference><Address xmlns="${NS.wsa}">${escapeXml(consumerUrl)}</Address></ConsumerReference><InitialTerminationTime>PT${terminationSec}S</InitialTerminationTime></Subscribe>`,
} as const;

export const ACTION = {
  pullMessages: "http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/PullMessagesRequest",
  renew: "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/RenewRequest",
  unsubscribe: "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/UnsubscribeRequest",
  subscribe: "http://docs.oasis-open.org/wsn/bw-2/NotificationProducer/SubscribeRequest",
} as const;

function required(node: XmlNode | undefined, what: string): XmlNode {
  if (!node) throw new DeviceProtocolError(`${what} is missing from the response`);
  return node;
}

function requiredText(node: unknown, what: string): string {
  const value = text(node);
  if (value === undefined || value === "") throw new DeviceProtocolError(`${what} is missing from the response`);
  return value;
}

/** GetSystemDateAndTime → the camera's UTC clock (ms since epoch). */
export function readSystemDateAndTime(body: XmlNode): { utcMs: number; timeZone: string | null } {
  const info = required(path(body, "GetSystemDateAndTimeResponse", "SystemDateAndTime"), "SystemDateAndTime");
  const utc = required(child(info, "UTCDateTime"), "UTCDateTime");
  const n = (p: string[], what: string) => {
    const value = Number(requiredText(path(utc, ...p), what));
    if (!Number.isInteger(value)) throw new DeviceProtocolError(`${what} is not a number`);
    return value;
  };
  const utcMs = Date.UTC(n(["Date", "Year"], "Year"), n(["Date", "Month"], "Month") - 1, n(["Date", "Day"], "Day"), n(["Time", "Hour"], "Hour"), n(["Time", "Minute"], "Minute"), n(["Time", "Second"], "Second"));
  return { utcMs, timeZone: text(path(info, "TimeZone", "TZ")) ?? null };
}

export interface ServiceAddresses {
  device?: string;
  media?: string;
  events?: string;
  deviceIO?: string;
  media2?: string;
}

/** GetCapabilities → XAddrs (DeviceIO sits inside Extension). */
export function readCapabilities(body: XmlNode): ServiceAddresses {
  const caps = required(path(body, "GetCapabilitiesResponse", "Capabilities"), "Capabilities");
  return {
    device: text(path(caps, "Device", "XAddr")),
    media: text(path(caps, "Media", "XAddr")),
    events: text(path(caps, "Events", "XAddr")),
    deviceIO: text(path(caps, "Extension", "DeviceIO", "XAddr")) ?? text(path(caps, "DeviceIO", "XAddr")),
  };
}

export interface ServiceEntry {
  namespace: string;
  xaddr: string;
  version: string;
}

/** GetServices → namespace, XAddr and version of each service. */
export function readServices(body: XmlNode): ServiceEntry[] {
  return list(required(child(body, "GetServicesResponse"), "GetServicesResponse"), "Service").map((service) => ({
    namespace: requiredText(child(service, "Namespace"), "Service Namespace"),
    xaddr: requiredText(child(service, "XAddr"), "Service XAddr"),
    version: `${text(path(service, "Version", "Major")) ?? "?"}.${text(path(service, "Version", "Minor")) ?? "?"}`,
  }));
}

export interface DeviceInformation {
  manufacturer: string;
  model: string;
  firmwareVersion: string;
  serialNumber: string;
  hardwareId: string;
}

export function readDeviceInformation(body: XmlNode): DeviceInformation {
  const info = required(child(body, "GetDeviceInformationResponse"), "GetDeviceInformationResponse");
  const field = (name: string) => text(child(info, name)) ?? "";
  return { manufacturer: field("Manufacturer"), model: field("Model"), firmwareVersion: field("FirmwareVersion"), serialNumber: field("SerialNumber"), hardwareId: field("HardwareId") };
}

export interface MediaProfile {
  token: string;
  name: string;
  fixed: boolean;
  encoding: string | null;
  width: number | null;
  height: number | null;
}

/** GetProfiles of Media (ver10) or Media2 (ver20): both name the element Profiles; the encoder sits in different places. */
export function readProfiles(body: XmlNode): MediaProfile[] {
  const response = required(child(body, "GetProfilesResponse"), "GetProfilesResponse");
  return list(response, "Profiles").map((profile) => {
    const token = attr(profile, "token");
    if (!token) throw new DeviceProtocolError("a profile without a token attribute");
    const encoder = child(profile, "VideoEncoderConfiguration") ?? path(profile, "Configurations", "VideoEncoder");
    const resolution = child(encoder, "Resolution");
    const num = (name: string) => {
      const value = Number(text(child(resolution, name)));
      return Number.isFinite(value) && value > 0 ? value : null;
    };
    return {
      token,
      name: text(child(profile, "Name")) ?? token,
      fixed: attr(profile, "fixed") === "true",
      encoding: text(child(encoder, "Encoding")) ?? null,
      width: num("Width"),
      height: num("Height"),
    };
  });
}

/** GetStreamUri of Media (MediaUri/Uri) or Media2 (Uri). */
export function readStreamUri(body: XmlNode): string {
  const response = required(child(body, "GetStreamUriResponse"), "GetStreamUriResponse");
  return requiredText(path(response, "MediaUri", "Uri") ?? child(response, "Uri"), "stream Uri");
}

export interface Subscription {
  /** Where PullMessages, Renew and Unsubscribe go. */
  address: string;
  currentTime: string | null;
  terminationTime: string | null;
}

/** CreatePullPointSubscriptionResponse or SubscribeResponse. */
export function readSubscription(body: XmlNode): Subscription {
  const response = child(body, "CreatePullPointSubscriptionResponse") ?? child(body, "SubscribeResponse");
  if (!response) throw new DeviceProtocolError("the response holds neither CreatePullPointSubscriptionResponse nor SubscribeResponse");
  return {
    address: requiredText(path(response, "SubscriptionReference", "Address"), "SubscriptionReference Address"),
    currentTime: text(child(response, "CurrentTime")) ?? null,
    terminationTime: text(child(response, "TerminationTime")) ?? null,
  };
}

export function readRenew(body: XmlNode): { currentTime: string | null; terminationTime: string | null } {
  const response = required(child(body, "RenewResponse"), "RenewResponse");
  return { currentTime: text(child(response, "CurrentTime")) ?? null, terminationTime: text(child(response, "TerminationTime")) ?? null };
}

/** One wsnt:NotificationMessage, as the camera sent it. */
export interface NotificationMessage {
  topic: string;
  topicDialect: string | null;
  utcTime: string | null;
  /** "Initialized" | "Changed" | "Deleted", or null for stateless (pulse) events. */
  propertyOperation: string | null;
  source: Record<string, string>;
  data: Record<string, string>;
}

function simpleItems(node: unknown): Record<string, string> {
  const items: Record<string, string> = {};
  for (const item of list(node, "SimpleItem")) {
    const name = attr(item, "Name");
    if (name !== undefined) items[name] = attr(item, "Value") ?? "";
  }
  return items;
}

function readNotificationMessages(container: XmlNode): NotificationMessage[] {
  return list(container, "NotificationMessage").map((notification, i) => {
    const topicNode = child(notification, "Topic");
    const topic = text(topicNode);
    if (!topic) throw new DeviceProtocolError(`NotificationMessage ${i + 1} has no Topic`);
    // wsnt:Message wraps tt:Message; both local names are "Message".
    const message = path(notification, "Message", "Message");
    if (!message) throw new DeviceProtocolError(`NotificationMessage ${i + 1} (${topic}) has no tt:Message`);
    return {
      topic,
      topicDialect: attr(topicNode, "Dialect") ?? null,
      utcTime: attr(message, "UtcTime") ?? null,
      propertyOperation: attr(message, "PropertyOperation") ?? null,
      source: simpleItems(child(message, "Source")),
      data: simpleItems(child(message, "Data")),
    };
  });
}

export interface PullMessagesResult {
  currentTime: string | null;
  terminationTime: string | null;
  messages: NotificationMessage[];
}

export function readPullMessages(body: XmlNode): PullMessagesResult {
  const response = required(child(body, "PullMessagesResponse"), "PullMessagesResponse");
  return { currentTime: text(child(response, "CurrentTime")) ?? null, terminationTime: text(child(response, "TerminationTime")) ?? null, messages: readNotificationMessages(response) };
}

/** A wsnt:Notify body as a push consumer receives it. */
export function readNotify(body: XmlNode): NotificationMessage[] {
  return readNotificationMessages(required(child(body, "Notify"), "wsnt:Notify"));
}
