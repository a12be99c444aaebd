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

function runCompiled(connection: SqliteConnection, compiled: Knex.Sql | Knex.Sql[], value: (binding: unknown) => unknown): unknown {
  let result: unknown = [];
  for (const { sql, bindings, method } of Array.isArray(compiled) ? compiled : [compiled]) {
    const statement = connection.prepare(sql);
    const params = bindings.map(value);
    if (!statement.reader) result = statement.run(...params).changes;
    else result = method === "first" ? statement.all(...params)[0] : statement.all(...params);
  }
  return result;
}

function runOn(connection: SqliteConnection, builder: Knex.QueryBuilder): unknown {
  return runCompiled(connection, builder.toSQL() as Knex.Sql | Knex.Sql[], sqliteValue);
}

/** The connection behind a handle made by directHandle. */
const kConnection = Symbol("sqliteConnection");

/** Stands for the value at an index while a shaped query is compiled (a string, so knex binds it as it is). */
const PARAM = "\u0000ssf-param:";
const CACHED_SHAPES = 512;
const shapes = new Map<string, Knex.Sql | Knex.Sql[]>();

/**
 * A query whose SQL depends only on `shape` — the same table, columns and number of values whatever the values are —
 * built by `build` from `values`. On SQLite knex compiles it once per shape (compiling was most of the store's time at
 * the process engine's rates) and it runs with each call's values; elsewhere knex builds and runs it as usual. `build`
 * must not make the SQL depend on a value (a null compared in a where clause, say, would become `is null`).
 */
export function shaped<T>(trx: Knex.Transaction, shape: string, values: unknown[], build: (values: unknown[]) => Knex.QueryBuilder): Promise<T> {
  const connection = (trx as unknown as Record<symbol, SqliteConnection | undefined>)[kConnection];
  if (!connection) return build(values) as unknown as Promise<T>;
  let compiled = shapes.get(shape);
  if (!compiled) {
    compiled = build(values.map((_, index) => PARAM + index)).toSQL() as Knex.Sql | Knex.Sql[];
    if (shapes.size >= CACHED_SHAPES) shapes.delete(shapes.keys().next().value as string);
    shapes.set(shape, compiled);
  }
  const template = compiled;
  return new Promise<T>((resolve) => {
    resolve(
      runCompiled(connection, template, (binding) => {
        if (typeof binding === "string" && binding.startsWith(PARAM)) return sqliteValue(values[Number(binding.slice(PARAM.length))] ?? null);
        return sqliteValue(binding);
      }) as T,
    );
  });
}

/** Inserts `rows` (made by one function, so their columns come in one order) through a shaped query. */
export function insertRows(trx: Knex.Transaction, table: string, rows: Array<Record<string, unknown>>): Promise<unknown> {
  const columns = Object.keys(rows[0]);
  const values = rows.flatMap((row) => columns.map((column) => row[column]));
  return shaped(trx, `insert ${table} ${rows.length} ${columns.join(",")}`, values, (params) =>
    trx(table).insert(rows.map((_, row) => Object.fromEntries(columns.map((column, index) => [column, params[row * columns.length + index]])))),
  );
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
  (handle as unknown as Record<symbol, SqliteConnection>)[kConnection] = connection;
  handle.select = (...columns: unknown[]) => attach((knex.select as (...args: unknown[]) => Knex.QueryBuilder)(...columns));
  handle.raw = knex.raw.bind(knex);
  return handle as unknown as Knex.Transaction;
}

/**
 * Runs `body` in one transaction: on SQLite directly on the pooled connection, elsewhere as a knex transaction. The
 * body sees the same handle either way.
 *
 * On SQLite, transactions asked for together are committed together (group commit): each body runs alone in a
 * savepoint of one transaction (a body that fails is rolled back to its savepoint, the others are kept), bodies asked
 * for meanwhile join it, and it is committed as soon as none is waiting. Every caller's promise
 * settles only after that commit, so nothing is acknowledged before it is committed. COMMIT was half of the store's time
 * at the process engine's rates (one WAL write of every page touched, per transaction).
 */
export async function transaction<T>(knex: Knex, body: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  if (!isBetterSqlite(knex)) return knex.transaction(body);
  let group = groups.get(knex);
  if (!group) groups.set(knex, (group = new GroupCommit(knex)));
  return group.run(body);
}

/** At most this many bodies share a commit, so one commit never waits long. */
const GROUP_LIMIT = 256;

interface GroupedBody {
  body: (trx: Knex.Transaction) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

const groups = new WeakMap<Knex, GroupCommit>();

class GroupCommit {
  private readonly waiting: GroupedBody[] = [];
  private draining = false;

  constructor(private readonly knex: Knex) {}

  run<T>(body: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ body, resolve: resolve as (value: unknown) => void, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      await withConnection(this.knex, async (connection) => {
        while (this.waiting.length) await this.commitGroup(connection);
      });
    } catch (err) {
      // The connection could not be had: nothing ran.
      for (const grouped of this.waiting.splice(0)) grouped.reject(err);
    } finally {
      this.draining = false;
      // Bodies that came while the connection was being given back.
      if (this.waiting.length) void this.drain();
    }
  }

  private async commitGroup(connection: SqliteConnection): Promise<void> {
    try {
      connection.exec("BEGIN");
    } catch (err) {
      // No transaction to put them in: every body waiting now hears why (none has run).
      for (const grouped of this.waiting.splice(0)) grouped.reject(err);
      return;
    }
    const ran: Array<{ grouped: GroupedBody; value: unknown }> = [];
    let running: GroupedBody | null = null;
    try {
      // Bodies asked for while earlier ones run (other instances' steps, between the statements' promise jobs) join.
      while (this.waiting.length && ran.length < GROUP_LIMIT) {
        running = this.waiting.shift() as GroupedBody;
        connection.exec("SAVEPOINT ssf_body");
        try {
          const value = await running.body(directHandle(this.knex, connection));
          connection.exec("RELEASE ssf_body");
          ran.push({ grouped: running, value });
        } catch (err) {
          // SQLite rolled the whole transaction back (I/O error, disk full): the bodies before it are gone too.
          if (!connection.inTransaction) throw err;
          connection.exec("ROLLBACK TO ssf_body");
          connection.exec("RELEASE ssf_body");
          running.reject(err);
        }
        running = null;
      }
      connection.exec("COMMIT");
    } catch (err) {
      if (connection.inTransaction) connection.exec("ROLLBACK");
      running?.reject(err);
      for (const { grouped } of ran) grouped.reject(err);
      return;
    }
    for (const { grouped, value } of ran) grouped.resolve(value);
  }
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

/** One shaped query (see shaped) on its own: on SQLite run directly on the pooled connection, elsewhere through knex. */
export async function queryShaped<T>(knex: Knex, shape: string, values: unknown[], build: (start: Knex.Transaction, values: unknown[]) => Knex.QueryBuilder): Promise<T> {
  if (!isBetterSqlite(knex)) return (await build(knex as unknown as Knex.Transaction, values)) as T;
  return withConnection(knex, (connection) => {
    const handle = directHandle(knex, connection);
    return shaped<T>(handle, shape, values, (params) => build(handle, params));
  });
}
