// Chromium for the browser tests: Debian's (/usr/bin/chromium, or CHROMIUM), headless, driven
// by playwright-core; pages that load the client from the server under test; screenshots into
// docs/screenshots/; and an accessibility check with axe-core.

import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { chromium } from "playwright-core";

import { repoRoot } from "./server.js";

const require = createRequire(import.meta.url);

/** Launches headless Chromium (with --no-sandbox when running as root, as in CI). */
export function launch() {
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: root ? ["--no-sandbox"] : [],
  });
}

/**
 * A page of the server's origin with no script of its own (`/health`), with the client
 * imported as `window.parlor`: what an app embedding parlor.js sees. (A page the test made up
 * would not come from the loopback address, and Chromium's local network access checks would
 * keep its WebSocket from reaching the server.)
 * @param {import("playwright-core").BrowserContext} context
 * @param {import("./server.js").ParlorServer} server
 */
export async function clientPage(context, server) {
  const page = await context.newPage();
  await page.goto(server.url("/health"));
  await page.evaluate(async () => { window.parlor = await import("/clients/js/parlor.js"); });
  return page;
}

/**
 * Counts the frames a page sends over its WebSockets, by type.
 * @param {import("playwright-core").Page} page
 * @returns {Map<string, number>}
 */
export function countSentFrames(page) {
  const counts = new Map();
  page.on("websocket", (socket) => {
    socket.on("framesent", ({ payload }) => {
      try {
        const { type } = JSON.parse(String(payload));
        counts.set(type, (counts.get(type) ?? 0) + 1);
      } catch { /* not JSON */ }
    });
  });
  return counts;
}

/**
 * Resolves once `predicate()` holds, polling every 50 ms; rejects with `message` after
 * `timeoutMs`. For facts the page reports to Node asynchronously, such as frames seen by
 * {@link countSentFrames}.
 * @param {() => boolean} predicate
 * @param {string | (() => string)} message
 * @param {number} [timeoutMs]
 */
export async function until(predicate, message, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(typeof message === "function" ? message() : message);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Saves a screenshot as docs/screenshots/<name>.png.
 * @param {import("playwright-core").Page} page
 * @param {string} name
 */
export async function screenshot(page, name) {
  const dir = path.join(repoRoot, "docs/screenshots");
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`) });
}

/**
 * Runs axe-core on the page; answers its violations of impact "serious" or "critical".
 * @param {import("playwright-core").Page} page
 */
export async function accessibilityViolations(page) {
  await page.addScriptTag({ path: require.resolve("axe-core/axe.min.js") });
  const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}
