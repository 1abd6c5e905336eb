// The demo page (static/index.html) in two browsers: two people register, one finds the other
// by name and opens a conversation, and they chat live: typing, messages, read receipts,
// reactions and a file. Both pages pass axe-core's serious and critical checks.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { accessibilityViolations, countSentFrames, launch, screenshot } from "./lib/browser.js";
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

/** A page of the demo in a browser context of its own, with its sent frames counted. */
async function demoPage() {
  const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
  const page = await context.newPage();
  const sent = countSentFrames(page);
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(server.url("/"));
  return { page, sent, errors };
}

/** Registers `name` through the page's form and waits until its socket is connected. */
async function register(page, name) {
  await page.fill("#login", name);
  await page.fill("#email", `${name}@example.com`);
  await page.fill("#password", `password ${name}`);
  await page.click("#btn-register");
  await page.locator("#home").waitFor();
  await page.locator("#connection", { hasText: "Connected" }).waitFor();
}

test("the signed-out page passes axe's serious and critical checks", { timeout: 60_000 }, async () => {
  const { page } = await demoPage();
  assert.deepEqual(await accessibilityViolations(page), []);
  await screenshot(page, "demo-sign-in");
});

test("two people chat through the demo page, live on both sides", { timeout: 60_000 }, async () => {
  const ann = await demoPage();
  const bob = await demoPage();
  await register(ann.page, "ann");
  await register(bob.page, "bob");

  // Ann finds Bob by name (no ids asked) and opens a direct conversation with him.
  await ann.page.fill("#people", "bo");
  await ann.page.locator("#found button", { hasText: "bob" }).click();
  await ann.page.locator("#picked", { hasText: "bob" }).waitFor();
  await ann.page.click("#btn-new");
  await ann.page.locator("#title", { hasText: "bob (direct" }).waitFor();

  // Bob sees it in his list and opens it.
  await bob.page.locator("#conversations button", { hasText: "ann" }).click();
  await bob.page.locator("#title", { hasText: "ann (direct" }).waitFor();

  // Ann types: Bob sees her typing; a burst of keystrokes is one typing:start frame.
  await ann.page.locator("#text").pressSequentially("hello bob, the parcel came");
  await bob.page.locator("#typing", { hasText: "ann is typing" }).waitFor();
  assert.equal(ann.sent.get("typing:start"), 1);
  await ann.page.press("#text", "Enter");
  await bob.page.locator("#messages .msg", { hasText: "ann: hello bob, the parcel came" }).waitFor();
  await ann.page.locator("#messages .msg", { hasText: "ann: hello bob, the parcel came" }).waitFor();
  await bob.page.locator("#typing", { hasText: /^$/ }).waitFor();

  // Bob's page read it: Ann's message is marked seen.
  await ann.page.locator("#messages .msg.me .seen").waitFor();

  // Bob answers; Ann reacts to the answer, and Bob sees the count.
  await bob.page.fill("#text", "great, thanks @ann");
  await bob.page.press("#text", "Enter");
  const answer = ann.page.locator("#messages .msg", { hasText: "bob: great, thanks @ann" });
  await answer.waitFor();
  assert.match(await answer.getAttribute("class"), /mentioned/);
  await answer.locator("button[data-emoji='👍']").click();
  await bob.page.locator("#messages .msg", { hasText: "bob: great, thanks" })
    .locator("button[data-emoji='👍']", { hasText: "👍 1" }).waitFor();

  // Ann sends a file; Bob gets a link to it (and reads it).
  await ann.page.setInputFiles("#file", { name: "receipt.txt", mimeType: "text/plain", buffer: Buffer.from("paid in full\n") });
  await bob.page.locator("#messages .msg a", { hasText: "[receipt.txt, 13 bytes]" }).waitFor();
  await ann.page.locator("#messages .msg.me", { hasText: "receipt.txt" }).locator(".seen").waitFor();

  // Each message once on each side.
  for (const { page } of [ann, bob]) {
    assert.equal(await page.locator("#messages .msg", { hasText: "hello bob, the parcel came" }).count(), 1);
    assert.equal(await page.locator("#messages .msg", { hasText: "great, thanks" }).count(), 1);
  }
  assert.deepEqual([...ann.errors, ...bob.errors], []);
  assert.deepEqual(await accessibilityViolations(ann.page), []);
  await screenshot(ann.page, "demo-ann");
  await screenshot(bob.page, "demo-bob");
});
