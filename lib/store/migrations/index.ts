// The ordered list of migrations, given to knex as an in-memory source so compiled and packed builds behave alike.
import type { Knex } from "knex";
import * as core from "./001_core";
import * as access from "./002_access";
import * as processEngine from "./003_process";
import * as processSignals from "./004_process_signals_indexes";

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

const MIGRATIONS: ReadonlyArray<[string, Migration]> = [
  ["001_core", core],
  ["002_access", access],
  ["003_process", processEngine],
  ["004_process_signals_indexes", processSignals],
];

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => MIGRATIONS.map(([name]) => name),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const found = MIGRATIONS.find(([candidate]) => candidate === name);
    if (!found) throw new Error(`unknown migration ${name}`);
    return found[1];
  },
};
