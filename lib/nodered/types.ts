// Types that nodes share: the shape other nodes see of a config node.
import type { Node } from "node-red";
import type { JournalWriter } from "../events";
import type { OsdpControlPanel } from "../devices/osdp/control-panel";
import type { Store } from "../store";

export interface SafetyStoreNode extends Node<{ password?: string }> {
  /** Opens the store on first use; later calls share it. Rejects with a clear reason. */
  store(): Promise<Store>;
  /** The group-commit journal writer shared by every event-journal node on this store. */
  journalWriter(): Promise<JournalWriter>;
  /** Where the store is, for status and logs (never the password). */
  describe(): string;
}

/** The osdp-bus config node as door nodes see it. */
export interface OsdpBusNode extends Node<{ scbk?: string }> {
  /** Set when the line cannot run as configured (e.g. a missing key with Secure Channel on). */
  configError: string | null;
  panel: OsdpControlPanel | null;
  /** Port state for the door nodes' status: "open", or the reason it is not. */
  lineState(): string;
  onLineState(listener: (state: string) => void): () => void;
}
