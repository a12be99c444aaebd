// Turns DATABASE_URL (or its absence) into a store configuration: SQLite by default, MySQL/MariaDB for production.
import path from "node:path";
import { ConfigError } from "../errors";

export type StoreConfig =
  | { dialect: "sqlite"; filename: string }
  | {
      dialect: "mysql";
      host: string;
      port: number;
      user: string;
      password: string;
      database: string;
    };

export const DEFAULT_SQLITE_FILE = "school-safety.db";

/**
 * Reads a database URL. Accepted: unset (SQLite in dataDir), `sqlite:<path>` / `sqlite://<abs path>`,
 * `mysql://user:password@host:port/database` (also `mariadb://`).
 */
export function parseDatabaseUrl(url: string | undefined, dataDir: string, setting = "DATABASE_URL"): StoreConfig {
  if (url === undefined || url.trim() === "") {
    return { dialect: "sqlite", filename: path.resolve(dataDir, DEFAULT_SQLITE_FILE) };
  }
  const trimmed = url.trim();
  const sqlite = /^sqlite:(\/\/)?(.+)$/i.exec(trimmed);
  if (sqlite) {
    const file = sqlite[2];
    return { dialect: "sqlite", filename: path.resolve(dataDir, file) };
  }
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    throw new ConfigError(
      `${setting} is not a valid URL; use mysql://user:password@host:3306/database, sqlite:<file>, or leave it unset for SQLite in the data folder`,
      setting,
    );
  }
  const scheme = parsed.protocol.replace(/:$/, "").toLowerCase();
  if (scheme !== "mysql" && scheme !== "mariadb") {
    throw new ConfigError(
      `${setting} has unsupported scheme "${scheme}:"; use mysql://user:password@host:3306/database or sqlite:<file>`,
      setting,
    );
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  if (!parsed.hostname) throw new ConfigError(`${setting} names no host`, setting);
  if (!database) throw new ConfigError(`${setting} names no database (mysql://user:password@host:3306/database)`, setting);
  if (!parsed.username) throw new ConfigError(`${setting} names no user`, setting);
  const port = parsed.port ? Number(parsed.port) : 3306;
  return {
    dialect: "mysql",
    host: parsed.hostname,
    port,
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database,
  };
}

/** A key that is equal for two configs that reach the same database (used to share one pool). */
export function storeKey(config: StoreConfig): string {
  if (config.dialect === "sqlite") return `sqlite:${config.filename}`;
  return `mysql://${config.user}@${config.host}:${config.port}/${config.database}`;
}

/** The config as it may be shown to people: never the password. */
export function describeStore(config: StoreConfig): string {
  if (config.dialect === "sqlite") return `SQLite ${config.filename}`;
  return `MySQL ${config.user}@${config.host}:${config.port}/${config.database}`;
}

/** How a safety-store config node in a flow says where its database is. */
export interface StoreNodeSettings {
  /** "app": DATABASE_URL if set, else school-safety.db in the Node-RED user folder. */
  mode: "app" | "sqlite" | "mysql";
  filename?: string;
  host?: string;
  port?: number | string;
  database?: string;
  user?: string;
  /** From the node's credentials, never from the flow file. */
  password?: string;
}

export function storeConfigFromNode(
  settings: StoreNodeSettings,
  env: NodeJS.ProcessEnv,
  userDir: string,
): StoreConfig {
  switch (settings.mode ?? "app") {
    case "app":
      return parseDatabaseUrl(env.DATABASE_URL, userDir);
    case "sqlite": {
      const filename = (settings.filename ?? "").trim() || DEFAULT_SQLITE_FILE;
      return { dialect: "sqlite", filename: path.resolve(userDir, filename) };
    }
    case "mysql": {
      const host = (settings.host ?? "").trim();
      const database = (settings.database ?? "").trim();
      const user = (settings.user ?? "").trim();
      const port = Number(settings.port || 3306);
      if (!host) throw new ConfigError("MySQL store: host is empty", "host");
      if (!database) throw new ConfigError("MySQL store: database is empty", "database");
      if (!user) throw new ConfigError("MySQL store: user is empty", "user");
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new ConfigError(`MySQL store: port must be 1-65535, got "${settings.port}"`, "port");
      }
      return { dialect: "mysql", host, port, user, password: settings.password ?? "", database };
    }
    default:
      throw new ConfigError(`store mode must be app, sqlite or mysql, got "${String(settings.mode)}"`, "mode");
  }
}
