// One process engine per store and school in this process: config nodes share it, the last release closes it.
import { acquireStore, releaseStore, type Store } from "../store";
import type { ProcessEngine } from "./engine";
import { EmbeddedProcessEngine } from "./embedded/embedded-engine";

export type EngineKind = "embedded";
export const ENGINE_KINDS: readonly EngineKind[] = ["embedded"];

export interface EngineSettings {
  kind: EngineKind;
  /** A job without an outcome by then is taken back and offered again. */
  defaultJobTimeoutMs?: number;
}

interface Entry {
  opening: Promise<ProcessEngine>;
  users: number;
  kind: EngineKind;
}

const engines = new Map<Store, Map<string, Entry>>();

/**
 * The engine of a school on a store, opened on first use. The engine holds a store reference of its own, so a store
 * node that closes first does not pull the store from under a closing engine.
 */
export function acquireProcessEngine(store: Store, schoolId: string, settings: EngineSettings): Promise<ProcessEngine> {
  let bySchool = engines.get(store);
  if (!bySchool) {
    bySchool = new Map();
    engines.set(store, bySchool);
  }
  let entry = bySchool.get(schoolId);
  if (entry && entry.kind !== settings.kind) {
    return Promise.reject(new Error(`school ${schoolId} already runs a ${entry.kind} engine on this store; one kind per school`));
  }
  if (!entry) {
    const opening = (async () => {
      const own = await acquireStore(store.config);
      try {
        return await EmbeddedProcessEngine.open({ store: own, schoolId, defaultJobTimeoutMs: settings.defaultJobTimeoutMs });
      } catch (err) {
        await releaseStore(own);
        throw err;
      }
    })();
    const created: Entry = { opening, users: 0, kind: settings.kind };
    entry = created;
    bySchool.set(schoolId, created);
    opening.catch(() => {
      if (bySchool.get(schoolId) === created) bySchool.delete(schoolId);
    });
  }
  entry.users += 1;
  return entry.opening;
}

/** Lets go of the engine; resolves true when this was the last user and the engine closed. */
export async function releaseProcessEngine(store: Store, schoolId: string): Promise<boolean> {
  const bySchool = engines.get(store);
  const entry = bySchool?.get(schoolId);
  if (!bySchool || !entry) return false;
  entry.users -= 1;
  if (entry.users > 0) return false;
  bySchool.delete(schoolId);
  if (bySchool.size === 0) engines.delete(store);
  const engine = await entry.opening.catch(() => null);
  if (!engine) return true;
  await engine.close();
  await releaseStore(store);
  return true;
}
