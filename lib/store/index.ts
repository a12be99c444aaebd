// Public surface of lib/store.
export * from "./config";
export * from "./domain";
export * from "./registry";
export * from "./store";
export { JournalRepository, type JournalQuery } from "./repositories/journal";
export { STANDARD_ROLES, type NewUser } from "./repositories/users";
export type { NewIncident } from "./repositories/incidents";
export type { PassLogEntry, PassLogQuery, PassLogRecord, EncryptedBlob } from "./repositories/access";
export { ProcessRepository } from "./repositories/process";
export type * from "./repositories/process";
