// Public surface of lib/events.
export * from "./safety-event";
export * from "./journal-writer";
