// The packed module installs into a plain Node-RED user folder, and every node it declares has its editor and help.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { freePort, startChild, stopChild, type Child } from "../support/processes";
import { tempDir } from "../support/stores";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  name: string;
  "node-red": { nodes: Record<string, string> };
};
const declaredTypes = Object.keys(pkg["node-red"].nodes).sort();
const CJK = /[\u4e00-\u9fff]/;

function npm(args: string[], cwd: string): string {
  return execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 300000 });
}

describe("packaging: npm pack installed into a Node-RED user folder", function () {
  this.timeout(400000);
  const userDir = tempDir("ssf-pack-");
  let red: Child;
  let url: string;

  before(async function () {
    // npm may still print lifecycle output before the JSON report.
    const report = npm(["pack", "--json", "--ignore-scripts", "--pack-destination", userDir], ROOT);
    const packed = JSON.parse(report.slice(report.search(/^\[/m))) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    const tarball = path.join(userDir, packed[0].filename);
    for (const js of Object.values(pkg["node-red"].nodes)) {
      const html = js.replace(/\.js$/, ".html");
      assert.ok(packed[0].files.some((f) => f.path === html), `${html} is in the tarball`);
    }
    assert.ok(!packed[0].files.some((f) => f.path.startsWith("dist/test/")), "tests are not packed");
    fs.writeFileSync(path.join(userDir, "package.json"), JSON.stringify({ name: "node-red-project", private: true }));
    // Scripts are skipped: the editor definitions need no native build, and the cache from `npm ci` serves the rest.
    npm(["install", "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund", "--omit=dev", "--omit=peer", tarball], userDir);
    fs.writeFileSync(
      path.join(userDir, "settings.js"),
      `module.exports = { uiHost: "127.0.0.1", credentialSecret: false, telemetry: { enabled: false }, diagnostics: { enabled: false }, editorTheme: { tours: false }, logging: { console: { level: "warn" } } };\n`,
    );
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    red = startChild(
      process.execPath,
      [require.resolve("node-red/red.js"), "--userDir", userDir, "--settings", path.join(userDir, "settings.js"), "--port", String(port)],
      { PATH: process.env.PATH, HOME: process.env.HOME },
    );
    await red.waitFor(/Started flows|Server now running/, 60000).catch(async () => {
      for (let i = 0; i < 100; i += 1) {
        try {
          if ((await fetch(`${url}/settings`)).ok) return;
        } catch {
          // not up yet
        }
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      throw new Error(`Node-RED did not start:\n${red.output()}`);
    });
  });

  after(async function () {
    if (red) await stopChild(red);
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it("loads every node type the package declares, without errors", async function () {
    const sets = (await (await fetch(`${url}/nodes`, { headers: { accept: "application/json" } })).json()) as Array<{
      module: string;
      types: string[];
      err?: string;
    }>;
    const ours = sets.filter((set) => set.module === pkg.name);
    assert.deepEqual(ours.filter((set) => set.err).map((set) => set.err), []);
    assert.deepEqual(ours.flatMap((set) => set.types).sort(), declaredTypes);
  });

  it("serves each node's editor definition and English help", async function () {
    const html = await (await fetch(`${url}/nodes`, { headers: { accept: "text/html", "accept-language": "en-US" } })).text();
    for (const type of declaredTypes) {
      assert.ok(html.includes(`data-template-name="${type}"`), `${type}: editor template`);
      assert.ok(html.includes(`RED.nodes.registerType("${type}"`), `${type}: registerType`);
      const help = new RegExp(`data-help-name="${type}">([\\s\\S]*?)</script>`).exec(html);
      assert.ok(help && help[1].trim().length > 40 && !CJK.test(help[1]), `${type}: English help`);
    }
  });

  it("serves each node's help in Chinese for zh-CN", async function () {
    const html = await (await fetch(`${url}/nodes`, { headers: { accept: "text/html", "accept-language": "zh-CN" } })).text();
    for (const type of declaredTypes) {
      const help = new RegExp(`data-help-name="${type}">([\\s\\S]*?)</script>`).exec(html);
      assert.ok(help && CJK.test(help[1]), `${type}: Chinese help`);
    }
  });

  it("serves each node's message catalog in en-US and zh-CN", async function () {
    for (const type of declaredTypes) {
      const en = (await (await fetch(`${url}/nodes/${pkg.name}/${type}/messages?lng=en-US`)).json()) as Record<string, unknown>;
      const zh = (await (await fetch(`${url}/nodes/${pkg.name}/${type}/messages?lng=zh-CN`)).json()) as Record<string, unknown>;
      assert.ok(en[type], `${type}: en-US messages`);
      assert.ok(zh[type] && CJK.test(JSON.stringify(zh[type])), `${type}: zh-CN messages`);
      assert.notDeepEqual(en[type], zh[type]);
    }
  });
});
