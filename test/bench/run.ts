// `npm run bench`: runs every benchmark script in test/bench/ in its own process and passes its `bench` lines through.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const only = process.argv.slice(2);
const scripts = fs
  .readdirSync(__dirname)
  .filter((file) => file.endsWith(".js") && file !== "run.js" && !file.startsWith("_"))
  .filter((file) => only.length === 0 || only.some((name) => file.startsWith(name)))
  .sort();

let failed = 0;
for (const script of scripts) {
  process.stdout.write(`# ${script}\n`);
  const result = spawnSync(process.execPath, ["--expose-gc", path.join(__dirname, script)], {
    stdio: "inherit",
    timeout: 300000,
    env: process.env,
  });
  if (result.status !== 0) {
    failed += 1;
    process.stdout.write(`# ${script} failed (exit ${result.status ?? result.signal})\n`);
  }
}
process.exit(failed === 0 ? 0 : 1);
