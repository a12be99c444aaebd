// Child processes for whole-runtime specs: start, wait for a line, stop, and read what they listen on.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";

export interface Child {
  process: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startChild(command: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Child {
  const child = spawn(command, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const waiters: Array<() => void> = [];
  const onData = (chunk: Buffer) => {
    output += chunk.toString("utf8");
    for (const waiter of waiters.splice(0)) waiter();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => {
      for (const waiter of waiters.splice(0)) waiter();
      resolve({ code, signal });
    }),
  );
  let done = false;
  void exited.then(() => (done = true));
  return {
    process: child,
    output: () => output,
    exited,
    waitFor(pattern, timeoutMs = 30000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; output:\n${output}`)), timeoutMs);
        const check = () => {
          const match = output.match(pattern);
          if (match) {
            clearTimeout(timer);
            resolve(match);
          } else if (done) {
            clearTimeout(timer);
            reject(new Error(`process exited before ${pattern}; output:\n${output}`));
          } else {
            waiters.push(check);
          }
        };
        check();
      });
    },
  };
}

export async function stopChild(child: Child, signal: NodeJS.Signals = "SIGINT"): Promise<{ code: number | null }> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return child.exited;
  child.process.kill(signal);
  const timer = setTimeout(() => child.process.kill("SIGKILL"), 15000);
  const result = await child.exited;
  clearTimeout(timer);
  return result;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function hexToIpv4(hex: string): string {
  return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join(".");
}

/**
 * Every TCP socket a process listens on and every UDP socket it has bound, read from /proc
 * (addresses as "ip:port"; IPv6 shown in raw hex).
 */
export function listeningSockets(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch {
      // the descriptor closed while we looked
    }
  }
  const found: string[] = [];
  for (const [file, tcp] of [
    ["/proc/net/tcp", true],
    ["/proc/net/tcp6", true],
    ["/proc/net/udp", false],
    ["/proc/net/udp6", false],
  ] as const) {
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || !inodes.has(cols[9])) continue;
      if (tcp && cols[3] !== "0A") continue;
      const [addr, port] = cols[1].split(":");
      const host = addr.length === 8 ? hexToIpv4(addr) : addr;
      found.push(`${tcp ? "tcp" : "udp"} ${host}:${parseInt(port, 16)}`);
    }
  }
  return found.sort();
}
