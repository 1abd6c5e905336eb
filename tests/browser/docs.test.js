// The API docs UI (/api-docs) works offline: every request the page makes goes to the Parlor
// server itself (anything else is aborted and counted), and it lists the routes of the
// OpenAPI document the server generates (/api-docs/openapi.json).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { launch, screenshot } from "./lib/browser.js";
import { ParlorServer } from "./lib/server.js";

/** @type {ParlorServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;

before(async () => {
  server = await ParlorServer.start();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("the docs UI loads with no request off the server and lists every documented route", { timeout: 60_000 }, async () => {
  const document = await (await fetch(server.url("/api-docs/openapi.json"))).json();
  assert.match(document.openapi, /^3\.1/);
  const paths = Object.keys(document.paths);
  assert.ok(paths.includes("/api/v1/conversations"), "conversations are documented");
  assert.ok(paths.includes("/api/v1/widget/session"), "widget sessions are documented");

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  /** @type {string[]} */
  const offServer = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(server.base + "/") || url.startsWith("data:") || url.startsWith("blob:")) {
      return route.continue();
    }
    offServer.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(server.url("/api-docs"));
  // Every documented path is shown (Swagger UI renders one block per operation).
  await page.getByText("/api/v1/widget/session", { exact: true }).first().waitFor();
  const shown = await page.evaluate(() =>
    [...document.querySelectorAll("[data-path]")].map((e) => e.getAttribute("data-path")));
  for (const path of paths) {
    assert.ok(shown.includes(path), `${path} is listed`);
  }
  await screenshot(page, "api-docs");
  assert.deepEqual(offServer, [], "requests off the server");
  assert.deepEqual(errors, []);
  await context.close();
});
