// access-decision: turns a door's AccessRequest into an AccessDecision on the grant or the deny output, logs the pass.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { acquireAccessControl, releaseAccessControl, type AccessControl, type AccessControlEvents } from "../../lib/access/access-control";
import type { AccessDecision, AccessRequest } from "../../lib/access/messages";
import { ACCESS_MODES, type AccessMode } from "../../lib/access/model";
import { parseAccessRequest } from "../../lib/access/request";
import { exportRoster, importRoster } from "../../lib/access/roster";
import { rosterLanguage } from "../../lib/access/roster-messages";
import type { RosterFormat } from "../../lib/access/roster-table";
import { ValidationError, errorMessage } from "../../lib/errors";
import { StatusThrottle, shortReason, statusDegraded, statusFailed, statusOk } from "../../lib/nodered/status";
import type { SafetyStoreNode } from "../../lib/nodered/types";
import type { Store } from "../../lib/store";

interface AccessDecisionDef extends NodeDef {
  store: string;
  schoolId: string;
}

interface DecisionMessage extends NodeMessageInFlow {
  topic: string;
  payload: AccessDecision;
  request: AccessRequest;
}

/** What the admin endpoints need of a deployed access-decision node. */
interface AccessDecisionNode extends Node {
  accessTarget(): Promise<{ store: Store; schoolId: string }>;
}

const MAX_ROSTER_BYTES = 20 * 1024 * 1024;

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(Object.assign(new Error(`the roster is larger than ${limit / 1024 / 1024} MB`), { statusCode: 413 }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

type AdminRequest = IncomingMessage & { params: Record<string, string>; query: Record<string, string | undefined>; user?: { username?: string } };
type AdminResponse = ServerResponse & { status(code: number): AdminResponse; json(body: unknown): void; send(body: unknown): void; set(field: string, value: string): AdminResponse };

export = function register(RED: NodeAPI): void {
  function AccessDecisionNodeImpl(this: AccessDecisionNode, def: AccessDecisionDef): void {
    RED.nodes.createNode(this, def);
    const storeNode = RED.nodes.getNode(def.store) as SafetyStoreNode | null;
    const schoolId = (def.schoolId || "").trim();
    const status = new StatusThrottle((s) => this.status(s));
    let granted = 0;
    let denied = 0;
    let control: AccessControl | null = null;
    let store: Store | null = null;
    let closed = false;

    const describe = () =>
      RED._("access-decision.status.counts", { mode: RED._(`access-decision.mode.${control?.current?.mode ?? "normal"}`), granted, denied });
    const events: AccessControlEvents = {
      onRebuilt: (index, ms) => {
        status.set(statusOk(RED._("access-decision.status.rebuilt", { credentials: index.credentials.size, ms })));
        this.debug(`access index for ${schoolId}: ${index.credentials.size} credentials in ${ms} ms`);
      },
      onError: (err) => {
        status.now(statusDegraded(shortReason(RED._("access-decision.status.degraded", { reason: errorMessage(err) }))));
        this.warn(RED._("access-decision.errors.background", { reason: errorMessage(err) }));
      },
    };

    const ready: Promise<AccessControl> = (async () => {
      if (!storeNode) throw new Error(RED._("access-decision.errors.noStore"));
      if (!schoolId) throw new Error(RED._("access-decision.errors.noSchool"));
      store = await storeNode.store();
      if (!(await store.schools.get(schoolId))) throw new Error(RED._("access-decision.errors.unknownSchool", { schoolId }));
      const shared = acquireAccessControl(store, schoolId, events);
      control = shared;
      if (closed) return shared;
      if (!shared.ready) await shared.rebuild();
      return shared;
    })();
    ready.then(
      (c) => status.now(statusOk(RED._("access-decision.status.ready", { credentials: c.current?.credentials.size ?? 0, mode: RED._(`access-decision.mode.${c.current?.mode ?? "normal"}`) }))),
      (err: Error) => status.now(statusFailed(shortReason(err.message))),
    );
    // A failed start is reported by status and on each input; it must not surface as an unhandled rejection.
    ready.catch(() => undefined);

    this.accessTarget = async () => {
      await ready;
      return { store: store!, schoolId };
    };

    this.on("input", (msg: NodeMessageInFlow, send, done) => {
      ready
        .then(async (access) => {
          if (msg.topic === "mode") {
            const mode = String(msg.payload);
            if (!(ACCESS_MODES as readonly string[]).includes(mode)) {
              throw new ValidationError(RED._("access-decision.errors.badMode", { mode, modes: ACCESS_MODES.join(", ") }), "payload");
            }
            const actor = typeof (msg as { actor?: unknown }).actor === "string" ? String((msg as { actor?: unknown }).actor) : `flow:${this.id}`;
            await access.setMode(mode as AccessMode, actor);
            status.now(statusOk(describe()));
            done();
            return;
          }
          if (msg.topic === "reload") {
            await access.rebuild();
            done();
            return;
          }
          const request = parseAccessRequest(msg.payload);
          if (request.schoolId !== schoolId) {
            throw new ValidationError(RED._("access-decision.errors.otherSchool", { schoolId: request.schoolId, mine: schoolId }), "schoolId");
          }
          const decision = access.decide(request);
          const out = msg as DecisionMessage;
          out.topic = "access-decision";
          out.request = request;
          out.payload = decision;
          if (decision.granted) {
            granted += 1;
            send([out, null]);
          } else {
            denied += 1;
            send([null, out]);
          }
          status.set(statusOk(describe()));
          done();
        })
        .catch((err: Error) => {
        const field = err instanceof ValidationError ? err.field : null;
        status.now(statusFailed(shortReason(field ? RED._("access-decision.status.invalid", { field }) : err.message)));
        done(err);
      });
    });

    this.on("close", (_removed: boolean, finished: () => void) => {
      closed = true;
      status.cancel();
      const release = store && control ? releaseAccessControl(store, control, events) : Promise.resolve();
      release.then(finished, (err: unknown) => {
        this.error(RED._("access-decision.errors.background", { reason: errorMessage(err) }));
        finished();
      });
    });
  }

  RED.nodes.registerType("access-decision", AccessDecisionNodeImpl as unknown as (this: Node, def: NodeDef) => void);

  const deployedNode = (req: AdminRequest, res: AdminResponse): AccessDecisionNode | null => {
    const node = RED.nodes.getNode(req.params.id) as AccessDecisionNode | null;
    if (!node || typeof node.accessTarget !== "function") {
      res.status(404).json({ error: RED._("access-decision.errors.notDeployed") });
      return null;
    }
    return node;
  };

  RED.httpAdmin.post(
    "/school-safety/access-decision/:id/roster",
    RED.auth.needsPermission("access-decision.write"),
    async (req: AdminRequest, res: AdminResponse) => {
      const node = deployedNode(req, res);
      if (!node) return;
      try {
        const bytes = await readBody(req, MAX_ROSTER_BYTES);
        if (bytes.length === 0) {
          res.status(400).json({ error: RED._("access-decision.errors.emptyRoster") });
          return;
        }
        const { store, schoolId } = await node.accessTarget();
        const format = req.query.format === "csv" || req.query.format === "xlsx" ? (req.query.format as RosterFormat) : undefined;
        const report = await importRoster(store, bytes, {
          schoolId,
          actor: req.user?.username ?? "admin",
          fileName: req.query.fileName,
          format,
          dryRun: req.query.dryRun === "true",
          language: rosterLanguage(req.query.lang ?? req.headers["accept-language"]),
        });
        res.status(report.ok ? 200 : 422).json(report);
      } catch (err) {
        const code = (err as { statusCode?: number }).statusCode ?? (err instanceof ValidationError ? 400 : 500);
        res.status(code).json({ error: errorMessage(err) });
      }
    },
  );

  RED.httpAdmin.get(
    "/school-safety/access-decision/:id/roster",
    RED.auth.needsPermission("access-decision.read"),
    async (req: AdminRequest, res: AdminResponse) => {
      const node = deployedNode(req, res);
      if (!node) return;
      try {
        const { store, schoolId } = await node.accessTarget();
        const format: RosterFormat = req.query.format === "xlsx" ? "xlsx" : "csv";
        const bytes = await exportRoster(store, {
          schoolId,
          actor: req.user?.username ?? "admin",
          format,
          language: rosterLanguage(req.query.lang ?? req.headers["accept-language"]),
          includePins: req.query.includePins === "true",
        });
        res.set("Content-Type", format === "xlsx" ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" : "text/csv; charset=utf-8");
        res.set("Content-Disposition", `attachment; filename="roster-${schoolId}.${format}"`);
        res.set("Cache-Control", "no-store");
        res.send(bytes);
      } catch (err) {
        res.status(err instanceof ValidationError ? 400 : 500).json({ error: errorMessage(err) });
      }
    },
  );
};
