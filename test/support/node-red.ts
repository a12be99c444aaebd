// Boots node-red-node-test-helper against the project's node-red, with a temporary user folder per run.
import helper from "node-red-node-test-helper";
import { tempDir } from "./stores";

let initialised = false;

export function nodeRedHelper(): typeof helper {
  if (!initialised) {
    helper.init(require.resolve("node-red"), { userDir: tempDir("ssf-nr-") } as unknown as Parameters<typeof helper.init>[1]);
    initialised = true;
  }
  return helper;
}

/** The parts of a loaded test node the specs use (the helper's own typings are loose). */
export interface TestNode {
  on(event: string, listener: (value: any) => void): void;
  receive(msg: unknown): void;
}

export function testNode(id: string): TestNode {
  return nodeRedHelper().getNode(id) as unknown as TestNode;
}

/** Node-RED's core catch node, for specs that check errors reach a Catch node. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const catchNode: any = require("@node-red/nodes/core/common/25-catch.js");

/** Puts every node of a test flow on one tab, so Node-RED does not take it for a config node. */
export function onTab(nodes: Array<Record<string, unknown>>, configTypes: string[] = []): Parameters<typeof helper.load>[1] {
  return [
    { id: "tab", type: "tab", label: "test" },
    ...nodes.map((node) => (configTypes.includes(String(node.type)) ? node : { z: "tab", x: 100, y: 100, ...node })),
  ] as unknown as Parameters<typeof helper.load>[1];
}
