// The support desk across the web side: a visitor writes through the widget on a plain page of
// another origin, an agent sees it live in the console, joins and replies, and closes the
// conversation; each side sees the other's typing, messages, reading and the close. Then an
// admin creates a user in the console and that user signs in. Both pages pass axe-core's
// serious and critical checks and log no errors; screenshots of the console in both themes and
// of the widget go to docs/screenshots/.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { accessibilityViolations, launch, screenshot } from "./lib/browser.js";
import { hostPage } from "./lib/host.js";
import { ParlorServer } from "./lib/server.js";

/** @type {ParlorServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof hostPage>>} */
let host;

before(async () => {
  server = await ParlorServer.start();
  await server.createUser("alex", "agent", { displayName: "Alex" });
  await server.createUser("root", "admin", { instanceAdmin: true, displayName: "Rita Root" });
  browser = await launch();
  host = await hostPage(server, { attributes: { "data-title": "Acme support" } });
});

after(async () => {
  await browser?.close();
  await host?.close();
  await server?.stop();
});

/**
 * A page in a fresh context whose errors (uncaught, or logged as errors) are collected.
 * @param {{ width?: number, height?: number, colorScheme?: "light" | "dark" }} [options]
 */
async function newPage(options = {}) {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
    colorScheme: options.colorScheme ?? "light",
  });
  const page = await context.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  return { page, errors };
}

/**
 * Signs `name` in to the console and waits for its navigation.
 * @param {import("playwright-core").Page} page
 * @param {string} name
 */
async function signIn(page, name) {
  await page.goto(server.url("/console"));
  await page.getByTestId("signin-email").fill(`${name}@example.com`);
  await page.getByTestId("signin-password").fill(`password ${name}`);
  await page.getByTestId("signin-submit").click();
  await page.getByTestId("main-nav").waitFor();
}

test("a widget visitor and an agent in the console chat live, and the visitor sees the close", { timeout: 120_000 }, async () => {
  const visitor = await newPage();
  await visitor.page.goto(host.url);
  await visitor.page.getByTestId("launcher").click();
  await visitor.page.getByTestId("input").fill("Where is my parcel?");
  await visitor.page.getByTestId("send").click();
  const question = visitor.page.getByTestId("message").filter({ hasText: "Where is my parcel?" });
  await question.waitFor();
  // The message is stored once acknowledged: nothing pending in the widget any more.
  await visitor.page.getByTestId("pending").waitFor({ state: "detached" });

  // The agent's console lists the visitor's conversation (polled as waiting) with its message.
  const agent = await newPage();
  await signIn(agent.page, "alex");
  // Alex is offline until they say otherwise; the choice is stored.
  const availability = agent.page.getByTestId("availability");
  assert.equal(await availability.inputValue(), "offline");
  await Promise.all([
    agent.page.waitForResponse((r) => r.url().endsWith("/api/v1/desk/availability") && r.status() === 200),
    availability.selectOption("busy"),
  ]);
  const alex = await server.api("POST", "/auth/login", { username: "alex", password: "password alex" });
  const agents = await server.api("GET", "/desk/agents", undefined, alex.access_token);
  assert.equal(agents.find((a) => a.username === "alex").availability, "busy");
  const item = agent.page.getByTestId("queue-item").filter({ hasText: "Where is my parcel?" });
  await item.waitFor({ timeout: 30_000 });
  await item.click();
  await agent.page.getByTestId("message-list").getByText("Where is my parcel?").waitFor();
  await agent.page.getByTestId("join-conversation").click();
  await agent.page.getByTestId("composer-input").waitFor();

  // The agent types: the visitor sees the typing indicator, then the reply.
  await agent.page.getByTestId("composer-input").pressSequentially("It left the depot", { delay: 30 });
  await visitor.page.getByTestId("typing").filter({ hasText: /typing/i }).waitFor();
  await agent.page.getByTestId("send-button").click();
  await visitor.page.getByTestId("message").filter({ hasText: "It left the depot" }).waitFor();
  // The visitor has the panel open: the reply is read, and the agent sees it seen.
  await agent.page.getByTestId("seen").waitFor();

  // The visitor answers live, and the agent sees it without reloading.
  await visitor.page.getByTestId("input").fill("Thanks!");
  await visitor.page.getByTestId("send").click();
  await agent.page.getByTestId("message-list").getByText("Thanks!").waitFor();

  // The desk's controls: the agent takes the conversation, parks it as pending (waiting on the
  // customer), and opens it again; each answer shows at once.
  await agent.page.getByTestId("desk-assignee").filter({ hasText: "Unassigned" }).waitFor();
  await agent.page.getByTestId("assign-me").click();
  await agent.page.getByTestId("desk-assignee").filter({ hasText: "Assigned to you" }).waitFor();
  await agent.page.getByTestId("desk-status").selectOption("pending");
  await agent.page.locator('[data-testid=conversation][data-status="pending"]').waitFor();
  await agent.page.getByTestId("desk-status").selectOption("open");
  await agent.page.locator('[data-testid=conversation][data-status="open"]').waitFor();

  await screenshot(agent.page, "console-conversation-light");
  await screenshot(visitor.page, "widget-conversation");
  assert.deepEqual(await accessibilityViolations(agent.page), [], "console");
  assert.deepEqual(await accessibilityViolations(visitor.page), [], "widget");

  // The host page's own styles are untouched by the widget, and the widget's by the page.
  const hostButton = await visitor.page.locator("#host-button").evaluate((e) => getComputedStyle(e).backgroundColor);
  assert.equal(hostButton, "rgb(255, 0, 0)");
  const launcher = await visitor.page.getByTestId("send").evaluate((e) => getComputedStyle(e).backgroundColor);
  assert.notEqual(launcher, "rgb(255, 0, 0)", "the page's button rule leaked into the widget");

  // The agent closes the conversation; the visitor sees it closed.
  // Closing always asks first; the click waits for the dialog to render.
  await agent.page.getByTestId("close-conversation").click();
  await agent.page.getByTestId("confirm-yes").click();
  await agent.page.getByTestId("closed-banner").waitFor();
  await visitor.page.getByTestId("closed-notice").waitFor();

  // After a reload the visitor's conversation is still there, closed.
  await visitor.page.reload();
  await visitor.page.getByTestId("launcher").click();
  await visitor.page.getByTestId("message").filter({ hasText: "It left the depot" }).waitFor();
  await visitor.page.getByTestId("closed-notice").waitFor();
  await screenshot(visitor.page, "widget-closed");

  assert.deepEqual(visitor.errors, [], "widget page errors");
  assert.deepEqual(agent.errors, [], "console errors");
  await visitor.page.context().close();
  await agent.page.context().close();
});

test("an admin creates a user in the console, and that user signs in", { timeout: 90_000 }, async () => {
  const admin = await newPage({ colorScheme: "dark" });
  await signIn(admin.page, "root");
  await admin.page.getByTestId("admin-nav-users").click();
  await admin.page.getByTestId("user-create-email").fill("nora@example.com");
  await admin.page.getByTestId("user-create-username").fill("nora");
  await admin.page.getByTestId("user-create-display-name").fill("Nora Agent");
  await admin.page.getByTestId("user-create-password").fill("password nora");
  await admin.page.getByTestId("user-create-role").selectOption("agent");
  await admin.page.getByTestId("user-create-submit").click();
  await admin.page.getByTestId("user-row").filter({ hasText: "nora" }).waitFor();
  // A disabled account stays listed, as disabled, after a reload; and can be enabled again.
  const alex = admin.page.getByTestId("user-row").filter({ hasText: "alex" });
  await alex.getByTestId("user-toggle-disabled").click();
  await admin.page.getByTestId("confirm-yes").click();
  await alex.getByText("disabled", { exact: true }).waitFor();
  await admin.page.reload();
  await admin.page.getByTestId("admin-nav-users").click();
  await alex.getByText("disabled", { exact: true }).waitFor();
  await alex.getByTestId("user-toggle-disabled").click();
  await alex.getByText("disabled", { exact: true }).waitFor({ state: "detached" });
  await screenshot(admin.page, "console-users-dark");
  assert.deepEqual(await accessibilityViolations(admin.page), [], "users page");

  await admin.page.getByTestId("admin-nav-dashboard").click();
  await admin.page.getByTestId("stat-connections").waitFor();
  await screenshot(admin.page, "console-dashboard-dark");

  const nora = await newPage({ width: 375, height: 740 });
  await signIn(nora.page, "nora");
  await nora.page.getByTestId("queue-list").waitFor();
  await screenshot(nora.page, "console-inbox-375");
  assert.deepEqual(await accessibilityViolations(nora.page), [], "inbox at 375 px");
  assert.deepEqual(admin.errors, [], "admin console errors");
  assert.deepEqual(nora.errors, [], "new user's console errors");
  await admin.page.context().close();
  await nora.page.context().close();
});

test("the console works from the keyboard and asks for notifications only when told to", { timeout: 90_000 }, async () => {
  // A customer's support conversation with a message, for the agent's inbox.
  const customer = await server.register("kim", "Kim Lee");
  const conversation = await server.api("POST", "/conversations", {}, customer.access_token);
  await server.api("POST", `/conversations/${conversation.id}/messages`,
    { content: "Keyboard question", client_msg_id: "k1" }, customer.access_token);

  const agent = await newPage();
  await agent.page.addInitScript(() => {
    // Counts permission requests; the real prompt never shows in headless Chromium.
    window.__asked = 0;
    class Stub {
      static permission = "default";
      static async requestPermission() { window.__asked++; Stub.permission = "granted"; return "granted"; }
      close() {}
    }
    window.Notification = /** @type {any} */ (Stub);
  });
  await signIn(agent.page, "alex");
  const item = agent.page.locator(`[data-testid=queue-item][data-conversation-id="${conversation.id}"]`);
  await item.waitFor({ timeout: 30_000 });
  assert.equal(await agent.page.evaluate(() => window.__asked), 0, "no permission asked on load");

  // Tab from the top of the page reaches the conversation, with a visible focus ring.
  await agent.page.locator("body").focus();
  let reached = false;
  for (let i = 0; i < 40 && !reached; i++) {
    await agent.page.keyboard.press("Tab");
    reached = await agent.page.evaluate((id) =>
      document.activeElement?.getAttribute("data-conversation-id") === String(id), conversation.id);
  }
  assert.ok(reached, "Tab reaches the conversation in the queue");
  const ring = await agent.page.evaluate(() => getComputedStyle(/** @type {Element} */ (document.activeElement)).outlineStyle);
  assert.notEqual(ring, "none", "the focused item shows a focus ring");
  await agent.page.keyboard.press("Enter");
  await agent.page.getByTestId("message-list").getByText("Keyboard question").waitFor();

  // Escape closes a dialog without doing what it asks.
  await agent.page.getByTestId("close-conversation").click();
  await agent.page.getByTestId("confirm-dialog").waitFor();
  await agent.page.keyboard.press("Escape");
  await agent.page.getByTestId("confirm-dialog").waitFor({ state: "hidden" });
  assert.equal(await agent.page.getByTestId("conversation").getAttribute("data-status"), "open");

  // Notifications: asked once, on the agent's click.
  await agent.page.getByTestId("notify-enable").click();
  await agent.page.getByTestId("notify-banner").waitFor({ state: "detached" });
  assert.equal(await agent.page.evaluate(() => window.__asked), 1);
  assert.deepEqual(agent.errors, [], "console errors");
  await agent.page.context().close();
});
