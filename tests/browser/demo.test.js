// The demo page (static/index.html) in two browsers: two people register, one finds the other
// by name and opens a conversation, and they chat live: typing, messages, read receipts,
// reactions and a file. Public rooms, invite links, search, leaving and signing in again work.
// The pages pass axe-core's serious and critical checks.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { accessibilityViolations, countSentFrames, launch, screenshot, until } from "./lib/browser.js";
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
  // Typing indicators are live only: Ann types once Bob's page has joined.
  await bob.page.locator('#messages[aria-busy="false"]').waitFor();

  // Ann types: Bob sees her typing; a burst of keystrokes is one typing:start frame.
  const typed = Date.now();
  await ann.page.locator("#text").pressSequentially("hello bob, the parcel came");
  const typingMs = Date.now() - typed;
  await bob.page.locator("#typing", { hasText: "ann is typing" }).waitFor();
  // One frame per 3 s throttle window (one, unless a loaded machine typed slower than that);
  // Playwright reports sent frames to Node asynchronously, so wait for the first.
  await until(() => (ann.sent.get("typing:start") ?? 0) >= 1, "no typing:start frame");
  assert.ok(ann.sent.get("typing:start") <= 1 + Math.floor(typingMs / 3000),
    `${ann.sent.get("typing:start")} typing:start frames in ${typingMs} ms`);
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

test("rooms, invite links, search and leaving work through the demo page", { timeout: 60_000 }, async () => {
  const cara = await demoPage();
  await register(cara.page, "cara");
  await cara.page.fill("#group-title", "Book club");
  await cara.page.check("#public");
  await cara.page.click("#btn-new");
  await cara.page.locator("#title", { hasText: "Book club (group, open, you: owner)" }).waitFor();
  await cara.page.fill("#text", "welcome to the book club");
  await cara.page.press("#text", "Enter");
  await cara.page.locator("#messages .msg", { hasText: "cara: welcome to the book club" }).waitFor();
  await cara.page.click("#btn-invite");
  const invite = await cara.page.locator("#invite-url", { hasText: "?invite=" }).textContent();

  // Dave finds the room in the directory, joins it and reads its history.
  const dave = await demoPage();
  await register(dave.page, "dave");
  await dave.page.locator("#rooms button", { hasText: "Book club (group, 1) — join" }).click();
  await dave.page.locator("#title", { hasText: "Book club (group, open, you: member)" }).waitFor();
  await dave.page.locator("#messages .msg", { hasText: "cara: welcome to the book club" }).waitFor();
  await cara.page.locator("#messages .sys", { hasText: "dave" }).waitFor(); // the membership notice, live

  // He finds the message by searching, then leaves; Cara sees him go.
  await dave.page.fill("#q", "book");
  await dave.page.press("#q", "Enter");
  await dave.page.locator("#hits button mark", { hasText: "book" }).first().waitFor();
  await dave.page.click("#btn-leave");
  await dave.page.locator("#title", { hasText: "No conversation selected" }).waitFor();
  await cara.page.locator("#messages .sys", { hasText: "dave left" }).waitFor();

  // Eve comes in by the invite link: signed up, she is in the room.
  const eve = await demoPage();
  await eve.page.goto(invite.replace(/^https?:\/\/[^/]+/, server.base));
  await register(eve.page, "eve");
  await eve.page.locator("#title", { hasText: "Book club (group, open, you: member)" }).waitFor();
  await eve.page.locator("#messages .msg", { hasText: "cara: welcome to the book club" }).waitFor();

  // She signs out, and back in with her username: the room is in her list.
  await eve.page.click("#btn-logout");
  await eve.page.locator("#auth-form").waitFor();
  await eve.page.fill("#login", "eve");
  await eve.page.fill("#password", "password eve");
  await eve.page.click("#btn-login");
  await eve.page.locator("#connection", { hasText: "Connected" }).waitFor();
  await eve.page.locator("#conversations button", { hasText: "Book club (group)" }).waitFor();
  assert.deepEqual([...cara.errors, ...dave.errors, ...eve.errors], []);
});
