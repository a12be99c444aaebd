// DATABASE_URL parsing: the default, the accepted forms, and clear errors that name the variable.
import assert from "node:assert/strict";
import path from "node:path";
import { ConfigError } from "../../../lib/errors";
import { describeStore, parseDatabaseUrl, storeConfigFromNode } from "../../../lib/store";

describe("store configuration", function () {
  it("defaults to school-safety.db in the data folder", function () {
    assert.deepEqual(parseDatabaseUrl(undefined, "/srv/data"), { dialect: "sqlite", filename: "/srv/data/school-safety.db" });
    assert.deepEqual(parseDatabaseUrl("  ", "/srv/data"), { dialect: "sqlite", filename: "/srv/data/school-safety.db" });
  });

  it("reads sqlite: URLs relative to the data folder or absolute", function () {
    assert.deepEqual(parseDatabaseUrl("sqlite:other.db", "/srv/data"), { dialect: "sqlite", filename: "/srv/data/other.db" });
    assert.deepEqual(parseDatabaseUrl("sqlite:///var/db/x.db", "/srv/data"), { dialect: "sqlite", filename: "/var/db/x.db" });
  });

  it("reads mysql:// and mariadb:// URLs with encoded credentials and a default port", function () {
    assert.deepEqual(parseDatabaseUrl("mysql://safety:p%40ss@db.school:3307/school_safety", "/d"), {
      dialect: "mysql",
      host: "db.school",
      port: 3307,
      user: "safety",
      password: "p@ss",
      database: "school_safety",
    });
    const maria = parseDatabaseUrl("mariadb://u@10.0.0.5/ssf", "/d");
    assert.equal(maria.dialect === "mysql" && maria.port, 3306);
  });

  for (const [url, problem] of [
    ["postgres://u:p@h/db", /unsupported scheme "postgres:"/],
    ["mysql://u:p@h:3306/", /names no database/],
    ["mysql://h:3306/db", /names no user/],
    ["not a url", /is not a valid URL/],
  ] as const) {
    it(`rejects ${url} with a ConfigError naming DATABASE_URL`, function () {
      assert.throws(
        () => parseDatabaseUrl(url, "/d"),
        (err: unknown) => err instanceof ConfigError && err.setting === "DATABASE_URL" && /^DATABASE_URL /.test(err.message) && problem.test(err.message),
      );
    });
  }

  it("never shows the password when describing a store", function () {
    const config = parseDatabaseUrl("mysql://u:topsecret@h/db", "/d");
    assert.equal(describeStore(config), "MySQL u@h:3306/db");
  });

  it("builds a store from a config node's settings, the password coming from credentials", function () {
    assert.deepEqual(storeConfigFromNode({ mode: "sqlite", filename: "x.db" }, {}, "/u"), {
      dialect: "sqlite",
      filename: path.resolve("/u", "x.db"),
    });
    assert.deepEqual(storeConfigFromNode({ mode: "app" }, { DATABASE_URL: "mysql://a:b@h/d" }, "/u"), parseDatabaseUrl("mysql://a:b@h/d", "/u"));
    const mysql = storeConfigFromNode({ mode: "mysql", host: "h", port: "3310", database: "d", user: "u", password: "pw" }, {}, "/u");
    assert.deepEqual(mysql, { dialect: "mysql", host: "h", port: 3310, user: "u", password: "pw", database: "d" });
    assert.throws(() => storeConfigFromNode({ mode: "mysql", host: "h", database: "d", user: "u", port: "99999" }, {}, "/u"), /port/);
    assert.throws(() => storeConfigFromNode({ mode: "mysql", host: "", database: "d", user: "u" }, {}, "/u"), /host is empty/);
  });
});
