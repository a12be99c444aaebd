// Device health: who was seen when, and the online/offline transitions that follow from heartbeat timeouts.

export type HealthStatus = "online" | "offline" | "unknown";

export interface HealthTransition {
  deviceId: string;
  status: "online" | "offline";
  /** When the device was last seen (for offline: the silence began then). */
  lastSeenMs: number;
  atMs: number;
}

export interface TrackedDevice {
  deviceId: string;
  kind: string;
  status: HealthStatus;
  lastSeenMs: number | null;
}

export interface HealthOptions {
  /** Silence after which a device is offline, by device kind; `default` for the rest. */
  timeoutMsByKind: Record<string, number> & { default: number };
}

export class DeviceHealthTracker {
  private readonly devices = new Map<string, { kind: string; status: HealthStatus; lastSeenMs: number }>();

  constructor(
    private readonly options: HealthOptions,
    private readonly startedAtMs: number,
  ) {}

  /** Devices known from the store: one never seen counts from the tracker's start, so it goes offline after one timeout. */
  load(devices: readonly TrackedDevice[]): void {
    for (const device of devices) {
      this.devices.set(device.deviceId, { kind: device.kind, status: device.status, lastSeenMs: device.lastSeenMs ?? this.startedAtMs });
    }
  }

  timeoutFor(kind: string): number {
    return this.options.timeoutMsByKind[kind] ?? this.options.timeoutMsByKind.default;
  }

  /** A sign of life. Returns the transition to online when the device was offline or unknown. */
  seen(deviceId: string, atMs: number, kind = "unknown"): HealthTransition | null {
    const device = this.devices.get(deviceId);
    if (!device) {
      this.devices.set(deviceId, { kind, status: "online", lastSeenMs: atMs });
      return { deviceId, status: "online", lastSeenMs: atMs, atMs };
    }
    device.lastSeenMs = Math.max(device.lastSeenMs, atMs);
    if (device.status === "online") return null;
    device.status = "online";
    return { deviceId, status: "online", lastSeenMs: atMs, atMs };
  }

  /** Another node already reported this device's state (e.g. a door node's device-offline): follow it without a transition. */
  follow(deviceId: string, status: "online" | "offline", atMs: number, kind = "unknown"): void {
    const device = this.devices.get(deviceId);
    if (!device) {
      this.devices.set(deviceId, { kind, status, lastSeenMs: atMs });
      return;
    }
    device.status = status;
    if (status === "online") device.lastSeenMs = Math.max(device.lastSeenMs, atMs);
  }

  /** Devices silent for longer than their timeout become offline, once. */
  check(nowMs: number): HealthTransition[] {
    const transitions: HealthTransition[] = [];
    for (const [deviceId, device] of this.devices) {
      if (device.status === "offline") continue;
      if (nowMs - device.lastSeenMs > this.timeoutFor(device.kind)) {
        device.status = "offline";
        transitions.push({ deviceId, status: "offline", lastSeenMs: device.lastSeenMs, atMs: nowMs });
      }
    }
    return transitions;
  }

  status(deviceId: string): HealthStatus {
    return this.devices.get(deviceId)?.status ?? "unknown";
  }

  counts(): { online: number; offline: number; unknown: number } {
    const counts = { online: 0, offline: 0, unknown: 0 };
    for (const device of this.devices.values()) counts[device.status] += 1;
    return counts;
  }
}
