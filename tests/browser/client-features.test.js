// The client's typing indicators (throttled), read receipts, uploads with progress, and its
// end when the user is signed out everywhere (4001 with every refresh token revoked: no loop).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { clientPage, countSentFrames, launch, until } from "./lib/browser.js";
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

/**
 * Two users in a direct conversation, each with a connected, joined client in a page of its own.
 * `window.events` of each page records every frame the client tells, as [type, data].
 * @param {string} a
 * @param {string} b
 * @param {object} [options] ParlorClient options for both
 */
async function pair(a, b, options = {}) {
  const first = await server.register(a);
  const second = await server.register(b);
  const conversation = await server.api("POST", "/conversations", { participant_ids: [second.user.id] }, first.access_token);
  const pages = [];
  for (const user of [first, second]) {
    const page = await clientPage(await browser.newContext(), server);
    const sent = countSentFrames(page);
    await page.evaluate(async ({ tokens, id, options }) => {
      window.client = new window.parlor.ParlorClient({ tokens, ...options });
      window.events = [];
      window.client.on("*", (data, frame) => window.events.push([frame.type, data]));
      await window.client.connect();
      await window.client.join(id);
    }, { tokens: user, id: conversation.id, options });
    pages.push({ page, user, sent });
  }
  return { id: conversation.id, a: pages[0], b: pages[1] };
}

test("a burst of keystrokes is one typing:start, seen by the other side, then one typing:stop", { timeout: 60_000 }, async () => {
  const { id, a, b } = await pair("tia", "tom", { typingIdleMs: 300 });
  await a.page.evaluate((id) => { for (let i = 0; i < 30; i++) window.client.typing(id); }, id);
  await b.page.waitForFunction((userId) => window.events.some(([type, d]) => type === "typing:start" && d.user_id === userId), a.user.user.id);
  await b.page.waitForFunction((userId) => window.events.some(([type, d]) => type === "typing:stop" && d.user_id === userId), a.user.user.id);
  // Playwright reports sent frames to Node asynchronously: wait until it has told the stop.
  await until(() => (a.sent.get("typing:stop") ?? 0) >= 1, "no typing:stop frame seen");
  assert.equal(a.sent.get("typing:start"), 1);
  assert.equal(a.sent.get("typing:stop"), 1);
});

test("a read receipt reaches the sender and clears the reader's unread count", { timeout: 60_000 }, async () => {
  const { id, a, b } = await pair("rita", "rob");
  const message = await a.page.evaluate((id) => window.client.send(id, { content: "did you read this?" }), id);
  await b.page.waitForFunction((seq) => window.events.some(([type, d]) => type === "message:new" && d.message.seq === seq), message.seq);
  const before = await server.api("GET", `/conversations/${id}`, undefined, b.user.access_token);
  assert.equal(before.unread_count, 1);

  const marks = await b.page.evaluate(({ id, seq }) => window.client.markRead(id, seq), { id, seq: message.seq });
  assert.equal(marks.last_read_seq, message.seq);
  await a.page.waitForFunction(({ userId, seq }) => window.events.some(([type, d]) =>
    type === "message:read" && d.user_id === userId && d.seq === seq), { userId: b.user.user.id, seq: message.seq });
  const afterwards = await server.api("GET", `/conversations/${id}`, undefined, b.user.access_token);
  assert.equal(afterwards.unread_count, 0);
  assert.equal(afterwards.last_read_seq, message.seq);
});

test("an upload reports its progress, and the message carrying it reaches the other side", { timeout: 60_000 }, async () => {
  const { id, a, b } = await pair("uma", "ugo");
  const size = 4 * 1024 * 1024;
  const { upload, progress, message } = await a.page.evaluate(async ({ id, size }) => {
    const file = new File([new Uint8Array(size).fill(0x61)], "notes.txt", { type: "text/plain" });
    const progress = [];
    const upload = await window.client.upload(file, { conversationId: id, onProgress: (sent, total) => progress.push([sent, total]) });
    const message = await window.client.send(id, { content: "the notes", attachment_id: upload.id });
    return { upload, progress, message };
  }, { id, size });
  assert.equal(upload.size, size);
  assert.equal(upload.content_type, "text/plain");
  assert.ok(progress.length >= 1, "no progress callback");
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i][0] >= progress[i - 1][0], "progress went back");
  const [sent, total] = progress[progress.length - 1];
  assert.ok(total >= size && sent === total, `the last progress is ${sent}/${total}`);
  assert.equal(message.kind, "file");
  assert.equal(message.attachment.id, upload.id);

  const received = await b.page.waitForFunction((seq) => window.events.find(([type, d]) =>
    type === "message:new" && d.message.seq === seq)?.[1].message, message.seq);
  const attachment = (await received.jsonValue()).attachment;
  assert.equal(attachment.original_name, "notes.txt");
  assert.equal(attachment.size, size);
});

test("signed out everywhere, the client stops instead of reconnecting in a loop", { timeout: 60_000 }, async () => {
  const { a } = await pair("sal", "sue", { reconnect: { minDelayMs: 50, maxDelayMs: 200 } });
  const sockets = [];
  a.page.on("websocket", (socket) => sockets.push(socket.url()));
  await a.page.evaluate(() => {
    window.ended = new Promise((resolve) => window.client.on("state", (state, info) => {
      if (state === "closed") resolve({ code: info.error?.code, status: info.error?.status });
    }));
  });
  await server.api("POST", "/auth/logout-all", undefined, a.user.access_token);
  const ended = await a.page.evaluate(() => window.ended);
  assert.deepEqual(ended, { code: "unauthorized", status: 401 });
  assert.equal(await a.page.evaluate(() => window.client.state), "closed");
  assert.equal(await a.page.evaluate(() => window.client.tokens), null);
  assert.deepEqual(sockets, [], "the client opened another socket after its refresh token was revoked");
});
