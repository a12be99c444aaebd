// Store targets for tests: SQLite always, MariaDB/MySQL when MYSQL_URL is set (and required when CI=true).
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import mysql from "mysql2/promise";
import { Store, parseDatabaseUrl, type StoreConfig } from "../../lib/store";

export interface StoreTarget {
  dialect: "sqlite" | "mysql";
  /** A fresh, empty database for one test suite. */
  create(): Promise<StoreConfig>;
  /** Removes what create() made. */
  dispose(config: StoreConfig): Promise<void>;
}

export function tempDir(prefix = "ssf-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

const sqliteTarget: StoreTarget = {
  dialect: "sqlite",
  async create() {
    return { dialect: "sqlite", filename: path.join(tempDir(), "school-safety.db") };
  },
  async dispose(config) {
    if (config.dialect === "sqlite") fs.rmSync(path.dirname(config.filename), { recursive: true, force: true });
  },
};

function mysqlTarget(url: string): StoreTarget {
  const server = parseDatabaseUrl(url.replace(/\/[^/]*$/, "/placeholder"), os.tmpdir(), "MYSQL_URL");
  if (server.dialect !== "mysql") throw new Error("MYSQL_URL must be a mysql:// URL");
  const admin = () =>
    mysql.createConnection({ host: server.host, port: server.port, user: server.user, password: server.password });
  return {
    dialect: "mysql",
    async create() {
      const database = `ssf_test_${crypto.randomBytes(5).toString("hex")}`;
      const connection = await admin();
      try {
        await connection.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      } finally {
        await connection.end();
      }
      return { ...server, database };
    },
    async dispose(config) {
      if (config.dialect !== "mysql") return;
      const connection = await admin();
      try {
        await connection.query(`DROP DATABASE IF EXISTS \`${config.database}\``);
      } finally {
        await connection.end();
      }
    },
  };
}

/**
 * The databases every store test runs against. In CI a missing MYSQL_URL is a failure, not a skip:
 * the MySQL suite is still declared and fails with the reason.
 */
export function storeTargets(): StoreTarget[] {
  const url = process.env.MYSQL_URL;
  if (url) return [sqliteTarget, mysqlTarget(url)];
  if (process.env.CI === "true") {
    return [
      sqliteTarget,
      {
        dialect: "mysql",
        create: async () => {
          throw new Error("CI=true but MYSQL_URL is not set: .ci/run must start MariaDB and export MYSQL_URL");
        },
        dispose: async () => undefined,
      },
    ];
  }
  return [sqliteTarget];
}

/**
 * Declares `body` once per store target, each with a fresh migrated Store in `ctx.store`.
 */
export function describeEachStore(title: string, body: (ctx: { store: Store; config: StoreConfig }) => void): void {
  for (const target of storeTargets()) {
    describe(`${title} [${target.dialect}]`, function () {
      const ctx = {} as { store: Store; config: StoreConfig };
      before(async function () {
        this.timeout(60000);
        ctx.config = await target.create();
        ctx.store = await Store.open(ctx.config);
      });
      after(async function () {
        if (ctx.store) await ctx.store.close();
        if (ctx.config) await target.dispose(ctx.config);
      });
      body(ctx);
    });
  }
}
