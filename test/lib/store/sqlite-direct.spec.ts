// The store's transaction helper: the same body runs as a knex transaction (MySQL/MariaDB) or directly on SQLite's
// pooled connection, with the same results, and a failure leaves nothing behind.
import assert from "node:assert/strict";
import { query, transaction } from "../../../lib/store/sqlite-direct";
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
    const rows = await query<Array<{ action: string }>>(ctx.store.knex, (start) => start("process_history").where({ instance_id: "tx-1" }).orderBy("action"));
    assert.deepEqual(rows.map((row) => row.action), ["one", "second"]);
    const first = await query<{ action: string } | undefined>(ctx.store.knex, (start) => start("process_history").where({ instance_id: "tx-1" }).orderBy("action").first());
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
    const left = await query<unknown[]>(ctx.store.knex, (start) => start("process_history").where({ instance_id: "tx-2" }));
    assert.deepEqual(left, []);
    await transaction(ctx.store.knex, async (trx) => trx("process_history").insert(history("tx-3", "after")));
    assert.equal((await ctx.store.knex("process_history").where({ instance_id: "tx-3" })).length, 1);
  });
});
