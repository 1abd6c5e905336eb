// The client's bookkeeping without a browser or a server: the resume state of a conversation
// (dedupe by seq, replays put in seq order, truncated ranges) and the exactly-once send queue.

import assert from "node:assert/strict";
import { test } from "node:test";

import { ConversationState } from "../../clients/js/conversations.js";
import { ParlorError } from "../../clients/js/errors.js";
import { SendQueue } from "../../clients/js/sends.js";

const message = (seq, version, content = `m${seq}`) => ({ id: 100 + seq, conversation_id: 1, seq, version, content });
const fresh = (seq, version, content) => ({ type: "message:new", data: { message: message(seq, version, content) } });

test("a message seen once is not told again; a changed one is told as message:updated", () => {
  const state = new ConversationState(1);
  state.acked({ last_seq: 0, version: 0 });
  assert.equal(state.apply(fresh(1, 1)).type, "message:new");
  assert.equal(state.apply(fresh(1, 1)), null);
  assert.equal(state.apply(fresh(1, 3, "edited")).type, "message:updated");
  assert.deepEqual(state.joinData(), { conversation_id: 1, since_version: 3 });
});

test("a since_version replay is told new messages first, by seq, then the changes", () => {
  const state = new ConversationState(1);
  state.acked({ last_seq: 2, version: 2 });
  // Away: 3 stored (v3), 4 stored (v4), 3 edited (v5), 1 deleted (v6); the replay is by version.
  state.replay = [
    fresh(4, 4),
    fresh(3, 5, "m3 edited"),
    { type: "message:deleted", data: { conversation_id: 1, message_id: 101, seq: 1, version: 6 } },
  ];
  const told = state.ordered().map((frame) => state.apply(frame)).filter(Boolean);
  assert.deepEqual(told.map((f) => [f.type, f.data.message?.seq ?? f.data.seq]),
    [["message:new", 3], ["message:new", 4], ["message:deleted", 1]]);
  assert.equal(state.upTo, 4);
  assert.equal(state.version, 6);
});

test("a truncated replay names the seqs to read over REST", () => {
  const state = new ConversationState(1);
  state.acked({ last_seq: 10, version: 10 });
  state.replay = [fresh(1500, 1500), fresh(1501, 1501)];
  assert.deepEqual(state.missing({ last_seq: 1501, first_seq: 1500 }), { after: 10, before: 1500 });
  state.replay = [fresh(11, 11)];
  assert.equal(state.missing({ last_seq: 11 }), null);
});

test("seqs seen out of order close their gap when it fills", () => {
  const state = new ConversationState(1);
  state.acked({ last_seq: 0, version: 0 });
  state.apply(fresh(2, 2));
  assert.equal(state.upTo, 0);
  assert.ok(state.seen(2) && !state.seen(1));
  state.apply(fresh(1, 1));
  assert.equal(state.upTo, 2);
});

test("a send is retried with its client_msg_id until acknowledged, and refused ones fail", async () => {
  const attempts = [];
  let online = false;
  const queue = new SendQueue({
    max: 2,
    ready: () => online,
    transmit: async (data) => {
      attempts.push(data.client_msg_id);
      if (attempts.length === 1) throw new ParlorError("disconnected", "socket closed");
      if (attempts.length === 2) throw new ParlorError("rate_limited", "slow down", { retryAfterMs: 5 });
      if (data.content === "bad") throw new ParlorError("validation_failed", "content: too long");
      return { message: message(1, 1, data.content) };
    },
    delivered: () => {},
  });
  online = true;
  const sent = queue.add(1, { content: "hello" });
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(attempts.length, 1); // disconnected: waits for the next flush
  queue.flush();
  assert.equal((await sent).content, "hello");
  assert.equal(new Set(attempts).size, 1, "every attempt carries the same client_msg_id");
  assert.equal(attempts.length, 3);
  await assert.rejects(queue.add(1, { content: "bad" }), { code: "validation_failed" });
  online = false;
  queue.add(1, { content: "a" });
  queue.add(1, { content: "b" });
  await assert.rejects(queue.add(1, { content: "c" }), { code: "queue_full" });
});
