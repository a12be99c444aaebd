// The real app (`npm start`'s entry) in a child process: login required, flows running, dashboard served, clean stop.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import bcrypt from "bcryptjs";
import { Store, parseDatabaseUrl } from "../../lib/store";
import { APP_ENTRY as ENTRY, appEnv, basicAuth as basic, startApp } from "../support/app";
import { listeningSockets, startChild, stopChild, type Child } from "../support/processes";
import { tempDir } from "../support/stores";

async function login(url: string, username: string, password: string): Promise<string> {
  const response = await fetch(`${url}/auth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: "node-red-admin", grant_type: "password", scope: "*", username, password }),
  });
  assert.equal(response.status, 200, "login");
  return ((await response.json()) as { access_token: string }).access_token;
}

const panic = {
  eventId: "e2e-panic-1",
  schoolId: "demo-school",
  zoneId: "demo-school-duty-room",
  kind: "panic",
  severity: "critical",
  occurredAt: "2026-11-24T08:00:00.000Z",
  source: "manual",
};

describe("app (npm start) end to end", function () {
  this.timeout(90000);

  describe("with ADMIN_USER and ADMIN_PASSWORD", function () {
    const dataDir = tempDir("ssf-app-");
    let app: { child: Child; url: string };
    const auth = basic("safety-admin", "correct horse");

    before(async function () {
      app = await startApp({ DATA_DIR: dataDir, ADMIN_USER: "safety-admin", ADMIN_PASSWORD: "correct horse" });
    });

    after(async function () {
      if (app) await stopChild(app.child);
    });

    it("refuses the admin API without a token (401)", async function () {
      assert.equal((await fetch(`${app.url}/flows`)).status, 401);
      assert.equal((await fetch(`${app.url}/nodes`, { headers: { accept: "application/json" } })).status, 401);
    });

    it("refuses a wrong password", async function () {
      const response = await fetch(`${app.url}/auth/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ client_id: "node-red-admin", grant_type: "password", scope: "*", username: "safety-admin", password: "wrong" }),
      });
      assert.ok([401, 403].includes(response.status), `got ${response.status}`);
      assert.equal(((await response.json()) as { access_token?: string }).access_token, undefined);
    });

    it("after login shows the prebuilt flows deployed, with the store and journal nodes", async function () {
      const token = await login(app.url, "safety-admin", "correct horse");
      const response = await fetch(`${app.url}/flows`, { headers: { authorization: `Bearer ${token}`, "Node-RED-API-Version": "v2" } });
      assert.equal(response.status, 200);
      const { flows } = (await response.json()) as { flows: Array<{ id: string; type: string }> };
      const types = new Set(flows.map((n) => n.type));
      for (const type of ["safety-store", "event-journal", "ui-base", "ui-page", "ui-table", "http in"]) {
        assert.ok(types.has(type), `flows contain a ${type} node`);
      }
      const nodes = (await (
        await fetch(`${app.url}/nodes`, { headers: { authorization: `Bearer ${token}`, accept: "application/json" } })
      ).json()) as Array<{ module: string; types: string[]; err?: string }>;
      const ours = nodes.filter((set) => set.module === "node-red-contrib-school-safety");
      assert.ok(ours.length >= 2, "our module is loaded");
      assert.deepEqual(ours.filter((set) => set.err), []);
    });

    it("runs the simulated campus: the north gate's OSDP reader badges the guard in through the access decision", async function () {
      const store = await Store.open(parseDatabaseUrl(undefined, dataDir));
      try {
        let rows: Array<{ granted: unknown; reason: string; person_id: string; door_id: string }> = [];
        for (let i = 0; i < 150 && rows.length === 0; i += 1) {
          rows = await store.knex("pass_log").select("granted", "reason", "person_id", "door_id");
          if (rows.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.deepEqual(rows.slice(0, 1).map((r) => [Boolean(r.granted), r.reason, r.person_id, r.door_id]), [[true, "granted", "demo-school-guard-001", "demo-school-gate-north"]]);
        const online = await store.journal.list({ schoolId: "demo-school", kind: "device-online" });
        // The reader, and the GB/T 28181 camera that registered (the platform names devices by their GB ID).
        assert.deepEqual(online.map((e) => e.event.deviceId).sort(), ["34020000001320000001", "demo-school-reader-gate-north"]);
      } finally {
        await store.close();
      }
    });

    it("runs the simulated campus's cameras: the ONVIF camera's stream on its device record, the GB/T 28181 camera registered", async function () {
      const store = await Store.open(parseDatabaseUrl(undefined, dataDir));
      try {
        let onvif = await store.devices.get("demo-school-cam-gate-north");
        let gb = await store.knex("devices").where("address", "34020000001320000001").orWhere("id", "like", "%34020000001320000001%").select("id", "status", "details");
        for (let i = 0; i < 150 && (!onvif?.details?.streamUri || gb.every((d: { status: string }) => d.status !== "online")); i += 1) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          onvif = await store.devices.get("demo-school-cam-gate-north");
          gb = await store.knex("devices").where("address", "34020000001320000001").orWhere("id", "like", "%34020000001320000001%").select("id", "status", "details");
        }
        assert.match(String(onvif?.details?.streamUri), /^rtsp:\/\/127\.0\.0\.1/);
        assert.equal(onvif?.status, "online");
        assert.ok(gb.some((d: { status: string }) => d.status === "online"), `GB/T 28181 camera rows: ${JSON.stringify(gb)}`);
        // The cameras' passwords are generated into the data folder, never written to the flow file.
        const flows = fs.readFileSync(path.join(dataDir, "flows.json"), "utf8");
        for (const file of [".onvif-camera-password", ".gb28181-password"]) {
          const secret = fs.readFileSync(path.join(dataDir, file), "utf8").trim();
          assert.equal(secret.length, 32);
          assert.ok(!flows.includes(secret), `${file} stays out of flows.json`);
        }
      } finally {
        await store.close();
      }
    });

    it("starts the device-fault process for a device that went offline; maintenance sees it in the task list with its own login", async function () {
      const store = await Store.open(parseDatabaseUrl(undefined, dataDir));
      try {
        await store.users.create({ id: "e2e-maint", schoolId: "demo-school", username: "wang.maint", displayName: "王师傅", passwordHash: bcrypt.hashSync("spanner-42", 4), personId: null, roles: ["maintenance"] });
      } finally {
        await store.close();
      }
      const offline = { ...panic, eventId: "e2e-offline-1", kind: "device-offline", severity: "medium", deviceId: "demo-school-cam-gate-south", zoneId: "demo-school-gate-south", source: "device" };
      const posted = await fetch(`${app.url}/api/events`, { method: "POST", headers: { "content-type": "application/json", authorization: auth }, body: JSON.stringify(offline) });
      assert.equal(posted.status, 202);
      assert.equal((await fetch(`${app.url}/api/tasks`)).status, 401, "the task list needs a login");
      assert.equal((await fetch(`${app.url}/api/tasks`, { headers: { authorization: basic("wang.maint", "wrong") } })).status, 401);
      let tasks: Array<{ businessKey: string; bpmnProcessId: string; formId: string }> = [];
      for (let i = 0; i < 100 && !tasks.some((t) => t.businessKey === "e2e-offline-1"); i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const response = await fetch(`${app.url}/api/tasks`, { headers: { authorization: basic("wang.maint", "spanner-42") } });
        assert.equal(response.status, 200);
        tasks = ((await response.json()) as { tasks: typeof tasks }).tasks;
      }
      assert.deepEqual(tasks.filter((t) => t.businessKey === "e2e-offline-1").map((t) => [t.bpmnProcessId, t.formId]), [["device-fault", "device-fault-check"]]);
    });

    it("runs the intake flow: an event is journaled once and answered 202, a bad one 400", async function () {
      const post = (body: unknown, headers: Record<string, string> = { authorization: auth }) =>
        fetch(`${app.url}/api/events`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
      assert.equal((await post(panic, {})).status, 401, "HTTP-in endpoints need the login too");
      const first = await post(panic);
      assert.equal(first.status, 202);
      assert.deepEqual(((await first.json()) as { duplicate: boolean }).duplicate, false);
      const second = await post(panic);
      assert.equal(((await second.json()) as { duplicate: boolean }).duplicate, true);
      const bad = await post({ ...panic, eventId: undefined });
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as { error: string }).error, /eventId/);
      const store = await Store.open({ dialect: "sqlite", filename: path.join(dataDir, "school-safety.db") });
      try {
        // The simulated campus journals its own device events beside this one.
        assert.equal((await store.journal.list({ kind: "panic" })).length, 1);
        assert.equal((await store.journal.get("e2e-panic-1"))?.event.kind, "panic");
        assert.equal((await store.people.countByRole("demo-school")).student, 1200, "demo school seeded");
      } finally {
        await store.close();
      }
    });

    it("serves the dashboard only after login", async function () {
      assert.equal((await fetch(`${app.url}/dashboard/campus`)).status, 401);
      assert.equal((await fetch(`${app.url}/dashboard/_setup`)).status, 401);
      const page = await fetch(`${app.url}/dashboard/`, { headers: { authorization: auth } });
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<div id="app"/);
      const setup = (await (await fetch(`${app.url}/dashboard/_setup`, { headers: { authorization: auth } })).json()) as {
        socketio: { path: string };
      };
      assert.equal(setup.socketio.path, "/dashboard/socket.io");
    });

    it("listens on the configured host and port only, besides the simulated cameras on loopback", async function () {
      const port = new URL(app.url).port;
      const store = await Store.open(parseDatabaseUrl(undefined, dataDir));
      const camera = await store.devices.get("demo-school-cam-gate-north");
      await store.close();
      const sockets = listeningSockets(app.child.process.pid as number);
      // TCP: the app's port and the simulated ONVIF camera's HTTP port; UDP: the GB/T 28181 platform and its simulated camera.
      assert.deepEqual(sockets.filter((s) => s.startsWith("tcp")).sort(), [`tcp 127.0.0.1:${port}`, `tcp ${camera?.address}`].sort());
      assert.equal(sockets.filter((s) => s.startsWith("udp")).length, 2);
      assert.ok(sockets.every((s) => / 127\.0\.0\.1:\d+$/.test(s)), sockets.join(", "));
    });

    it("keeps secrets out of the flow file and stores only the password's hash", function () {
      const flows = fs.readFileSync(path.join(dataDir, "flows.json"), "utf8");
      assert.doesNotMatch(flows, /correct horse/);
      assert.ok(fs.existsSync(path.join(dataDir, ".credential-secret")));
      assert.equal(fs.statSync(path.join(dataDir, ".credential-secret")).mode & 0o077, 0, "secret file is private");
    });

    it("stops cleanly on Ctrl-C (SIGINT): exit code 0, store closed", async function () {
      const { code } = await stopChild(app.child, "SIGINT");
      assert.equal(code, 0, app.child.output());
      assert.match(app.child.output(), /stopped cleanly/);
      assert.ok(!fs.existsSync(path.join(dataDir, "school-safety.db-wal")) || fs.statSync(path.join(dataDir, "school-safety.db-wal")).size === 0);
    });
  });

  describe("on first start without ADMIN_PASSWORD", function () {
    const dataDir = tempDir("ssf-first-");

    it("prints a generated admin password once, keeps only its bcrypt hash, and accepts it", async function () {
      const first = await startApp({ DATA_DIR: dataDir });
      try {
        const [, password] = await first.child.waitFor(/admin password 初始管理员密码: (\S+)/);
        const stored = fs.readFileSync(path.join(dataDir, ".admin.json"), "utf8");
        assert.doesNotMatch(stored, new RegExp(password.replace(/[-/\\^$*+?.()|[\]{}]/g, "\\$&")));
        assert.match(JSON.parse(stored).hash, /^\$2[aby]\$10\$/);
        await login(first.url, "admin", password);
      } finally {
        await stopChild(first.child);
      }
      const second = await startApp({ DATA_DIR: dataDir });
      try {
        assert.doesNotMatch(second.child.output(), /初始管理员密码/);
      } finally {
        await stopChild(second.child);
      }
    });
  });

  describe("bad settings", function () {
    async function failsWith(env: NodeJS.ProcessEnv, pattern: RegExp): Promise<void> {
      const child = startChild(process.execPath, [ENTRY], appEnv({ DATA_DIR: tempDir("ssf-bad-"), ADMIN_PASSWORD: "12345678", ...env }));
      const { code } = await child.exited;
      assert.notEqual(code, 0);
      const lines = child.output().trim().split("\n");
      assert.equal(lines.length, 1, `one line, got:\n${child.output()}`);
      assert.match(lines[0], pattern);
    }

    it("an invalid DATABASE_URL: one line naming the variable, non-zero exit", async function () {
      await failsWith({ DATABASE_URL: "postgres://u:p@localhost/db" }, /^school-safety: DATABASE_URL: .*unsupported scheme "postgres:"/);
    });

    it("an unreachable database: one line naming the variable and the cause", async function () {
      await failsWith({ DATABASE_URL: "mysql://u:p@127.0.0.1:1/db" }, /^school-safety: DATABASE_URL: cannot connect to MySQL u@127.0.0.1:1\/db: .*ECONNREFUSED/);
    });

    it("a bad PORT: one line naming the variable", async function () {
      await failsWith({ PORT: "eighty" }, /^school-safety: PORT: must be a whole number from 0 to 65535/);
    });
  });
});
