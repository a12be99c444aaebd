// The store's transaction helper: the same body runs as a knex transaction (MySQL/MariaDB) or directly on SQLite's
// pooled connection, with the same results, and a failure leaves nothing behind.
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { insertRows, knexPool, queryShaped, shaped, transaction } from "../../../lib/store/sqlite-direct";
import { describeEachStore } from "../../support/stores";

describeEachStore("store transactions", (ctx) => {
  const history = (instanceId: string, action: string) => ({
    school_id: "s1",
    instance_id: instanceId,
    at: Date.now(),
    element_id: "e",
    element_type: null,
    action,
    details: "{}",
  });

  it("commits every statement of the body together, and reads see them with rows, first() and counts", async function () {
    const changed = await transaction(ctx.store.knex, async (trx) => {
      await trx("process_history").insert([history("tx-1", "one"), history("tx-1", "two")]);
      return trx("process_history").where({ instance_id: "tx-1", action: "two" }).update({ action: "second" });
    });
    assert.equal(Number(changed), 1);
    const rows = await queryShaped<Array<{ action: string }>>(ctx.store.knex, "history actions", ["tx-1"], (start, [id]) => start("process_history").where({ instance_id: id }).orderBy("action"));
    assert.deepEqual(rows.map((row) => row.action), ["one", "second"]);
    const first = await queryShaped<{ action: string } | undefined>(ctx.store.knex, "first history action", ["tx-1"], (start, [id]) => start("process_history").where({ instance_id: id }).orderBy("action").first());
    assert.equal(first?.action, "one");
  });

  it("rolls back the whole body when a statement fails, passes the error on and leaves the connection usable", async function () {
    await assert.rejects(
      transaction(ctx.store.knex, async (trx) => {
        await trx("process_history").insert(history("tx-2", "kept-only-if-committed"));
        await trx("process_no_such_table").insert({ id: 1 });
      }),
      /process_no_such_table/,
    );
    const left = await queryShaped<unknown[]>(ctx.store.knex, "history rows", ["tx-2"], (start, [id]) => start("process_history").where({ instance_id: id }));
    assert.deepEqual(left, []);
    await transaction(ctx.store.knex, async (trx) => trx("process_history").insert(history("tx-3", "after")));
    assert.equal((await ctx.store.knex("process_history").where({ instance_id: "tx-3" })).length, 1);
  });

  it("runs a shaped query with each call's values: inserts of one and of several rows, nulls, updates and reads by the same shapes", async function () {
    await transaction(ctx.store.knex, async (trx) => {
      await insertRows(trx, "process_history", [history("shape-1", "one")]);
      await insertRows(trx, "process_history", [history("shape-2", "two")]);
      await insertRows(trx, "process_history", [history("shape-3", "three"), { ...history("shape-3", "four"), element_id: null }]);
      await insertRows(trx, "process_history", [history("shape-4", "five"), history("shape-4", "six")]);
    });
    const actions = async (instanceId: string) =>
      (await ctx.store.knex("process_history").where({ instance_id: instanceId }).orderBy("action")).map((row: { action: string; element_id: string | null }) => `${row.action}:${row.element_id}`);
    assert.deepEqual(await actions("shape-1"), ["one:e"]);
    assert.deepEqual(await actions("shape-2"), ["two:e"]);
    assert.deepEqual(await actions("shape-3"), ["four:null", "three:e"]);
    assert.deepEqual(await actions("shape-4"), ["five:e", "six:e"]);

    const rename = (instanceId: string, from: string, to: string) =>
      transaction(ctx.store.knex, (trx) =>
        shaped<number>(trx, "rename history action", [to, instanceId, from], ([action, id, old]) => trx("process_history").where({ instance_id: id, action: old }).update({ action })),
      );
    assert.equal(Number(await rename("shape-1", "one", "first")), 1);
    assert.equal(Number(await rename("shape-2", "two", "second")), 1);
    assert.equal(Number(await rename("shape-2", "absent", "never")), 0);
    assert.deepEqual(await actions("shape-1"), ["first:e"]);
    assert.deepEqual(await actions("shape-2"), ["second:e"]);

    const firstOf = (instanceId: string) =>
      queryShaped<{ action: string } | undefined>(ctx.store.knex, "first history action", [instanceId], (start, [id]) =>
        start("process_history").where({ instance_id: id }).orderBy("action").first(),
      );
    assert.equal((await firstOf("shape-3"))?.action, "four");
    assert.equal((await firstOf("shape-4"))?.action, "five");
    assert.equal(await firstOf("shape-none"), undefined);
  });

  it("commits transactions asked for together as a group: a failing body loses only its own rows, and each caller hears only after the commit", async function () {
    // Another connection to the same file sees only what is committed.
    const outside = ctx.config.dialect === "sqlite" ? new Database(ctx.config.filename, { readonly: true }) : null;
    const committedRows = (instanceId: string) =>
      outside
        ? (outside.prepare("select count(*) as n from process_history where instance_id = ?").get(instanceId) as { n: number }).n
        : null;
    try {
      const seenWhenHeard: Array<number | null> = [];
      const outcomes = await Promise.allSettled(
        Array.from({ length: 40 }, (_, index) =>
          transaction(ctx.store.knex, async (trx) => {
            await insertRows(trx, "process_history", [history(`group-${index}`, "step")]);
            if (index === 13) throw new Error("body 13 fails after its insert");
            return index;
          }).then((value) => {
            seenWhenHeard.push(committedRows(`group-${index}`));
            return value;
          }),
        ),
      );
      assert.equal(outcomes.filter((outcome) => outcome.status === "fulfilled").length, 39);
      const failed = outcomes[13];
      assert.equal(failed.status, "rejected");
      assert.match(String((failed as PromiseRejectedResult).reason), /body 13 fails/);
      const rows = await ctx.store.knex("process_history").where("instance_id", "like", "group-%");
      assert.equal(rows.length, 39);
      assert.ok(!rows.some((row: { instance_id: string }) => row.instance_id === "group-13"));
      if (outside) assert.deepEqual(seenWhenHeard, Array.from({ length: 39 }, () => 1), "a caller heard of its transaction before another connection could see it");

      // A transaction asked for while the connection is being given back (made slow here) runs too.
      const pool = knexPool(ctx.store.knex);
      const release = pool.releaseConnection;
      pool.releaseConnection = async (connection) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return release.call(pool, connection);
      };
      try {
        for (let index = 0; index < 3; index += 1) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            transaction(ctx.store.knex, (trx) => insertRows(trx, "process_history", [history("chain", `link-${index}`)])),
            new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`transaction ${index} of a chain never ran`)), 5000))),
          ]).finally(() => clearTimeout(timer));
        }
      } finally {
        pool.releaseConnection = release;
      }
      assert.equal((await ctx.store.knex("process_history").where({ instance_id: "chain" })).length, 3);
    } finally {
      outside?.close();
    }
  });
});
