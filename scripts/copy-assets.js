// Copies what tsc does not emit (node editor .html, locales, icons, SQL/JSON assets) next to the compiled .js in dist/.
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const out = path.join(root, "dist");
const copied = [];

function copyTree(from, to, keep) {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) {
      copyTree(src, dst, keep);
    } else if (keep(src)) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(src, dst);
      copied.push(path.relative(root, dst));
    }
  }
}

const notTypeScript = (file) => !file.endsWith(".ts");
for (const dir of ["nodes"]) {
  if (fs.existsSync(path.join(root, dir))) copyTree(path.join(root, dir), path.join(out, dir), notTypeScript);
}

// Every node folder must carry its editor file and both locales; fail the build rather than ship a node that
// Node-RED would load without an editor definition.
const nodesDir = path.join(root, "nodes");
const problems = [];
for (const name of fs.existsSync(nodesDir) ? fs.readdirSync(nodesDir) : []) {
  const dir = path.join(nodesDir, name);
  if (!fs.statSync(dir).isDirectory()) continue;
  if (!fs.existsSync(path.join(dir, `${name}.html`))) problems.push(`nodes/${name}/${name}.html is missing`);
  for (const lang of ["en-US", "zh-CN"]) {
    for (const ext of ["json", "html"]) {
      const file = path.join(dir, "locales", lang, `${name}.${ext}`);
      if (!fs.existsSync(file)) problems.push(`nodes/${name}/locales/${lang}/${name}.${ext} is missing`);
    }
  }
}
if (problems.length > 0) {
  console.error("build: " + problems.join("\n build: "));
  process.exit(1);
}
console.log(`build: copied ${copied.length} editor, locale and icon files to dist/`);
