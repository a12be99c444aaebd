// Public surface of lib/process: the ProcessEngine port, its errors and the embedded engine.
export * from "./engine";
export * from "./errors";
export { EmbeddedProcessEngine, type EmbeddedEngineOptions } from "./embedded/embedded-engine";
