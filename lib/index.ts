// The library surface for code that embeds School Safety Flows without Node-RED (tools, other runtimes).
export * from "./errors";
export * from "./events";
export * from "./store";
export * from "./access/messages";
