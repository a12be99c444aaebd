// Worker thread that checkpoints a SQLite WAL beside the writer, so the writer's thread never waits on the fsync.
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

const { filename, intervalMs } = workerData as { filename: string; intervalMs: number };
const db = new Database(filename);
db.pragma("busy_timeout = 1000");

const timer = setInterval(() => {
  try {
    // PASSIVE copies what it can without blocking readers or the writer.
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch (err) {
    parentPort?.postMessage({ error: (err as Error).message });
  }
}, intervalMs);

parentPort?.on("message", (message: string) => {
  if (message === "stop") {
    clearInterval(timer);
    db.close();
    parentPort?.postMessage("stopped");
  }
});
