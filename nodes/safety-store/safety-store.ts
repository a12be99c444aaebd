// safety-store: the config node that gives flows one shared store (SQLite by default, MySQL/MariaDB in production).
import type { Node, NodeAPI, NodeDef } from "node-red";
import { sharedJournalWriter } from "../../lib/events";
import type { SafetyStoreNode } from "../../lib/nodered/types";
import {
  acquireStore,
  describeStore,
  releaseStore,
  storeConfigFromNode,
  type Store,
  type StoreConfig,
  type StoreNodeSettings,
} from "../../lib/store";

interface SafetyStoreDef extends NodeDef {
  mode: StoreNodeSettings["mode"];
  filename: string;
  host: string;
  port: string;
  database: string;
  user: string;
}


export = function register(RED: NodeAPI): void {
  function SafetyStore(this: SafetyStoreNode, def: SafetyStoreDef): void {
    RED.nodes.createNode(this, def);
    const userDir = (RED.settings as unknown as { userDir?: string }).userDir ?? process.cwd();
    let config: StoreConfig | null = null;
    let configError: Error | null = null;
    try {
      config = storeConfigFromNode(
        { ...def, password: this.credentials?.password },
        process.env,
        userDir,
      );
    } catch (err) {
      configError = err as Error;
      this.error(RED._("safety-store.errors.config", { reason: configError.message }));
    }
    let opening: Promise<Store> | null = null;

    this.describe = () => (config ? describeStore(config) : RED._("safety-store.errors.invalid"));

    this.store = () => {
      if (configError) return Promise.reject(configError);
      if (!opening) {
        opening = acquireStore(config as StoreConfig);
        opening.catch((err: Error) => {
          this.error(RED._("safety-store.errors.open", { store: this.describe(), reason: err.message }));
          opening = null;
        });
      }
      return opening;
    };

    this.journalWriter = async () => sharedJournalWriter(await this.store());

    this.on("close", (done: () => void) => {
      const current = opening;
      opening = null;
      if (!current) {
        done();
        return;
      }
      current
        .then(async (store) => {
          await sharedJournalWriter(store).drain();
          await releaseStore(store);
        })
        .catch(() => undefined)
        .finally(done);
    });
  }

  RED.nodes.registerType("safety-store", SafetyStore as unknown as (this: Node, def: NodeDef) => void, {
    credentials: { password: { type: "password" } },
  });
};
