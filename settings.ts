// Node-RED settings for the School Safety Flows app, built from the environment (see the README's table).
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import bcrypt from "bcryptjs";
import { ConfigError } from "./lib/errors";

export interface AppSettings {
  host: string;
  port: number;
  dataDir: string;
  adminUser: string;
  /** bcrypt hash, as Node-RED's adminAuth expects. */
  adminPasswordHash: string;
  /** Set only on the first start without ADMIN_PASSWORD: shown once, never stored in plain text. */
  generatedAdminPassword: string | null;
  credentialSecret: string;
  databaseUrl: string | undefined;
  simulatedCampus: boolean;
  logLevel: string;
  /** True when an Authorization header carries the admin login (for dashboards and HTTP-in routes). */
  nodeAuthorized(header: string | undefined): boolean;
  /** Node-RED's own settings object, handed to RED.init. */
  nodeRed: Record<string, unknown>;
}

const ADMIN_FILE = ".admin.json";
const SECRET_FILE = ".credential-secret";
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"];

function parsePort(value: string | undefined): number {
  if (value === undefined || value === "") return 1880;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`PORT must be a whole number from 0 to 65535, got "${value}"`, "PORT");
  }
  return port;
}

function parseFlag(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === "") return fallback;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${name} must be true or false, got "${value}"`, name);
}

function writePrivate(file: string, content: string): void {
  fs.writeFileSync(file, content, { mode: 0o600 });
}

/** The credential secret from the environment, or one generated once and kept in the data folder. */
function credentialSecret(env: NodeJS.ProcessEnv, dataDir: string): string {
  const fromEnv = env.CREDENTIAL_SECRET ?? env.NODE_RED_CREDENTIAL_SECRET;
  if (fromEnv) return fromEnv;
  const file = path.join(dataDir, SECRET_FILE);
  if (fs.existsSync(file)) return fs.readFileSync(file, "utf8").trim();
  const secret = crypto.randomBytes(32).toString("hex");
  writePrivate(file, secret + "\n");
  return secret;
}

interface StoredAdmin {
  username: string;
  hash: string;
}

function adminCredentials(
  env: NodeJS.ProcessEnv,
  dataDir: string,
): { user: string; hash: string; generated: string | null } {
  const user = env.ADMIN_USER;
  const password = env.ADMIN_PASSWORD;
  if (password !== undefined && password !== "") {
    if (password.length < 8) throw new ConfigError("ADMIN_PASSWORD must be at least 8 characters", "ADMIN_PASSWORD");
    return { user: user || "admin", hash: bcrypt.hashSync(password, 10), generated: null };
  }
  const file = path.join(dataDir, ADMIN_FILE);
  if (fs.existsSync(file)) {
    let stored: StoredAdmin;
    try {
      stored = JSON.parse(fs.readFileSync(file, "utf8")) as StoredAdmin;
    } catch {
      throw new ConfigError(`${file} is not valid JSON; delete it to generate a new admin password`, "DATA_DIR");
    }
    if (!stored.hash || !stored.username) {
      throw new ConfigError(`${file} has no username or hash; delete it to generate a new admin password`, "DATA_DIR");
    }
    if (user && user !== stored.username) {
      throw new ConfigError(
        `ADMIN_USER is "${user}" but the data folder's admin is "${stored.username}"; set ADMIN_PASSWORD too to change it`,
        "ADMIN_USER",
      );
    }
    return { user: stored.username, hash: stored.hash, generated: null };
  }
  const generated = crypto.randomBytes(12).toString("base64url");
  const created: StoredAdmin = { username: user || "admin", hash: bcrypt.hashSync(generated, 10) };
  writePrivate(file, JSON.stringify(created, null, 2) + "\n");
  return { user: created.username, hash: created.hash, generated };
}

/** Checks an HTTP Basic Authorization header against the admin account. */
export function basicAuthMatches(header: string | undefined, user: string, hash: string): boolean {
  if (!header || !header.startsWith("Basic ")) return false;
  const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return false;
  return decoded.slice(0, colon) === user && bcrypt.compareSync(decoded.slice(colon + 1), hash);
}

/**
 * A Basic-auth check for every dashboard asset and HTTP-in request. bcrypt is slow on purpose, so headers
 * that were verified once are remembered (a bounded set, keyed by a SHA-256 of the header).
 */
export function basicAuthChecker(user: string, hash: string, remember = 256): (header: string | undefined) => boolean {
  const verified = new Set<string>();
  return (header) => {
    if (!header) return false;
    const key = crypto.createHash("sha256").update(header).digest("hex");
    if (verified.has(key)) return true;
    if (!basicAuthMatches(header, user, hash)) return false;
    if (verified.size >= remember) verified.delete(verified.values().next().value as string);
    verified.add(key);
    return true;
  };
}

export function buildSettings(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): AppSettings {
  const host = env.HOST || "127.0.0.1";
  const port = parsePort(env.PORT);
  const dataDir = path.resolve(cwd, env.DATA_DIR || "./data");
  const logLevel = env.LOG_LEVEL || "info";
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got "${logLevel}"`, "LOG_LEVEL");
  }
  const simulatedCampus = parseFlag("SIMULATED_CAMPUS", env.SIMULATED_CAMPUS, true);
  try {
    fs.mkdirSync(dataDir, { recursive: true });
  } catch (err) {
    throw new ConfigError(`DATA_DIR "${dataDir}" cannot be created: ${(err as Error).message}`, "DATA_DIR", { cause: err });
  }
  const admin = adminCredentials(env, dataDir);
  const secret = credentialSecret(env, dataDir);
  const nodeAuthorized = basicAuthChecker(admin.user, admin.hash);

  const nodeRed: Record<string, unknown> = {
    userDir: dataDir,
    flowFile: "flows.json",
    flowFilePretty: true,
    credentialSecret: secret,
    uiHost: host,
    uiPort: port,
    httpAdminRoot: "/",
    httpNodeRoot: "/",
    adminAuth: {
      type: "credentials",
      users: [{ username: admin.user, password: admin.hash, permissions: "*" }],
    },
    // Dashboards and HTTP-in endpoints need the same login as the editor (the app enforces it in front of
    // httpNode; the dashboard's socket.io does not pass through express, so it checks here too).
    httpNodeAuth: { user: admin.user, pass: admin.hash },
    dashboard: {
      ioMiddleware: (socket: { request: { headers: Record<string, string | undefined> } }, next: (err?: Error) => void) => {
        if (nodeAuthorized(socket.request.headers.authorization)) next();
        else next(new Error("unauthorized"));
      },
    },
    functionExternalModules: false,
    exportGlobalContextKeys: false,
    diagnostics: { enabled: false, ui: false },
    runtimeState: { enabled: false, ui: false },
    telemetry: { enabled: false, updateNotification: false },
    externalModules: { autoInstall: false, palette: { allowInstall: true, allowUpload: false } },
    editorTheme: {
      page: { title: "School Safety Flows · 校安工程" },
      header: { title: "School Safety Flows · 校安工程" },
      projects: { enabled: false },
      tours: false,
      palette: { categories: ["school safety", "common", "function", "network", "dashboard 2"] },
    },
    logging: { console: { level: logLevel, metrics: false, audit: false } },
  };

  return {
    host,
    port,
    dataDir,
    adminUser: admin.user,
    adminPasswordHash: admin.hash,
    generatedAdminPassword: admin.generated,
    credentialSecret: secret,
    databaseUrl: env.DATABASE_URL || undefined,
    simulatedCampus,
    logLevel,
    nodeAuthorized,
    nodeRed,
  };
}
