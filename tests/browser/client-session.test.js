// A session outlives its access token: the client refreshes the pair over REST and hands the
// new token to the open socket (auth:refresh) before the old one expires, so the server never
// closes it (4001) and nothing reconnects.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { clientPage, countSentFrames, launch, until } from "./lib/browser.js";
import { ParlorServer } from "./lib/server.js";

/** @type {ParlorServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;

before(async () => {
  server = await ParlorServer.start({ PARLOR__AUTH__ACCESS_TOKEN_TTL_S: "3" });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("a session is renewed in band before its three-second token expires, again and again", { timeout: 60_000 }, async () => {
  const gus = await server.register("gus");
  const hal = await server.register("hal");
  const conversation = await server.api("POST", "/conversations", { participant_ids: [hal.user.id] }, gus.access_token);
  const page = await clientPage(await browser.newContext(), server);
  const sent = countSentFrames(page);
  await page.evaluate(async ({ tokens, id }) => {
    window.client = new window.parlor.ParlorClient({ tokens });
    window.states = [];
    window.renewals = 0;
    window.client.on("state", (state) => window.states.push(state));
    window.client.on("tokens", () => { window.renewals++; });
    await window.client.connect();
    await window.client.join(id);
  }, { tokens: gus, id: conversation.id });

  // Three new pairs: the first two tokens have expired meanwhile, the socket stayed open.
  await page.waitForFunction(() => window.renewals >= 3, undefined, { timeout: 20_000 });
  // A renewal tells "tokens" when its REST refresh answers, before its auth:refresh frame is
  // sent, and Playwright reports sent frames to Node later still: wait for the frames too.
  await until(() => (sent.get("auth:refresh") ?? 0) >= 2, () => `${sent.get("auth:refresh")} auth:refresh frames`);
  const message = await page.evaluate((id) => window.client.send(id, { content: "still here" }), conversation.id);
  assert.equal(message.content, "still here");
  assert.deepEqual(await page.evaluate(() => window.states), ["connecting", "open"]);
});
