// ONVIF camera client: connects, reads device and media info, follows events by PullPoint or push, reconnects with backoff.
import { EventEmitter } from "node:events";
import { DeviceProtocolError, errorMessage } from "../../errors";
import type { SafetyEvent } from "../../events";
import { OnvifAuthError, OnvifFaultError, OnvifUnreachableError } from "./errors";
import {
  ACTION,
  REQUEST,
  readCapabilities,
  readDeviceInformation,
  readNotify,
  readProfiles,
  readPullMessages,
  readRenew,
  readStreamUri,
  readSubscription,
  readSystemDateAndTime,
  type DeviceInformation,
  type MediaProfile,
  type NotificationMessage,
  type ServiceAddresses,
} from "./messages";
import { EventNormalizer, type CameraIdentity, type PropertyState } from "./normalize";
import { newSubscriptionToken, type NotifyConsumer } from "./push-consumer";
import { SoapTransport, responseBody } from "./soap";
import { parseXml } from "./xml";

export type ConnectionState = "connecting" | "connected" | "retrying" | "auth-failed" | "unreachable" | "stopped";
export type EventMode = "pullpoint" | "push";

export interface OnvifCameraOptions {
  host: string;
  port: number;
  /** Device service path; ONVIF's default is /onvif/device_service. */
  devicePath?: string;
  username: string;
  password: string;
  identity: CameraIdentity;
  eventMode: EventMode;
  /** A count of at least this many objects is a crowd. */
  crowdThreshold: number;
  /** Required in push mode: where the camera posts Notify. */
  notifyConsumer?: NotifyConsumer;
  /** Journals the event; awaited before the next PullMessages or before answering the Notify. */
  deliver(event: SafetyEvent): Promise<void>;
  requestTimeoutMs?: number;
  pullTimeoutSec?: number;
  subscriptionSec?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Consecutive network failures after which the state is "unreachable" instead of "retrying". */
  unreachableAfterFailures?: number;
  /** Wait after refused credentials: cameras lock accounts that keep failing. */
  authRetryMs?: number;
  /** Push mode: how often the camera is checked for life between renewals. */
  heartbeatMs?: number;
  /** Replace host and port in the XAddrs the camera reports by the configured ones (NAT, port forwarding, proxies). */
  preserveAddress?: boolean;
}

export interface CameraProfile extends MediaProfile {
  streamUri: string | null;
}

export interface CameraInfo {
  device: DeviceInformation;
  profiles: CameraProfile[];
  services: ServiceAddresses;
  clockOffsetMs: number;
}

interface ActiveSubscription {
  address: string;
  mode: EventMode;
  renewAtMs: number;
  /** Push mode: the consumer token of this subscription. */
  token: string | null;
}

export interface OnvifCameraEvents {
  connection: [state: ConnectionState, reason: string];
  info: [info: CameraInfo];
  property: [state: PropertyState, event: SafetyEvent | null];
  /** Problems that do not end the session: a refused Renew, a malformed Notify, a failed delivery. */
  warning: [err: Error];
}

class StoppedError extends Error {}

export class OnvifCamera extends EventEmitter<OnvifCameraEvents> {
  private readonly transport: SoapTransport;
  private readonly normalizer: EventNormalizer;
  private clockOffsetMs = 0;
  private state: ConnectionState = "connecting";
  private reason = "";
  private stopped = false;
  private running: Promise<void> | null = null;
  private abort = new AbortController();
  private subscription: ActiveSubscription | null = null;
  private services: ServiceAddresses = {};
  private readonly tokens = new Set<string>();
  private readonly o: Required<Omit<OnvifCameraOptions, "notifyConsumer">> & { notifyConsumer?: NotifyConsumer };

  constructor(options: OnvifCameraOptions) {
    super();
    this.o = {
      devicePath: "/onvif/device_service",
      requestTimeoutMs: 5000,
      pullTimeoutSec: 10,
      subscriptionSec: 60,
      backoffInitialMs: 1000,
      backoffMaxMs: 60_000,
      unreachableAfterFailures: 3,
      authRetryMs: 60_000,
      heartbeatMs: 15_000,
      preserveAddress: true,
      ...options,
    };
    if (this.o.eventMode === "push" && !this.o.notifyConsumer) throw new Error("push mode needs a notifyConsumer");
    this.transport = new SoapTransport({ username: options.username, password: options.password, clockOffsetMs: () => this.clockOffsetMs });
    this.normalizer = new EventNormalizer(options.identity, options.crowdThreshold);
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  get connectionReason(): string {
    return this.reason;
  }

  get deviceUrl(): string {
    return `http://${this.o.host}:${this.o.port}${this.o.devicePath}`;
  }

  /** Last known state of every event property (topic + source). */
  get properties(): ReadonlyMap<string, PropertyState> {
    return this.normalizer.states;
  }

  start(): void {
    if (this.running) return;
    this.stopped = false;
    this.running = this.run();
  }

  /** Ends the session: Unsubscribe at the camera (best effort), consumer paths removed, sockets closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.running;
    this.running = null;
    const subscription = this.subscription;
    this.subscription = null;
    if (subscription) await this.unsubscribe(subscription).catch(() => undefined);
    for (const token of this.tokens) this.o.notifyConsumer?.unregister(token);
    this.tokens.clear();
    this.transport.close();
    this.setState("stopped", "");
  }

  private setState(state: ConnectionState, reason: string): void {
    if (state === this.state && reason === this.reason) return;
    this.state = state;
    this.reason = reason;
    this.emit("connection", state, reason);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      this.abort = new AbortController();
      try {
        await this.session(this.abort.signal, () => (failures = 0));
      } catch (err) {
        if (this.stopped) break;
        failures += 1;
        const delayMs = this.afterFailure(err as Error, failures);
        try {
          await this.sleep(delayMs, this.abort.signal);
        } catch {
          break;
        }
      }
    }
  }

  /** Maps the failure to a state and returns how long to wait before the next attempt. */
  private afterFailure(err: Error, failures: number): number {
    const backoffMs = Math.min(this.o.backoffInitialMs * 2 ** (failures - 1), this.o.backoffMaxMs);
    // ±10 % so that a school's cameras do not all reconnect in the same instant after a network outage.
    const jitteredMs = Math.round(backoffMs * (0.9 + Math.random() * 0.2));
    if (err instanceof OnvifAuthError) {
      this.setState("auth-failed", err.message);
      return this.o.authRetryMs;
    }
    if (err instanceof OnvifUnreachableError) {
      this.setState(failures >= this.o.unreachableAfterFailures ? "unreachable" : "retrying", err.message);
      return jitteredMs;
    }
    this.emit("warning", err);
    this.setState("retrying", errorMessage(err));
    return jitteredMs;
  }

  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new StoppedError("stopped"));
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(new StoppedError("stopped"));
      };
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  private call(url: string, operation: string, body: string, signal: AbortSignal, extra: { to?: string; action?: string; messageId?: boolean; timeoutMs?: number; authenticate?: boolean } = {}) {
    return this.transport.call({
      url,
      body,
      operation,
      signal,
      authenticate: extra.authenticate ?? true,
      timeoutMs: extra.timeoutMs ?? this.o.requestTimeoutMs,
      envelope: { to: extra.to, action: extra.action, messageId: extra.messageId },
    });
  }

  /** Keeps the path and query the camera reports but, with preserveAddress, the host and port we were configured with. */
  private rebase(xaddr: string | undefined, fallbackPath: string): string {
    if (!xaddr) return `http://${this.o.host}:${this.o.port}${fallbackPath}`;
    let url: URL;
    try {
      url = new URL(xaddr.trim().split(/\s+/)[0]);
    } catch {
      throw new DeviceProtocolError(`the camera reported an invalid service address "${xaddr.slice(0, 80)}"`);
    }
    if (this.o.preserveAddress) {
      url.hostname = this.o.host;
      url.port = String(this.o.port);
    }
    return url.toString();
  }

  private async session(signal: AbortSignal, connected: () => void): Promise<void> {
    const time = readSystemDateAndTime(await this.call(this.deviceUrl, "GetSystemDateAndTime", REQUEST.getSystemDateAndTime, signal, { authenticate: false }));
    this.clockOffsetMs = time.utcMs - Date.now();
    const capabilities = readCapabilities(await this.call(this.deviceUrl, "GetCapabilities", REQUEST.getCapabilities, signal));
    this.services = {
      device: this.deviceUrl,
      media: capabilities.media ? this.rebase(capabilities.media, "/onvif/media_service") : undefined,
      events: this.rebase(capabilities.events, "/onvif/events_service"),
    };
    const device = readDeviceInformation(await this.call(this.deviceUrl, "GetDeviceInformation", REQUEST.getDeviceInformation, signal));
    const profiles = await this.readMedia(signal);
    this.emit("info", { device, profiles, services: this.services, clockOffsetMs: this.clockOffsetMs });
    if (this.o.eventMode === "pullpoint") await this.pullLoop(signal, connected);
    else await this.pushLoop(signal, connected);
  }

  /** Profiles and stream URIs; a camera without a working media service still delivers events. */
  private async readMedia(signal: AbortSignal): Promise<CameraProfile[]> {
    if (!this.services.media) return [];
    const media = this.services.media;
    try {
      const profiles = readProfiles(await this.call(media, "GetProfiles", REQUEST.getProfiles, signal));
      const result: CameraProfile[] = [];
      for (const profile of profiles) {
        let streamUri: string | null = null;
        try {
          streamUri = readStreamUri(await this.call(media, "GetStreamUri", REQUEST.getStreamUri(profile.token), signal));
        } catch (err) {
          if (!(err instanceof OnvifFaultError || err instanceof DeviceProtocolError)) throw err;
          this.emit("warning", err);
        }
        result.push({ ...profile, streamUri });
      }
      return result;
    } catch (err) {
      if (!(err instanceof OnvifFaultError || err instanceof DeviceProtocolError)) throw err;
      this.emit("warning", err);
      return [];
    }
  }

  private renewAt(currentTime: string | null, terminationTime: string | null): number {
    const current = currentTime ? Date.parse(currentTime) : NaN;
    const termination = terminationTime ? Date.parse(terminationTime) : NaN;
    const lifetimeMs = Number.isFinite(current) && Number.isFinite(termination) && termination > current ? termination - current : this.o.subscriptionSec * 1000;
    // Renew at half-life: a pull in progress (at most pullTimeoutSec) still ends well before the termination time.
    return Date.now() + lifetimeMs / 2;
  }

  private async createPullPoint(signal: AbortSignal): Promise<ActiveSubscription> {
    const body = await this.call(this.services.events!, "CreatePullPointSubscription", REQUEST.createPullPointSubscription(this.o.subscriptionSec), signal);
    const created = readSubscription(body);
    const subscription: ActiveSubscription = { address: this.rebase(created.address, "/onvif/events_service"), mode: "pullpoint", renewAtMs: this.renewAt(created.currentTime, created.terminationTime), token: null };
    this.subscription = subscription;
    return subscription;
  }

  private async replaceSubscription(old: ActiveSubscription, create: () => Promise<ActiveSubscription>): Promise<ActiveSubscription> {
    const next = await create();
    await this.unsubscribe(old).catch(() => undefined);
    if (old.token) {
      this.o.notifyConsumer!.unregister(old.token);
      this.tokens.delete(old.token);
    }
    return next;
  }

  /**
   * Renews before termination. A camera that refuses Renew (onvif_simple_server answers ter:ActionFailed) gets a new
   * subscription instead; a network failure ends the session.
   */
  private async renewOrReplace(subscription: ActiveSubscription, signal: AbortSignal, create: () => Promise<ActiveSubscription>): Promise<ActiveSubscription> {
    try {
      const renewed = readRenew(await this.call(subscription.address, "Renew", REQUEST.renew(this.o.subscriptionSec), signal, { to: subscription.address, action: ACTION.renew }));
      subscription.renewAtMs = this.renewAt(renewed.currentTime, renewed.terminationTime);
      return subscription;
    } catch (err) {
      if (!(err instanceof OnvifFaultError || err instanceof DeviceProtocolError)) throw err;
      this.emit("warning", err);
      return this.replaceSubscription(subscription, create);
    }
  }

  private async pullLoop(signal: AbortSignal, connected: () => void): Promise<void> {
    const create = () => this.createPullPoint(signal);
    let subscription = await create();
    this.setState("connected", "");
    connected();
    let freshAfterFault = false;
    while (!this.stopped) {
      if (Date.now() >= subscription.renewAtMs) subscription = await this.renewOrReplace(subscription, signal, create);
      let result;
      try {
        result = readPullMessages(
          await this.call(subscription.address, "PullMessages", REQUEST.pullMessages(this.o.pullTimeoutSec, 100), signal, {
            to: subscription.address,
            action: ACTION.pullMessages,
            timeoutMs: this.o.pullTimeoutSec * 1000 + this.o.requestTimeoutMs,
          }),
        );
      } catch (err) {
        // A subscription the camera no longer knows (expired, or dropped by a restart we did not see): make a new one once.
        if (err instanceof OnvifFaultError && !freshAfterFault) {
          this.emit("warning", err);
          freshAfterFault = true;
          subscription = await create();
          continue;
        }
        throw err;
      }
      freshAfterFault = false;
      // A failed journal write was reported as a warning; the next pull goes on (the camera will not resend anyway).
      await this.handleMessages(result.messages).catch(() => undefined);
    }
  }

  private async subscribePush(signal: AbortSignal): Promise<ActiveSubscription> {
    const token = newSubscriptionToken();
    const url = this.o.notifyConsumer!.register(token, (body) => this.onNotify(body));
    this.tokens.add(token);
    try {
      const body = await this.call(this.services.events!, "Subscribe", REQUEST.subscribe(url, this.o.subscriptionSec), signal, { action: ACTION.subscribe, messageId: true });
      const created = readSubscription(body);
      const subscription: ActiveSubscription = { address: this.rebase(created.address, "/onvif/events_service"), mode: "push", renewAtMs: this.renewAt(created.currentTime, created.terminationTime), token };
      this.subscription = subscription;
      return subscription;
    } catch (err) {
      // A subscription created despite a fault would post to this token: unregistering it makes those posts 404.
      this.o.notifyConsumer!.unregister(token);
      this.tokens.delete(token);
      throw err;
    }
  }

  private async pushLoop(signal: AbortSignal, connected: () => void): Promise<void> {
    const create = () => this.subscribePush(signal);
    let subscription = await create();
    this.setState("connected", "");
    connected();
    let heartbeatAtMs = Date.now() + this.o.heartbeatMs;
    while (!this.stopped) {
      await this.sleep(Math.max(0, Math.min(subscription.renewAtMs, heartbeatAtMs) - Date.now()), signal);
      if (Date.now() >= subscription.renewAtMs) subscription = await this.renewOrReplace(subscription, signal, create);
      if (Date.now() >= heartbeatAtMs) {
        // Nothing arrives from a camera that is down: ask it the time so that an outage shows within heartbeatMs.
        await this.call(this.deviceUrl, "GetSystemDateAndTime", REQUEST.getSystemDateAndTime, signal, { authenticate: false });
        heartbeatAtMs = Date.now() + this.o.heartbeatMs;
      }
    }
  }

  private async onNotify(body: string): Promise<void> {
    let messages: NotificationMessage[];
    try {
      messages = readNotify(responseBody(parseXml(body, "Notify from the camera"), "Notify from the camera"));
    } catch (err) {
      this.emit("warning", err as Error);
      throw err;
    }
    await this.handleMessages(messages);
  }

  /** Delivers every alarm in order; rejects with the first delivery failure after trying them all. */
  private async handleMessages(messages: NotificationMessage[]): Promise<void> {
    let failure: Error | null = null;
    for (const message of messages) {
      const { interpretation, event } = this.normalizer.normalize(message);
      if (event) {
        try {
          await this.o.deliver(event);
        } catch (err) {
          this.emit("warning", err as Error);
          failure ??= err as Error;
        }
      }
      const state = this.normalizer.states.get(interpretation.stateKey);
      if (state) this.emit("property", state, event);
    }
    if (failure) throw failure;
  }

  private async unsubscribe(subscription: ActiveSubscription): Promise<void> {
    const signal = AbortSignal.timeout(2000);
    await this.call(subscription.address, "Unsubscribe", REQUEST.unsubscribe, signal, { to: subscription.address, action: ACTION.unsubscribe, timeoutMs: 2000 });
  }
}
