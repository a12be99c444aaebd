// Push (WS-BaseNotification) consumer side: Notify POSTs routed by an unguessable per-subscription token; other paths 404.
import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { DeviceProtocolError } from "../../errors";

/** Serves the Notify endpoint of push subscriptions; the runtime (Node-RED httpNode or a plain server) implements it. */
export interface NotifyConsumer {
  /** Starts routing Notify bodies posted for this token to the handler; returns the URL the camera must post to. */
  register(token: string, handler: (body: string) => Promise<void>): string;
  unregister(token: string): void;
}

/** 24 random bytes: a consumer path nobody can guess, so only the camera we subscribed at can post events. */
export function newSubscriptionToken(): string {
  return crypto.randomBytes(24).toString("base64url");
}

const TOKEN = /^[A-Za-z0-9_-]{16,64}$/;

export interface NotifyAnswer {
  status: number;
  body: string;
}

/** The token → handler table behind any NotifyConsumer, and how a request is answered. */
export class NotifyRoutes {
  private readonly handlers = new Map<string, (body: string) => Promise<void>>();

  set(token: string, handler: (body: string) => Promise<void>): void {
    this.handlers.set(token, handler);
  }

  delete(token: string): void {
    this.handlers.delete(token);
  }

  get size(): number {
    return this.handlers.size;
  }

  /** 200 once the handler has journaled the events; 400 for a body that is not a Notify; 404 for unknown tokens. */
  async answer(token: string, body: string): Promise<NotifyAnswer> {
    const handler = TOKEN.test(token) ? this.handlers.get(token) : undefined;
    if (!handler) return { status: 404, body: "" };
    try {
      await handler(body);
      return { status: 200, body: "" };
    } catch (err) {
      if (err instanceof DeviceProtocolError) return { status: 400, body: err.message };
      return { status: 500, body: "" };
    }
  }
}

export function readRequestBody(req: http.IncomingMessage, maxBytes = 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new DeviceProtocolError(`Notify body larger than ${maxBytes} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** A standalone HTTP consumer at http://host:port/onvif/notify/<token>, for use outside Node-RED (benchmarks, tools). */
export class NotifyServer implements NotifyConsumer {
  private readonly routes = new NotifyRoutes();
  private readonly server = http.createServer((req, res) => void this.serve(req, res));
  private baseUrl = "";

  constructor(private readonly host = "127.0.0.1") {
    this.server.keepAliveTimeout = 30_000;
  }

  async listen(port = 0): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, this.host, () => resolve());
    });
    this.baseUrl = `http://${this.host}:${(this.server.address() as AddressInfo).port}/onvif/notify/`;
  }

  register(token: string, handler: (body: string) => Promise<void>): string {
    this.routes.set(token, handler);
    return this.baseUrl + token;
  }

  unregister(token: string): void {
    this.routes.delete(token);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const match = /^\/onvif\/notify\/([^/?]+)$/.exec(req.url ?? "");
    if (req.method !== "POST" || !match) {
      res.writeHead(404).end();
      return;
    }
    try {
      const answer = await this.routes.answer(match[1], await readRequestBody(req));
      res.writeHead(answer.status, { "Content-Type": "text/plain; charset=utf-8" }).end(answer.body);
    } catch {
      res.writeHead(400).end();
    }
  }
}
