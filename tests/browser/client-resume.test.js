// The client survives a server crash mid-conversation: one page sends messages continuously,
// the server is SIGKILLed while sends are in flight and started again on the same port and
// database, and afterwards every message is stored exactly once and the other page (offline
// until the sender is done, so it has to catch up) shows each exactly once, in seq order, with
// no gap. And when acks are lost on the way, the resends are answered with the originals and
// the app sees each message once; a slow consumer's close (4008) is resumed at once; a resume
// longer than the server replays is completed over REST.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { clientPage, launch } from "./lib/browser.js";
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
 * Starts a client in `page` with `tokens`, joins `conversationId` and records what it sees in
 * `window.seen`: the messages told by message:new, the states, the errors.
 */
async function startClient(page, tokens, conversationId, reconnect = { minDelayMs: 50, maxDelayMs: 500 }) {
  await page.evaluate(async ({ tokens, conversationId, reconnect }) => {
    const client = new window.parlor.ParlorClient({ tokens, reconnect });
    window.client = client;
    window.seen = { messages: [], states: [], welcomes: 0, errors: [] };
    client.on("message", (message) => window.seen.messages.push({ seq: message.seq, content: message.content }));
    client.on("state", (state) => window.seen.states.push(state));
    client.on("welcome", () => { window.seen.welcomes++; });
    await client.connect();
    await client.join(conversationId);
  }, { tokens, conversationId, reconnect });
}

test("a server killed mid-conversation loses nothing and duplicates nothing", { timeout: 60_000 }, async () => {
  const ann = await server.register("ann");
  const bob = await server.register("bob");
  const conversation = await server.api("POST", "/conversations", { participant_ids: [bob.user.id] }, ann.access_token);
  const total = 80;

  const sender = await clientPage(await browser.newContext(), server);
  const receiver = await clientPage(await browser.newContext(), server);
  await startClient(sender, ann, conversation.id);
  await startClient(receiver, bob, conversation.id);

  // Ann sends m0 … m79, keeping five sends waiting for their acks at any time.
  await sender.evaluate(({ conversationId, total }) => {
    window.acked = [];
    let next = 0;
    const pump = () => {
      while (next < total && window.client.sends.size < 5) {
        const content = `m${next++}`;
        window.client.send(conversationId, { content }).then(
          (message) => { window.acked.push({ seq: message.seq, content }); pump(); },
          (error) => { window.seen.errors.push(`${content}: ${error.code} ${error.message}`); });
      }
    };
    pump();
  }, { conversationId: conversation.id, total });

  // Some are acknowledged, the rest are not all sent yet: the server dies now.
  await sender.waitForFunction(() => window.acked.length >= 10);
  await server.kill();
  const ackedBefore = await sender.evaluate(() => window.acked.length);
  assert.ok(ackedBefore < total, `all ${total} were acknowledged before the kill; the test proves nothing`);
  const waiting = await sender.evaluate(() => window.client.sends.size);
  assert.ok(waiting > 0, "no send was waiting for its ack when the server died");

  // The receiver stays away while the sender catches up: it has to resume, not just listen.
  await receiver.context().setOffline(true);
  await server.restart();

  // Both clients reconnect by themselves; every send ends acknowledged.
  await sender.waitForFunction((total) => window.acked.length === total, total, { timeout: 30_000 });
  const seenOffline = await receiver.evaluate(() => window.seen.messages.length);
  assert.ok(seenOffline < total, "the receiver saw every message before it reconnected");
  // The first message it missed is edited meanwhile: its replay comes last (by version), and
  // the client has to put it back in its seq's place.
  const missed = (await server.api("GET", `/conversations/${conversation.id}/messages?limit=200`, undefined, ann.access_token))[seenOffline];
  await server.api("PATCH", `/messages/${missed.id}`, { content: `${missed.content} (edited)` }, ann.access_token);
  await receiver.context().setOffline(false);
  await receiver.waitForFunction((total) => window.seen.messages.length >= total, total, { timeout: 30_000 });
  assert.deepEqual(await sender.evaluate(() => window.seen.errors), []);
  assert.ok(await sender.evaluate(() => window.seen.welcomes) >= 2, "the sender never reconnected");
  assert.ok(await receiver.evaluate(() => window.seen.welcomes) >= 2, "the receiver never reconnected");

  // Stored exactly once each, seqs 1..total.
  const history = await server.api("GET", `/conversations/${conversation.id}/messages?limit=200`, undefined, bob.access_token);
  const original = (m) => m.content.replace(/ \(edited\)$/, "");
  const expected = Array.from({ length: total }, (_, i) => `m${i}`);
  assert.deepEqual(history.map((m) => m.seq), Array.from({ length: total }, (_, i) => i + 1));
  assert.deepEqual(history.map(original).sort(), [...expected].sort());

  // Ann's acks name those messages; Bob saw each exactly once, in seq order, no gap, the
  // edited one as it is now.
  const acked = await sender.evaluate(() => window.acked);
  const storedSeq = new Map(history.map((m) => [original(m), m.seq]));
  for (const { seq, content } of acked) assert.equal(seq, storedSeq.get(content), `ack of ${content}`);
  const seen = await receiver.evaluate(() => window.seen.messages);
  assert.deepEqual(seen, history.map((m) => ({ seq: m.seq, content: m.content })));
  // The sender's own view (its acks told as message:new) is the same list of seqs.
  assert.deepEqual((await sender.evaluate(() => window.seen.messages)).map((m) => m.seq), history.map((m) => m.seq));
});

test("sends whose acks were lost are resent, answered with the originals and told once", { timeout: 60_000 }, async () => {
  const cat = await server.register("cat");
  const dan = await server.register("dan");
  const conversation = await server.api("POST", "/conversations", { participant_ids: [dan.user.id] }, cat.access_token);
  const page = await clientPage(await browser.newContext(), server);
  // Cat's socket goes through the test, which can drop the acks of sends and cut the line.
  let dropAcks = false;
  let dropped = 0;
  let threeDropped;
  const acksLost = new Promise((resolve) => { threeDropped = resolve; });
  const routes = [];
  await page.routeWebSocket(/\/api\/v1\/ws/, (route) => {
    const upstream = route.connectToServer();
    routes.push(route);
    upstream.onMessage((frame) => {
      const { type, data } = JSON.parse(String(frame));
      if (!(dropAcks && type === "ack" && data?.message)) return route.send(frame);
      if (++dropped === 3) threeDropped(); // an ack comes after the commit: all three are stored
    });
  });
  await startClient(page, cat, conversation.id);
  await page.evaluate((id) => {
    window.sends = [];
    window.send = (content) => window.sends.push(window.client.send(id, { content }));
  }, conversation.id);
  await page.evaluate(async () => { for (const c of ["a1", "a2", "a3"]) window.send(c); await Promise.all(window.sends); });

  // Three more are stored, but their acks never arrive; then the connection drops.
  dropAcks = true;
  await page.evaluate(() => { for (const c of ["b1", "b2", "b3"]) window.send(c); });
  await acksLost;
  assert.equal(await page.evaluate(() => window.client.sends.size), 3);
  dropAcks = false;
  await routes[0].close({ code: 1001, reason: "test cut the line" });

  // The client reconnects, resumes (the replay brings b1..b3) and resends b1..b3 with the same
  // client_msg_id: the acks carry the stored messages; nothing is stored or told twice.
  const results = await page.evaluate(() => Promise.all(window.sends));
  assert.deepEqual(results.map((m) => [m.seq, m.content]), [[1, "a1"], [2, "a2"], [3, "a3"], [4, "b1"], [5, "b2"], [6, "b3"]]);
  assert.ok(routes.length >= 2, "the client did not reconnect");
  const history = await server.api("GET", `/conversations/${conversation.id}/messages`, undefined, dan.access_token);
  assert.deepEqual(history.map((m) => m.content), ["a1", "a2", "a3", "b1", "b2", "b3"]);
  assert.deepEqual(await page.evaluate(() => window.seen.messages.map((m) => m.content)), ["a1", "a2", "a3", "b1", "b2", "b3"]);
});

test("closed as a slow consumer (4008), the client reconnects at once and catches up", { timeout: 60_000 }, async () => {
  const eli = await server.register("eli");
  const fay = await server.register("fay");
  const conversation = await server.api("POST", "/conversations", { participant_ids: [fay.user.id] }, eli.access_token);
  const page = await clientPage(await browser.newContext(), server);
  const routes = [];
  await page.routeWebSocket(/\/api\/v1\/ws/, (route) => { route.connectToServer(); routes.push(route); });
  // Backoff from 10 s: only a slow consumer's reconnect comes sooner.
  await startClient(page, fay, conversation.id, { minDelayMs: 10_000, maxDelayMs: 30_000 });
  await page.evaluate(() => {
    window.reconnects = [];
    window.client.on("state", (state, info) => { if (state === "reconnecting" && info.code) window.reconnects.push(info); });
  });

  // Messages the server could not queue for Fay any more: she has to resume to see them.
  await routes[0].close({ code: 4008, reason: "slow consumer" });
  for (const content of ["one", "two", "three"]) {
    await server.api("POST", `/conversations/${conversation.id}/messages`, { content }, eli.access_token);
  }
  await page.waitForFunction(() => window.seen.messages.length === 3);
  assert.deepEqual(await page.evaluate(() => window.seen.messages.map((m) => m.content)), ["one", "two", "three"]);
  const [reconnect] = await page.evaluate(() => window.reconnects);
  assert.equal(reconnect.code, 4008);
  assert.ok(reconnect.delayMs <= 250, `waited ${reconnect.delayMs} ms before reconnecting after 4008`);
});

test("a resume past realtime.max_replay is completed over REST, in order, once each", { timeout: 60_000 }, async () => {
  const small = await ParlorServer.start({ PARLOR__REALTIME__MAX_REPLAY: "5" });
  try {
    const ivy = await small.register("ivy");
    const jon = await small.register("jon");
    const conversation = await small.api("POST", "/conversations", { participant_ids: [jon.user.id] }, ivy.access_token);
    const post = (content) => small.api("POST", `/conversations/${conversation.id}/messages`, { content }, ivy.access_token);
    const page = await clientPage(await browser.newContext(), small);
    const routes = [];
    await page.routeWebSocket(/\/api\/v1\/ws/, (route) => { route.connectToServer(); routes.push(route); });
    await startClient(page, jon, conversation.id);
    await page.evaluate(() => {
      window.truncated = [];
      window.client.on("conversation:truncated", (ack) => window.truncated.push(ack));
    });
    for (const content of ["x0", "x1"]) await post(content);
    await page.waitForFunction(() => window.seen.messages.length === 2);

    // Jon drops off; twenty messages later he is back: the join replays only the newest five.
    await page.context().setOffline(true);
    await routes[0].close({ code: 1001, reason: "test" });
    const later = Array.from({ length: 20 }, (_, i) => `y${i}`);
    for (const content of later) await post(content);
    await page.context().setOffline(false);
    await page.waitForFunction(() => window.seen.messages.length >= 22);

    const seen = await page.evaluate(() => window.seen.messages);
    assert.deepEqual(seen.map((m) => m.seq), Array.from({ length: 22 }, (_, i) => i + 1));
    assert.deepEqual(seen.map((m) => m.content), ["x0", "x1", ...later]);
    const [ack] = await page.evaluate(() => window.truncated);
    assert.equal(ack.truncated, true);
  } finally {
    await small.stop();
  }
});
