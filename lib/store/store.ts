// Opens the store (SQLite or MySQL/MariaDB through knex), runs migrations and hands out repositories.
import fs from "node:fs";
import path from "node:path";
import { Worker } from "node:worker_threads";
import knexFactory, { type Knex } from "knex";
import { StoreUnavailableError, errorMessage } from "../errors";
import { describeStore, type StoreConfig } from "./config";
import { migrationSource } from "./migrations";
import { cacheStatements, type SqliteConnection } from "./sqlite-direct";
import { AccessRepository } from "./repositories/access";
import { DeviceRepository } from "./repositories/devices";
import { IncidentRepository } from "./repositories/incidents";
import { JournalRepository } from "./repositories/journal";
import { PeopleRepository } from "./repositories/people";
import { ProcessRepository } from "./repositories/process";
import { SchoolRepository } from "./repositories/schools";
import { AuditRepository, UserRepository } from "./repositories/users";

/**
 * knex prints pool errors itself; while a store is opening, Store.open reports the failure in one clear line,
 * so those prints are held back until the store is open.
 */
function storeLogger(isOpen: () => boolean): Knex.Config["log"] {
  const forward = (print: (text: string) => void) => (message: unknown) => {
    if (isOpen()) print(`store: ${typeof message === "string" ? message : JSON.stringify(message)}`);
  };
  return { warn: forward(console.warn), error: forward(console.error), deprecate: forward(console.warn), debug: () => undefined };
}

function knexConfig(config: StoreConfig, isOpen: () => boolean): Knex.Config {
  const log = storeLogger(isOpen);
  if (config.dialect === "sqlite") {
    return {
      log,
      client: "better-sqlite3",
      connection: { filename: config.filename },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        afterCreate: (conn: SqliteConnection, done: (err: Error | null, conn: unknown) => void) => {
          cacheStatements(conn);
          // WAL lets readers run beside the writer; NORMAL syncs at checkpoints, which WAL keeps durable
          // against process crashes (the case that matters for an alarm that was acknowledged).
          conn.pragma("journal_mode = WAL");
          conn.pragma("synchronous = NORMAL");
          conn.pragma("foreign_keys = ON");
          conn.pragma("busy_timeout = 5000");
          // Checkpoints run in a worker thread (see startCheckpointer): an fsync here would stall every flow.
          conn.pragma("wal_autocheckpoint = 0");
          // Up to 64 MiB of pages (SQLite's default is 2 MiB, filled only as pages are read). With 100,000 process
          // instances waiting the indexes a step reads no longer fit in 2 MiB: rehydrating one ran ~25 % slower.
          conn.pragma("cache_size = -65536");
          done(null, conn);
        },
      },
    };
  }
  return {
    log,
    client: "mysql2",
    connection: {
      host: config.host,
      port: config.port,
      user: config.user,
      password: config.password,
      database: config.database,
      charset: "utf8mb4",
      supportBigNumbers: true,
      connectTimeout: 5000,
    },
    pool: { min: 0, max: 10 },
    acquireConnectionTimeout: 10000,
  };
}

export class Store {
  readonly journal: JournalRepository;
  readonly schools: SchoolRepository;
  readonly devices: DeviceRepository;
  readonly people: PeopleRepository;
  readonly incidents: IncidentRepository;
  readonly users: UserRepository;
  readonly audit: AuditRepository;
  readonly access: AccessRepository;
  readonly processes: ProcessRepository;
  private closed = false;
  private checkpointer: Worker | null = null;

  private constructor(
    readonly knex: Knex,
    readonly config: StoreConfig,
  ) {
    this.journal = new JournalRepository(knex);
    this.schools = new SchoolRepository(knex);
    this.devices = new DeviceRepository(knex);
    this.people = new PeopleRepository(knex);
    this.incidents = new IncidentRepository(knex);
    this.users = new UserRepository(knex);
    this.audit = new AuditRepository(knex);
    this.access = new AccessRepository(knex);
    this.processes = new ProcessRepository(knex);
  }

  get dialect(): StoreConfig["dialect"] {
    return this.config.dialect;
  }

  /** Connects, checks the connection and brings the schema up to date. */
  static async open(config: StoreConfig): Promise<Store> {
    if (config.dialect === "sqlite") {
      try {
        fs.mkdirSync(path.dirname(config.filename), { recursive: true });
      } catch (err) {
        throw new StoreUnavailableError(`cannot create the folder for ${describeStore(config)}: ${errorMessage(err)}`, {
          cause: err,
        });
      }
    }
    let opened = false;
    const knex = knexFactory(knexConfig(config, () => opened));
    try {
      await knex.raw("select 1");
    } catch (err) {
      await knex.destroy().catch(() => undefined);
      throw new StoreUnavailableError(`cannot connect to ${describeStore(config)}: ${errorMessage(err)}`, { cause: err });
    }
    try {
      await knex.migrate.latest({ migrationSource });
    } catch (err) {
      await knex.destroy().catch(() => undefined);
      throw new StoreUnavailableError(`cannot migrate ${describeStore(config)}: ${errorMessage(err)}`, { cause: err });
    }
    opened = true;
    const store = new Store(knex, config);
    if (config.dialect === "sqlite") store.startCheckpointer(config.filename);
    return store;
  }

  private startCheckpointer(filename: string): void {
    const worker = new Worker(path.join(__dirname, "checkpoint-worker.js"), { workerData: { filename, intervalMs: 1000 } });
    worker.on("message", (message: unknown) => {
      if (typeof message === "object" && message && "error" in message) console.warn(`store: WAL checkpoint: ${String(message.error)}`);
    });
    worker.on("error", (err) => console.warn(`store: WAL checkpoint worker failed: ${err.message}`));
    worker.unref();
    this.checkpointer = worker;
  }

  private async stopCheckpointer(): Promise<void> {
    const worker = this.checkpointer;
    if (!worker) return;
    this.checkpointer = null;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 2000);
      worker.once("message", () => {
        clearTimeout(timer);
        resolve();
      });
      worker.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      worker.postMessage("stop");
    });
    await worker.terminate();
  }

  /** Applied migration names, oldest first. */
  async migrations(): Promise<string[]> {
    const [completed] = (await this.knex.migrate.list({ migrationSource })) as [Array<{ name: string } | string>, unknown];
    return completed.map((entry) => (typeof entry === "string" ? entry : entry.name));
  }

  async rollbackAll(): Promise<void> {
    await this.knex.migrate.rollback({ migrationSource }, true);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stopCheckpointer();
    if (this.config.dialect === "sqlite") {
      // Fold the WAL into the database file so a closed store is one self-contained file.
      await this.knex.raw("PRAGMA wal_checkpoint(TRUNCATE)").catch(() => undefined);
    }
    await this.knex.destroy();
  }
}
