// The task-list HTTP API under the node root: a school user's open tasks by their groups, a task's form, claim and
// complete with the form's data validated. Users log in with HTTP Basic against the store's users (bcrypt).
import crypto from "node:crypto";
import type { IncomingMessage } from "node:http";
import bcrypt from "bcryptjs";
import type { Express, Request, Response } from "express";
import type { User } from "../store";
import type { UserTask } from "./engine";
import { ProcessNotFoundError, ProcessStateError } from "./errors";
import { formView, validateSubmission, type FieldError } from "./forms";
import { allHosts, hostOfSchool, type ProcessHost } from "./host";

export const TASK_API_PATH = "/api/tasks";
const MAX_BODY_BYTES = 1024 * 1024;
const AUTH_CACHE_MS = 30_000;

type Lang = "en-US" | "zh-CN";

const MESSAGES: Record<string, Record<Lang, string>> = {
  login: { "en-US": "Log in with your school account", "zh-CN": "请使用学校账号登录" },
  badLogin: { "en-US": "Wrong user name or password, or the account is disabled", "zh-CN": "用户名或密码错误，或账号已停用" },
  noEngine: { "en-US": "No process engine runs for your school", "zh-CN": "本校没有运行中的流程引擎" },
  notFound: { "en-US": "No such task", "zh-CN": "没有这个任务" },
  notYours: { "en-US": "This task is not for your groups", "zh-CN": "此任务不属于你所在的组" },
  assigned: { "en-US": "This task is assigned to someone else", "zh-CN": "此任务已分配给其他人" },
  done: { "en-US": "This task is no longer open", "zh-CN": "此任务已不再处于待办状态" },
  noForm: { "en-US": "The task's form is not deployed", "zh-CN": "此任务的表单未部署" },
  badBody: { "en-US": "The request body must be a JSON object or form data", "zh-CN": "请求内容必须是 JSON 对象或表单数据" },
  tooLarge: { "en-US": "The request body is too large", "zh-CN": "请求内容过大" },
  invalid: { "en-US": "Some fields need attention", "zh-CN": "部分字段需要修改" },
};

function langOf(req: IncomingMessage): Lang {
  return /^\s*zh/i.test(String(req.headers["accept-language"] ?? "")) ? "zh-CN" : "en-US";
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly details?: unknown,
  ) {
    super(code);
  }
}

interface Caller {
  user: User;
  host: ProcessHost;
}

const verified = new Map<string, { user: User; untilMs: number }>();

async function findUser(username: string): Promise<User | undefined> {
  const seen = new Set<unknown>();
  for (const host of allHosts()) {
    if (seen.has(host.store)) continue;
    seen.add(host.store);
    const user = await host.store.users.byUsername(username);
    if (user) return user;
  }
  return undefined;
}

async function authenticate(req: IncomingMessage): Promise<Caller> {
  const header = String(req.headers.authorization ?? "");
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  if (!match) throw new ApiError(401, "login");
  const cacheKey = crypto.createHash("sha256").update(header).digest("hex");
  const now = Date.now();
  const cached = verified.get(cacheKey);
  let user = cached && cached.untilMs > now ? cached.user : undefined;
  if (!user) {
    const decoded = Buffer.from(match[1], "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) throw new ApiError(401, "login");
    const found = await findUser(decoded.slice(0, colon));
    if (!found || found.disabled || !found.passwordHash || !(await bcrypt.compare(decoded.slice(colon + 1), found.passwordHash))) {
      throw new ApiError(401, "badLogin");
    }
    user = found;
    verified.set(cacheKey, { user, untilMs: now + AUTH_CACHE_MS });
    if (verified.size > 1000) verified.delete(verified.keys().next().value as string);
  }
  const host = hostOfSchool(user.schoolId);
  if (!host) throw new ApiError(503, "noEngine");
  return { user, host };
}

/** A user sees a task assigned to them, or an unassigned one of a group they are in. */
function mayWorkOn(user: User, task: UserTask): boolean {
  if (task.assignee) return task.assignee === user.username;
  return task.candidateGroups.some((group) => user.roles.includes(group));
}

function summary(task: UserTask) {
  return {
    key: task.key,
    name: task.name,
    bpmnProcessId: task.bpmnProcessId,
    businessKey: task.businessKey,
    elementId: task.elementId,
    assignee: task.assignee,
    candidateGroups: task.candidateGroups,
    formId: task.formId,
    createdAt: task.createdAt,
  };
}

async function visibleTask(caller: Caller, key: string): Promise<UserTask> {
  const task = await caller.host.engine.getUserTask(key);
  if (!task) throw new ApiError(404, "notFound");
  if (task.assignee && task.assignee !== caller.user.username && task.candidateGroups.some((g) => caller.user.roles.includes(g))) {
    throw new ApiError(403, "assigned");
  }
  if (!mayWorkOn(caller.user, task)) throw new ApiError(403, "notYours");
  return task;
}

function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const parsed = (req as IncomingMessage & { body?: unknown }).body;
  // Some httpNodeMiddleware parses bodies first.
  if (parsed && typeof parsed === "object" && !Buffer.isBuffer(parsed)) return Promise.resolve(parsed as Record<string, unknown>);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ApiError(413, "tooLarge"));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("error", reject);
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const type = String(req.headers["content-type"] ?? "");
      try {
        if (/application\/x-www-form-urlencoded/i.test(type)) {
          resolve(Object.fromEntries(new URLSearchParams(text)));
          return;
        }
        const value: unknown = text.trim() === "" ? {} : JSON.parse(text);
        if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error("not an object");
        resolve(value as Record<string, unknown>);
      } catch {
        reject(new ApiError(400, "badBody"));
      }
    });
  });
}

type Handler = (req: Request, caller: Caller) => Promise<unknown>;

const registered = new WeakSet<object>();

/**
 * Adds the routes to an httpNode app, once per app. `log` reports failures that are not the caller's fault.
 * GET /api/tasks, GET /api/tasks/:key, GET /api/tasks/:key/form, POST /api/tasks/:key/claim, POST /api/tasks/:key/complete.
 */
export function registerTaskApi(app: Express, log: (message: string) => void = () => undefined): void {
  if (registered.has(app)) return;
  registered.add(app);

  const route = (handler: Handler) => (req: Request, res: Response) => {
    const lang = langOf(req);
    authenticate(req)
      .then((caller) => handler(req, caller))
      .then((body) => res.status(200).json(body))
      .catch((err: unknown) => {
        if (!(err instanceof ApiError)) {
          if (err instanceof ProcessNotFoundError) err = new ApiError(404, "notFound");
          else if (err instanceof ProcessStateError) err = new ApiError(409, "done");
          else {
            log(`task API ${req.method} ${req.path}: ${(err as Error).message}`);
            res.status(500).json({ error: { code: "internal", message: (err as Error).message } });
            return;
          }
        }
        const apiError = err as ApiError;
        if (apiError.status === 401) res.set("WWW-Authenticate", 'Basic realm="School Safety Flows tasks", charset="UTF-8"');
        res.status(apiError.status).json({ error: { code: apiError.code, message: MESSAGES[apiError.code]?.[lang] ?? apiError.code, ...(apiError.details ? { fields: apiError.details } : {}) } });
      });
  };

  app.get(
    TASK_API_PATH,
    route(async (req, { user, host }) => {
      const query = req.query as Record<string, string | undefined>;
      const tasks = await host.engine.listUserTasks({ status: "created", businessKey: query.businessKey || undefined, bpmnProcessId: query.processId || undefined });
      return {
        user: { username: user.username, displayName: user.displayName, groups: user.roles },
        tasks: tasks.filter((task) => mayWorkOn(user, task)).map(summary),
      };
    }),
  );

  app.get(
    `${TASK_API_PATH}/:key`,
    route(async (req, caller) => {
      const task = await visibleTask(caller, String(req.params.key));
      const form = task.formId ? caller.host.forms.get(task.formId) : undefined;
      return { ...summary(task), status: task.status, variables: task.variables, form: form ? formView(form, task.variables) : null };
    }),
  );

  app.get(
    `${TASK_API_PATH}/:key/form`,
    route(async (req, caller) => {
      const task = await visibleTask(caller, String(req.params.key));
      const form = task.formId ? caller.host.forms.get(task.formId) : undefined;
      if (!form) throw new ApiError(404, "noForm");
      return formView(form, task.variables);
    }),
  );

  app.post(
    `${TASK_API_PATH}/:key/claim`,
    route(async (req, caller) => {
      const task = await visibleTask(caller, String(req.params.key));
      if (task.status !== "created") throw new ApiError(409, "done");
      const claimed = await caller.host.engine.claimUserTask(task.key, caller.user.username);
      await caller.host.store.audit.record({ schoolId: caller.user.schoolId, actor: caller.user.username, action: "task.claim", targetType: "user-task", targetId: task.key, details: { bpmnProcessId: task.bpmnProcessId, businessKey: task.businessKey } });
      return summary(claimed);
    }),
  );

  app.post(
    `${TASK_API_PATH}/:key/complete`,
    route(async (req, caller) => {
      const data = await readBody(req);
      const task = await visibleTask(caller, String(req.params.key));
      if (task.status !== "created") throw new ApiError(409, "done");
      let values: Record<string, unknown> = data;
      if (task.formId) {
        const form = caller.host.forms.get(task.formId);
        if (!form) throw new ApiError(409, "noForm");
        const checked = validateSubmission(form, data, { variables: task.variables });
        if (!checked.ok) throw new ApiError(422, "invalid", checked.errors satisfies FieldError[]);
        values = checked.values;
      }
      await caller.host.engine.completeUserTask(task.key, values, caller.user.username);
      await caller.host.store.audit.record({ schoolId: caller.user.schoolId, actor: caller.user.username, action: "task.complete", targetType: "user-task", targetId: task.key, details: { bpmnProcessId: task.bpmnProcessId, businessKey: task.businessKey, fields: Object.keys(values) } });
      return { key: task.key, completed: true };
    }),
  );
}
