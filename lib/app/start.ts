// `npm start`: the School Safety Flows app — Node-RED embedded with our nodes, prebuilt flows, store and demo school.
import http from "node:http";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { buildSettings, type AppSettings } from "../../settings";
import { ConfigError, StoreUnavailableError, errorMessage } from "../errors";
import { acquireStore, describeStore, parseDatabaseUrl, releaseStore, type Store } from "../store";
import { TASK_API_PATH } from "../process/task-api";
import { startSimulatedCampus, type SimulatedCampus } from "../../sim/campus";
import { seedDemoSchool } from "../../sim/demo-school";
import { installPrebuiltFlows } from "./prebuilt-flows";

/** The repository root (the package): dist/lib/app → ../../.. */
export const PACKAGE_ROOT = path.resolve(__dirname, "..", "..", "..");

interface NodeRedRuntime {
  init(server: http.Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  httpAdmin: http.RequestListener & ((req: http.IncomingMessage, res: http.ServerResponse, next: () => void) => void);
  httpNode: http.RequestListener & ((req: http.IncomingMessage, res: http.ServerResponse, next: () => void) => void);
}

export interface RunningApp {
  settings: AppSettings;
  store: Store;
  server: http.Server;
  url: string;
  stop(): Promise<void>;
}

function fail(setting: string, message: string): never {
  // One line, naming the setting, for people and for process supervisors.
  process.stderr.write(`school-safety: ${setting}: ${message}\n`);
  process.exit(1);
}

function isTaskApi(url: string | undefined): boolean {
  const pathname = (url ?? "").split("?")[0];
  return pathname === TASK_API_PATH || pathname.startsWith(`${TASK_API_PATH}/`);
}

export async function startApp(env: NodeJS.ProcessEnv = process.env): Promise<RunningApp> {
  const settings = buildSettings(env);
  // The prebuilt flows' process engine runs for this school.
  process.env.SCHOOL_ID = env.SCHOOL_ID || process.env.SCHOOL_ID || "demo-school";
  const storeConfig = parseDatabaseUrl(settings.databaseUrl, settings.dataDir);
  const store = await acquireStore(storeConfig);
  if (settings.simulatedCampus) await seedDemoSchool(store);
  installPrebuiltFlows(PACKAGE_ROOT, path.join(settings.dataDir, "flows.json"), { simulatedCampus: settings.simulatedCampus });

  // Loaded late so that a bad setting fails before Node-RED prints anything.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require("node-red") as NodeRedRuntime;
  const server = http.createServer((req, res) => {
    RED.httpAdmin(req, res, () => {
      // The task-list API logs in the school's own users (safety officers, teachers, guards) itself.
      if (isTaskApi(req.url)) {
        RED.httpNode(req, res, () => {
          res.statusCode = 404;
          res.end("Not found");
        });
        return;
      }
      // Embedded Node-RED does not apply httpNodeAuth itself: dashboards and HTTP-in flows are guarded here.
      if (!settings.nodeAuthorized(req.headers.authorization)) {
        res.statusCode = 401;
        res.setHeader("WWW-Authenticate", 'Basic realm="School Safety Flows", charset="UTF-8"');
        res.end("Login required · 需要登录");
        return;
      }
      RED.httpNode(req, res, () => {
        res.statusCode = 404;
        res.end("Not found");
      });
    });
  });
  RED.init(server, { ...settings.nodeRed, nodesDir: [PACKAGE_ROOT] });
  // Bind first: a busy port must fail before any flow (and any device connection) starts.
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(settings.port, settings.host, () => resolve());
    });
  } catch (err) {
    await releaseStore(store);
    throw err;
  }
  let campus: SimulatedCampus | null = null;
  if (settings.simulatedCampus) {
    campus = await startSimulatedCampus(settings.dataDir, store, env);
    for (const notice of campus.notices) process.stdout.write(`school-safety: ${notice}\n`);
    // The campus flows read their ports and the devices' secrets from the environment.
    Object.assign(process.env, campus.env);
  }
  await RED.start();
  if (campus) {
    const before = campus.notices.length;
    await campus.flowsStarted();
    for (const notice of campus.notices.slice(before)) process.stdout.write(`school-safety: ${notice}\n`);
  }
  const address = server.address() as AddressInfo;
  const host = settings.host.includes(":") ? `[${settings.host}]` : settings.host;
  const url = `http://${host}:${address.port}`;

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await RED.stop();
      await campus?.stop();
      await releaseStore(store);
    })();
    return stopping;
  };
  return { settings, store, server, url, stop };
}

function banner(app: RunningApp): string {
  const lines = [
    "",
    "  School Safety Flows · 校安工程管理系统",
    `  Editor  编辑器   ${app.url}/`,
    `  Dashboard 看板   ${app.url}/dashboard`,
    `  Store   数据库   ${describeStore(app.store.config)}`,
    `  Data    数据目录 ${app.settings.dataDir}`,
    `  Login   登录     ${app.settings.adminUser}`,
  ];
  if (app.settings.generatedAdminPassword) {
    lines.push(
      `  First start: admin password 初始管理员密码: ${app.settings.generatedAdminPassword}`,
      "  It is shown only now and kept only as a hash; set ADMIN_PASSWORD to choose your own.",
      "  仅显示这一次,只保存其哈希值;可通过 ADMIN_PASSWORD 自行设置。",
    );
  }
  lines.push("  Ctrl-C stops · 按 Ctrl-C 停止", "");
  return lines.join("\n");
}

async function main(): Promise<void> {
  let app: RunningApp;
  try {
    app = await startApp();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.setting, err.message.replace(new RegExp(`^${err.setting}:? `), ""));
    if (err instanceof StoreUnavailableError) fail(process.env.DATABASE_URL ? "DATABASE_URL" : "DATA_DIR", err.message);
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE" || (err as NodeJS.ErrnoException).code === "EACCES") {
      fail("PORT", `cannot listen on ${process.env.HOST || "127.0.0.1"}:${process.env.PORT || 1880}: ${errorMessage(err)}`);
    }
    fail("start", errorMessage(err));
  }
  process.stdout.write(banner(app) + "\n");
  let signalled = false;
  const shutdown = (signal: string) => {
    if (signalled) {
      process.stderr.write(`school-safety: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    signalled = true;
    process.stdout.write(`school-safety: ${signal}, stopping flows and closing the store…\n`);
    app.stop().then(
      () => {
        process.stdout.write("school-safety: stopped cleanly\n");
        process.exit(0);
      },
      (err: unknown) => {
        process.stderr.write(`school-safety: error while stopping: ${errorMessage(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

if (require.main === module) void main();
