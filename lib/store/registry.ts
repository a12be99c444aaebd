// One Store per database per process: config nodes and the app share it, the last release closes it.
import { storeKey, type StoreConfig } from "./config";
import { Store } from "./store";

interface Entry {
  opening: Promise<Store>;
  users: number;
}

const open = new Map<string, Entry>();

export async function acquireStore(config: StoreConfig): Promise<Store> {
  const key = storeKey(config);
  let entry = open.get(key);
  if (!entry) {
    entry = { opening: Store.open(config), users: 0 };
    open.set(key, entry);
    entry.opening.catch(() => {
      if (open.get(key) === entry) open.delete(key);
    });
  }
  entry.users += 1;
  return entry.opening;
}

export async function releaseStore(store: Store): Promise<void> {
  const key = storeKey(store.config);
  const entry = open.get(key);
  if (!entry) {
    await store.close();
    return;
  }
  entry.users -= 1;
  if (entry.users <= 0) {
    open.delete(key);
    await store.close();
  }
}
