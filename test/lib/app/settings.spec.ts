// App settings from the environment: defaults, secure-by-default admin login, secrets kept out of flows and git.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import bcrypt from "bcryptjs";
import { ConfigError } from "../../../lib/errors";
import { basicAuthChecker, buildSettings } from "../../../settings";
import { tempDir } from "../../support/stores";

describe("app settings", function () {
  this.timeout(10000);

  it("defaults to 127.0.0.1:1880 and ./data, with login required everywhere", function () {
    const cwd = tempDir();
    const settings = buildSettings({ ADMIN_PASSWORD: "long enough" }, cwd);
    assert.equal(settings.host, "127.0.0.1");
    assert.equal(settings.port, 1880);
    assert.equal(settings.dataDir, path.join(cwd, "data"));
    assert.equal(settings.simulatedCampus, true);
    const nodeRed = settings.nodeRed as {
      adminAuth: { type: string; users: Array<{ username: string; password: string; permissions: string }> };
      httpNodeAuth: { user: string };
      uiHost: string;
    };
    assert.equal(nodeRed.adminAuth.type, "credentials");
    assert.equal(nodeRed.adminAuth.users[0].username, "admin");
    assert.ok(bcrypt.compareSync("long enough", nodeRed.adminAuth.users[0].password));
    assert.equal(nodeRed.httpNodeAuth.user, "admin");
    assert.equal(nodeRed.uiHost, "127.0.0.1");
  });

  it("generates the credential secret once, privately, and reuses it", function () {
    const cwd = tempDir();
    const first = buildSettings({ ADMIN_PASSWORD: "long enough" }, cwd);
    const second = buildSettings({ ADMIN_PASSWORD: "long enough" }, cwd);
    assert.match(first.credentialSecret, /^[0-9a-f]{64}$/);
    assert.equal(second.credentialSecret, first.credentialSecret);
    assert.equal(fs.statSync(path.join(first.dataDir, ".credential-secret")).mode & 0o077, 0);
    assert.equal(buildSettings({ ADMIN_PASSWORD: "long enough", CREDENTIAL_SECRET: "from-env" }, cwd).credentialSecret, "from-env");
  });

  it("generates an admin password on first start only, keeping just its hash", function () {
    const cwd = tempDir();
    const first = buildSettings({}, cwd);
    assert.ok(first.generatedAdminPassword && first.generatedAdminPassword.length >= 16);
    const stored = fs.readFileSync(path.join(first.dataDir, ".admin.json"), "utf8");
    assert.ok(!stored.includes(first.generatedAdminPassword));
    assert.ok(bcrypt.compareSync(first.generatedAdminPassword, JSON.parse(stored).hash));
    const second = buildSettings({}, cwd);
    assert.equal(second.generatedAdminPassword, null);
    assert.equal(second.adminPasswordHash, first.adminPasswordHash);
  });

  for (const [env, setting, pattern] of [
    [{ PORT: "70000" }, "PORT", /PORT must be a whole number/],
    [{ ADMIN_PASSWORD: "short" }, "ADMIN_PASSWORD", /at least 8 characters/],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL", /LOG_LEVEL must be one of/],
    [{ SIMULATED_CAMPUS: "maybe" }, "SIMULATED_CAMPUS", /must be true or false/],
  ] as const) {
    it(`rejects ${JSON.stringify(env)} naming ${setting}`, function () {
      assert.throws(
        () => buildSettings({ ADMIN_PASSWORD: "long enough", ...env }, tempDir()),
        (err: unknown) => err instanceof ConfigError && err.setting === setting && pattern.test(err.message),
      );
    });
  }

  it("checks HTTP Basic credentials for dashboards and flow endpoints", function () {
    const hash = bcrypt.hashSync("s3cret-pass", 4);
    const check = basicAuthChecker("admin", hash);
    const header = (user: string, pass: string) => "Basic " + Buffer.from(`${user}:${pass}`).toString("base64");
    assert.equal(check(header("admin", "s3cret-pass")), true);
    assert.equal(check(header("admin", "s3cret-pass")), true, "remembered");
    assert.equal(check(header("admin", "wrong")), false);
    assert.equal(check(header("other", "s3cret-pass")), false);
    assert.equal(check(undefined), false);
    assert.equal(check("Bearer abc"), false);
  });
});
