// One school's live access control: the current index (rebuilt in the background on change), decisions, pass log.
import type { Store } from "../store";
import { compileIndexAsync, decide, toAccessDecision, withMode, type AccessIndex, type PassbackState } from "./decision";
import type { AccessDecision, AccessRequest } from "./messages";
import type { AccessMode } from "./model";
import { PassLogWriter } from "./pass-log-writer";

export interface AccessControlEvents {
  onRebuilt?(index: AccessIndex, ms: number): void;
  onError?(err: unknown): void;
}

export class AccessControl {
  private index: AccessIndex | null = null;
  private readonly passback: PassbackState = new Map();
  private rebuildTimer: NodeJS.Timeout | null = null;
  private rebuilding: Promise<void> | null = null;
  private rebuildAgain = false;
  readonly passLog: PassLogWriter;
  private readonly onChanged = (schoolId: string) => {
    if (schoolId === this.schoolId) this.scheduleRebuild();
  };
  private readonly onMode = (schoolId: string, mode: AccessMode) => {
    if (schoolId === this.schoolId && this.index) this.index = withMode(this.index, mode);
  };

  constructor(
    private readonly store: Store,
    readonly schoolId: string,
    private readonly events: AccessControlEvents = {},
  ) {
    this.passLog = new PassLogWriter(store.access, { onError: (err) => events.onError?.(err) });
    store.access.on("changed", this.onChanged);
    store.access.on("mode", this.onMode);
  }

  get ready(): boolean {
    return this.index !== null;
  }

  get current(): AccessIndex | null {
    return this.index;
  }

  /** Compiles a new index from the store; decisions keep using the old one until it is swapped in. */
  async rebuild(): Promise<void> {
    if (this.rebuilding) {
      this.rebuildAgain = true;
      return this.rebuilding;
    }
    this.rebuilding = (async () => {
      do {
        this.rebuildAgain = false;
        const started = Date.now();
        const snapshot = await this.store.access.snapshot(this.schoolId);
        const next = await compileIndexAsync(snapshot);
        this.index = next;
        this.events.onRebuilt?.(next, Date.now() - started);
      } while (this.rebuildAgain);
    })().finally(() => {
      this.rebuilding = null;
    });
    return this.rebuilding;
  }

  private scheduleRebuild(): void {
    if (this.rebuildTimer) clearTimeout(this.rebuildTimer);
    this.rebuildTimer = setTimeout(() => {
      this.rebuildTimer = null;
      this.rebuild().catch((err: unknown) => this.events.onError?.(err));
    }, 100);
  }

  async setMode(mode: AccessMode, actor: string): Promise<void> {
    if (this.index) this.index = withMode(this.index, mode);
    await this.store.access.setMode(this.schoolId, mode, actor);
  }

  /** Decides at the time of the request, logs it, and returns the message for the door. */
  decide(request: AccessRequest, nowMs = Date.now()): AccessDecision {
    const index = this.index;
    if (!index) throw new Error("access index not built yet");
    const atMs = Date.parse(request.occurredAt);
    const result = decide(index, request, Number.isFinite(atMs) ? atMs : nowMs, this.passback);
    this.passLog.add({
      schoolId: this.schoolId,
      requestId: request.requestId,
      doorId: request.doorId,
      readerId: request.readerId,
      personId: result.personId,
      classId: result.classId,
      credentialKind: request.credential.kind,
      granted: result.granted,
      reason: result.reason,
      direction: request.direction ?? null,
      atMs: Number.isFinite(atMs) ? atMs : nowMs,
    });
    return toAccessDecision(index, request, result, nowMs);
  }

  async close(): Promise<number> {
    if (this.rebuildTimer) clearTimeout(this.rebuildTimer);
    this.store.access.off("changed", this.onChanged);
    this.store.access.off("mode", this.onMode);
    if (this.rebuilding) await this.rebuilding.catch(() => undefined);
    return this.passLog.drain();
  }
}

interface Shared {
  control: AccessControl;
  users: number;
  listeners: Set<AccessControlEvents>;
}
const sharedControls = new WeakMap<Store, Map<string, Shared>>();

/**
 * One AccessControl per store and school, shared by every node deciding for that school: one index in memory,
 * one pass-log writer. Release it with releaseAccessControl; the last release drains the pass log.
 */
export function acquireAccessControl(store: Store, schoolId: string, events: AccessControlEvents = {}): AccessControl {
  let bySchool = sharedControls.get(store);
  if (!bySchool) {
    bySchool = new Map();
    sharedControls.set(store, bySchool);
  }
  let shared = bySchool.get(schoolId);
  if (!shared) {
    const listeners = new Set<AccessControlEvents>();
    const control = new AccessControl(store, schoolId, {
      onRebuilt: (index, ms) => listeners.forEach((l) => l.onRebuilt?.(index, ms)),
      onError: (err) => listeners.forEach((l) => l.onError?.(err)),
    });
    shared = { control, users: 0, listeners };
    bySchool.set(schoolId, shared);
  }
  shared.users += 1;
  shared.listeners.add(events);
  return shared.control;
}

export async function releaseAccessControl(store: Store, control: AccessControl, events: AccessControlEvents = {}): Promise<void> {
  const bySchool = sharedControls.get(store);
  const shared = bySchool?.get(control.schoolId);
  if (!bySchool || !shared || shared.control !== control) return;
  shared.listeners.delete(events);
  shared.users -= 1;
  if (shared.users > 0) return;
  bySchool.delete(control.schoolId);
  await control.close();
}
