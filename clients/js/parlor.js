// @ts-check
/**
 * Parlor's JavaScript client: an ES module with no build step and no dependencies, for browsers
 * (and any runtime with fetch and WebSocket). clients/js/README.md describes it, parlor.d.ts
 * types it and docs/PROTOCOL.md is the protocol it speaks.
 *
 * ```js
 * import { ParlorClient } from "/clients/js/parlor.js";
 * const client = new ParlorClient();
 * await client.login({ username: "ann", password: "correct horse" });
 * client.on("message", (message) => render(message));
 * await client.connect();
 * await client.join(conversationId);
 * await client.send(conversationId, { content: "hi" });
 * ```
 * @module
 */
import { Connection } from "./connection.js";
import { ConversationState, MAX_HELD } from "./conversations.js";
import { ParlorError } from "./errors.js";
import { refreshMargin } from "./http.js";
import { ParlorRestClient } from "./rest.js";
import { SendQueue } from "./sends.js";

export { ParlorError, isTransient } from "./errors.js";
export { ParlorRestClient } from "./rest.js";

/** Frames a join's replay consists of: held until the join's ack. */
const REPLAYED = new Set(["message:new", "note:new", "message:updated", "message:deleted"]);

export class ParlorClient extends ParlorRestClient {
  /** @param {import("./parlor").ParlorClientOptions} [options] */
  constructor(options = {}) {
    super(options);
    this.typingThrottleMs = options.typingThrottleMs ?? 3000;
    this.typingIdleMs = options.typingIdleMs ?? 4000;
    /** @type {Map<number, ConversationState>} */
    this.joined = new Map();
    /** @type {Map<number, {last: number, timer?: ReturnType<typeof setTimeout>}>} */
    this.typists = new Map();
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.renewTimer = undefined;
    this.connection = new Connection({
      http: this.http,
      backoff: { minDelayMs: options.reconnect?.minDelayMs ?? 500, maxDelayMs: options.reconnect?.maxDelayMs ?? 30_000 },
      limits: {
        perSecond: options.frames?.perSecond ?? 16, burst: options.frames?.burst ?? 32,
        maxInFlight: options.frames?.maxInFlight ?? 100, maxQueued: options.frames?.maxQueued ?? 1000,
      },
      onState: (state, info) => this.stateChanged(state, info),
      onWelcome: (data) => this.welcomed(data),
      onFrame: (frame) => this.route(frame),
      onSocketClosed: () => this.socketClosed(),
    });
    this.sends = new SendQueue({
      max: options.maxPendingSends ?? 100,
      transmit: (data) => this.connection.request("message:send", data),
      ready: (id) => this.connection.state === "open" && (this.joined.get(id)?.status ?? "joined") === "joined",
      delivered: (message, first) => this.delivered(message, first),
    });
  }

  /** @returns {import("./connection.js").ConnectionState} */
  get state() {
    return this.connection.state;
  }

  /** Disconnects, revokes the refresh token (`POST /auth/logout`) and forgets the tokens. */
  async logout() {
    this.disconnect();
    this.joined.clear();
    await super.logout();
  }

  // Realtime

  /** Opens the WebSocket (and keeps it open); resolves on its `welcome` frame. */
  connect() {
    return this.connection.start();
  }

  /**
   * Closes the WebSocket: no reconnect. Waiting sends and join() calls fail with `closed`; the
   * joined conversations are kept, and resumed by the next connect().
   */
  disconnect() {
    this.connection.stop();
  }

  /**
   * Joins a conversation, now or as soon as the socket is open, and again after every
   * reconnect, resuming from the last message seen. Resolves with the join's ack.
   * @param {number} conversationId
   * @param {{sinceSeq?: number, sinceVersion?: number}} [options] replay what came after
   */
  join(conversationId, options = {}) {
    let state = this.joined.get(conversationId);
    if (!state) this.joined.set(conversationId, (state = new ConversationState(conversationId)));
    if (typeof options.sinceSeq === "number") {
      Object.assign(state, { upTo: options.sinceSeq, version: null });
      state.above.clear();
    }
    if (typeof options.sinceVersion === "number") state.version = options.sinceVersion;
    state.wanted = true;
    const acked = new Promise((resolve, reject) => state.waiters.push({ resolve, reject }));
    if (this.state === "open" && state.status !== "joining") this.sendJoin(state);
    return acked;
  }

  /** @param {number} conversationId */
  async leave(conversationId) {
    const state = this.joined.get(conversationId);
    this.joined.delete(conversationId);
    state?.failed(new ParlorError("closed", "left the conversation"));
    if (this.state === "open") await this.connection.request("conversation:leave", { conversation_id: conversationId });
  }

  /**
   * Sends a message exactly once: retried with the same `client_msg_id` until acknowledged.
   * Resolves with the stored message (which `message:new` also tells, once).
   * @param {number} conversationId
   * @param {{content?: string, attachment_id?: number, reply_to?: number, client_msg_id?: string, private?: boolean}} body
   */
  send(conversationId, body) {
    const typist = this.typists.get(conversationId);
    if (typist) {
      clearTimeout(typist.timer); // the server ends the indicator with the send
      this.typists.delete(conversationId);
    }
    return this.sends.add(conversationId, body);
  }

  /**
   * Says the user is typing: at most one `typing:start` per `typingThrottleMs`, and a
   * `typing:stop` once `typingIdleMs` pass without another call.
   * @param {number} conversationId
   */
  typing(conversationId) {
    let typist = this.typists.get(conversationId);
    if (!typist) this.typists.set(conversationId, (typist = { last: 0 }));
    const now = Date.now();
    if (now - typist.last >= this.typingThrottleMs) {
      typist.last = now;
      this.fire("typing:start", { conversation_id: conversationId });
    }
    clearTimeout(typist.timer);
    typist.timer = setTimeout(() => this.stopTyping(conversationId), this.typingIdleMs);
  }

  /** @param {number} conversationId */
  stopTyping(conversationId) {
    const typist = this.typists.get(conversationId);
    if (!typist) return;
    clearTimeout(typist.timer);
    this.typists.delete(conversationId);
    this.fire("typing:stop", { conversation_id: conversationId });
  }

  /**
   * Read receipt up to `seq`: over the socket when it is open, else over REST. Resolves with
   * the user's watermarks (§4.5).
   * @param {number} conversationId
   * @param {number} seq
   */
  async markRead(conversationId, seq) {
    if (this.state === "open") {
      try {
        return await this.connection.request("message:read", { conversation_id: conversationId, seq });
      } catch (error) {
        if (!(error instanceof ParlorError) || !["disconnected", "not_connected"].includes(error.code)) throw error;
      }
    }
    return this.api("POST", `/conversations/${conversationId}/read`, { seq });
  }

  /**
   * Delivery receipt up to `seq` (socket only; resolves with null when it is not open).
   * @param {number} conversationId
   * @param {number} seq
   */
  async markDelivered(conversationId, seq) {
    if (this.state !== "open") return null;
    return this.connection.request("message:delivered", { conversation_id: conversationId, seq });
  }

  /**
   * Adds (or with `add` false takes back) a reaction.
   * @param {number} messageId
   * @param {string} emoji
   * @param {boolean} [add]
   */
  react(messageId, emoji, add = true) {
    return this.request(add ? "reaction:add" : "reaction:remove", { message_id: messageId, emoji });
  }

  /**
   * Any client frame, resolved with its ack's data (rejected with its error).
   * @param {string} type
   * @param {object} data
   */
  request(type, data) {
    return this.connection.request(type, data);
  }

  // Internals

  /** @param {string} type @param {object} data */
  fire(type, data) {
    if (this.state === "open") this.connection.request(type, data).catch(() => {});
  }

  /** @param {import("./connection.js").ConnectionState} state @param {any} info */
  stateChanged(state, info) {
    if (state === "closed") {
      clearTimeout(this.renewTimer);
      const error = info.error ?? new ParlorError("closed", "the client was disconnected");
      this.sends.failAll(error);
      for (const conversation of this.joined.values()) conversation.failed(error);
      this.socketClosed();
    }
    this.events.emit("state", state, info);
  }

  /** @param {any} data */
  welcomed(data) {
    this.user = data.user ?? this.user;
    this.scheduleRenewal(data.token_expires_at);
    for (const state of this.joined.values()) if (state.wanted) this.sendJoin(state);
    this.sends.flush();
    this.events.emit("welcome", data, { type: "welcome", data });
  }

  socketClosed() {
    clearTimeout(this.renewTimer);
    for (const state of this.joined.values()) {
      state.status = "idle";
      state.replay = [];
      state.held = null;
    }
    for (const typist of this.typists.values()) clearTimeout(typist.timer);
    this.typists.clear();
  }

  /** @param {ConversationState} state */
  sendJoin(state) {
    const attempt = ++state.attempt;
    state.status = "joining";
    state.replay = [];
    state.held = null;
    this.connection.request("conversation:join", state.joinData()).then(
      (ack) => this.joinAcked(state, ack, attempt),
      (error) => {
        if (state.attempt !== attempt || this.joined.get(state.id) !== state) return;
        state.status = "idle";
        // Joined again on the next welcome (a disconnect() keeps the joins for the next connect()).
        if (["disconnected", "not_connected", "closed"].includes(error.code)) return;
        if (["unavailable", "rate_limited", "internal"].includes(error.code)) {
          setTimeout(() => { if (state.wanted && state.status === "idle" && this.state === "open") this.sendJoin(state); },
            error.retryAfterMs ?? 1000);
          return;
        }
        state.wanted = false;
        this.joined.delete(state.id);
        state.failed(error);
        this.sends.flush(state.id); // they fail on their own (not_found, forbidden)
      });
  }

  /**
   * @param {ConversationState} state
   * @param {any} ack
   * @param {number} attempt
   */
  async joinAcked(state, ack, attempt) {
    if (state.attempt !== attempt || this.joined.get(state.id) !== state) return;
    let filled = [];
    const gap = ack.truncated ? state.missing(ack) : null;
    if (gap) {
      state.held = [];
      try {
        filled = await this.fill(state.id, gap);
      } catch {
        if (state.attempt === attempt) this.connection.drop("could not complete a truncated replay");
        return;
      }
      if (state.attempt !== attempt || state.status !== "joining") return;
    }
    for (const frame of state.ordered(filled.map((message) => ({ type: "message:new", data: { message } })))) {
      const out = state.apply(frame);
      if (out) this.emitFrame(out);
    }
    const held = state.held ?? [];
    state.held = null;
    state.acked(ack);
    if (ack.truncated) this.events.emit("conversation:truncated", ack, { type: "conversation:truncated", data: ack });
    for (const frame of held) this.route(frame);
    this.sends.flush(state.id);
  }

  /**
   * Reads the messages a truncated replay left out, over REST, oldest first.
   * @param {number} id
   * @param {{after: number, before: number}} gap
   */
  async fill(id, gap) {
    const messages = [];
    let after = gap.after;
    while (after + 1 < gap.before) {
      const page = await this.history(id, { after_seq: after, before_seq: gap.before, limit: 200 });
      if (!page.length) break;
      messages.push(...page);
      after = page[page.length - 1].seq;
    }
    return messages;
  }

  /** @param {any} frame */
  route(frame) {
    const data = frame.data ?? {};
    const id = typeof data.conversation_id === "number" ? data.conversation_id : data.message?.conversation_id;
    const state = id === undefined ? undefined : this.joined.get(id);
    if (state?.status === "joining" && (state.held || REPLAYED.has(frame.type))) {
      const queue = state.held ?? state.replay;
      queue.push(frame);
      if (state.replay.length + (state.held?.length ?? 0) > MAX_HELD) this.connection.drop("replay too long to hold");
      return;
    }
    if (state?.status === "joined") {
      const out = state.apply(frame);
      if (!out) return;
      frame = out;
      if (frame.type === "participant:removed" && data.user_id === this.user?.id) {
        this.joined.delete(state.id); // detached by the server (§3, Membership)
      } else if (frame.type === "resync") {
        state.status = "idle";
        this.sendJoin(state);
      }
    }
    this.emitFrame(frame);
  }

  /** @param {any} frame */
  emitFrame(frame) {
    this.events.emit(frame.type, frame.data, frame);
    if (frame.type === "message:new" || frame.type === "note:new") this.events.emit("message", frame.data.message, frame);
    this.events.emit("*", frame.data, frame);
  }

  /**
   * A send was acknowledged: tell it as `message:new` (frame.own true) unless a replay did.
   * @param {any} message
   * @param {boolean} first whether the first attempt was acknowledged (in order with events)
   */
  delivered(message, first) {
    /** @type {import("./conversations.js").Frame} */
    let frame = { type: "message:new", data: { message }, own: true };
    const state = this.joined.get(message.conversation_id);
    if (state && state.upTo !== null) {
      const out = state.apply(frame, { raise: first && state.status === "joined" });
      if (!out) return;
      frame = { ...out, own: true };
    }
    this.emitFrame(frame);
  }

  /**
   * Renews the session in band a minute before its token expires, or a quarter of its time
   * left before when that is shorter (§5.4 `auth:refresh`).
   * @param {string} expiresAt
   */
  scheduleRenewal(expiresAt) {
    clearTimeout(this.renewTimer);
    const at = Date.parse(expiresAt);
    if (Number.isNaN(at)) return;
    const left = at - Date.now();
    const wait = Math.min(2 ** 31 - 1, Math.max(0, left - refreshMargin(left)));
    this.renewTimer = setTimeout(() => this.renew(at), wait);
  }

  /**
   * Hands the socket a newer access token than the one that expires at `at` (refreshing the
   * pair over REST unless a newer one is already held); retried while there is time.
   * @param {number} at
   */
  async renew(at) {
    try {
      const held = this.http.tokens;
      const token = held && (held.expires_at ?? 0) > at ? held.access_token : await this.http.accessToken({ force: true });
      const ack = await this.connection.request("auth:refresh", { access_token: token });
      this.scheduleRenewal(ack.token_expires_at);
    } catch (error) {
      // A refused refresh ends the session at its expiry (4001), and the reconnect finds out.
      const retryIn = Math.min(10_000, (at - Date.now()) / 4);
      if (error instanceof ParlorError && error.status !== 401 && retryIn > 100) {
        this.renewTimer = setTimeout(() => this.renew(at), retryIn);
      }
    }
  }
}
