// The campus dashboard in a real headless Chromium: behind the login, and showing journaled events live.
import assert from "node:assert/strict";
import fs from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { basicAuth, startApp } from "../support/app";
import { stopChild, type Child } from "../support/processes";
import { tempDir } from "../support/stores";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

describe("campus dashboard in Chromium", function () {
  this.timeout(90000);
  let app: { child: Child; url: string };
  let browser: Browser;

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      if (process.env.CI === "true") throw new Error(`CI=true but no Chromium at ${CHROMIUM}: .ci/run must install it`);
      this.skip();
    }
    app = await startApp({ DATA_DIR: tempDir("ssf-dash-"), ADMIN_USER: "duty", ADMIN_PASSWORD: "duty-room-pass" });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });

  after(async function () {
    if (browser) await browser.close();
    if (app) await stopChild(app.child);
  });

  it("refuses the page without the login", async function () {
    const context = await browser.newContext({ httpCredentials: { username: "duty", password: "wrong" } });
    try {
      const response = await (await context.newPage()).goto(`${app.url}/dashboard/campus`);
      assert.equal(response?.status(), 401);
    } finally {
      await context.close();
    }
  });

  it("shows an event posted to the intake flow in the latest-events table", async function () {
    const context = await browser.newContext({ httpCredentials: { username: "duty", password: "duty-room-pass" } });
    try {
      const page = await context.newPage();
      const response = await page.goto(`${app.url}/dashboard/campus`);
      assert.equal(response?.status(), 200);
      await page.getByText("Latest events").first().waitFor({ timeout: 20000 });
      const posted = await fetch(`${app.url}/api/events`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: basicAuth("duty", "duty-room-pass") },
        body: JSON.stringify({
          eventId: "dash-1",
          schoolId: "demo-school",
          zoneId: "demo-school-gate-south",
          kind: "field-intrusion",
          severity: "high",
          occurredAt: "2026-11-24T09:30:00Z",
          source: "onvif",
        }),
      });
      assert.equal(posted.status, 202);
      const row = page.locator("tbody tr", { hasText: "field-intrusion" });
      await row.first().waitFor({ timeout: 20000 });
      assert.match(await row.first().innerText(), /demo-school-gate-south/);
    } finally {
      await context.close();
    }
  });
});
