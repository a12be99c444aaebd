// Starts the real app (`npm start`'s entry point) in a child process on a free port.
import path from "node:path";
import { startChild, type Child } from "./processes";

export const APP_ENTRY = path.resolve(__dirname, "..", "..", "lib", "app", "start.js");

export function appEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, PORT: "0", LOG_LEVEL: "warn", ...extra };
}

export async function startApp(env: NodeJS.ProcessEnv): Promise<{ child: Child; url: string }> {
  const child = startChild(process.execPath, [APP_ENTRY], appEnv(env));
  const [, url] = await child.waitFor(/Editor\s+编辑器\s+(http:\/\/\S+?)\/\n/, 60000);
  return { child, url };
}

export function basicAuth(user: string, password: string): string {
  return "Basic " + Buffer.from(`${user}:${password}`).toString("base64");
}
