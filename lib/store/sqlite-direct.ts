// SQLite fast path: queries built with knex run straight on the pooled better-sqlite3 connection. At the process
// engine's rates knex's per-query machinery (runner, transaction object, events) cost more than SQLite's own work.
import type { Knex } from "knex";

/** The few better-sqlite3 calls the fast paths need. */
export interface SqliteStatement {
  readonly reader: boolean;
  run(...params: unknown[]): { changes: number };
  all(...params: unknown[]): unknown[];
}

export interface SqliteConnection {
  readonly inTransaction: boolean;
  pragma(sql: string): unknown;
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
}

export interface KnexPool {
  config: { client?: unknown };
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<void>;
}

const CACHED_STATEMENTS = 256;

/**
 * knex prepares every query anew; the process engine sends the same few dozen statements thousands of times a second,
 * and preparing was a tenth of its time. Statements are kept by SQL text, the least recently used let go.
 */
export function cacheStatements(conn: SqliteConnection): void {
  const prepare = conn.prepare.bind(conn);
  const cache = new Map<string, SqliteStatement>();
  conn.prepare = (sql: string) => {
    let statement = cache.get(sql);
    if (statement !== undefined) {
      cache.delete(sql);
    } else {
      statement = prepare(sql);
      if (cache.size >= CACHED_STATEMENTS) cache.delete(cache.keys().next().value as string);
    }
    cache.set(sql, statement);
    return statement;
  };
}

export function knexPool(knex: Knex): KnexPool {
  return (knex as unknown as { client: KnexPool }).client;
}

export function isBetterSqlite(knex: Knex): boolean {
  return knexPool(knex).config.client === "better-sqlite3";
}

/** knex's better-sqlite3 binding rules: dates as epoch ms, booleans as 0/1. */
function sqliteValue(binding: unknown): unknown {
  if (binding instanceof Date) return binding.valueOf();
  if (typeof binding === "boolean") return Number(binding);
  return binding;
}

function runOn(connection: SqliteConnection, builder: Knex.QueryBuilder): unknown {
  const compiled = builder.toSQL() as Knex.Sql | Knex.Sql[];
  let result: unknown = [];
  for (const { sql, bindings, method } of Array.isArray(compiled) ? compiled : [compiled]) {
    const statement = connection.prepare(sql);
    const params = bindings.map(sqliteValue);
    if (!statement.reader) result = statement.run(...params).changes;
    else result = method === "first" ? statement.all(...params)[0] : statement.all(...params);
  }
  return result;
}

/**
 * A stand-in for a knex transaction (`trx(table)`, `trx.select(…)`, `trx.raw(…)`) whose queries run on `connection`
 * when awaited: selects give rows (`first()` one row), writes the number of rows changed.
 */
function directHandle(knex: Knex, connection: SqliteConnection): Knex.Transaction {
  const attach = (builder: Knex.QueryBuilder): Knex.QueryBuilder => {
    Object.defineProperty(builder, "then", {
      value: (onFulfilled?: (value: unknown) => unknown, onRejected?: (reason: unknown) => unknown) =>
        new Promise((resolve) => resolve(runOn(connection, builder))).then(onFulfilled, onRejected),
    });
    return builder;
  };
  const handle = (table: string) => attach(knex(table));
  handle.select = (...columns: unknown[]) => attach((knex.select as (...args: unknown[]) => Knex.QueryBuilder)(...columns));
  handle.raw = knex.raw.bind(knex);
  return handle as unknown as Knex.Transaction;
}

/**
 * Runs `body` in one transaction: on SQLite directly on the pooled connection (held for the whole body, so nothing
 * else interleaves), elsewhere as a knex transaction. The body sees the same handle either way.
 */
export async function transaction<T>(knex: Knex, body: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  if (!isBetterSqlite(knex)) return knex.transaction(body);
  return withConnection(knex, async (connection) => {
    connection.exec("BEGIN");
    try {
      const result = await body(directHandle(knex, connection));
      connection.exec("COMMIT");
      return result;
    } catch (err) {
      if (connection.inTransaction) connection.exec("ROLLBACK");
      throw err;
    }
  });
}

/** The pooled connection for `work` alone (the pool holds one, so nothing else runs meanwhile), given back after. */
async function withConnection<T>(knex: Knex, work: (connection: SqliteConnection) => Promise<T> | T): Promise<T> {
  const pool = knexPool(knex);
  const connection = (await pool.acquireConnection()) as SqliteConnection;
  try {
    return await work(connection);
  } finally {
    await pool.releaseConnection(connection);
  }
}

/** One query: on SQLite run directly on the pooled connection, elsewhere through knex. */
export async function query<T>(knex: Knex, build: (start: Knex.Transaction) => Knex.QueryBuilder): Promise<T> {
  if (!isBetterSqlite(knex)) return (await build(knex as unknown as Knex.Transaction)) as T;
  return withConnection(knex, (connection) => runOn(connection, build(directHandle(knex, connection))) as T);
}
