/**
 * The widget's behaviour: opening and closing, the visitor's session and support
 * conversation (resumed after a reload: history over REST, then joined live), sends and
 * image uploads, the agent's typing and read receipts, the closed state, the unread badge.
 * widget.js loads this module and calls mount(config).
 * @module
 */
import { MessageList } from "./messages.js";
import { Outbox } from "./outbox.js";
import { People } from "./people.js";
import { SessionError, WidgetSession } from "./session.js";
import { View } from "./view.js";

/**
 * Whether a conversation is over for the visitor: closed, or resolved by the support team (the
 * widget then offers a new conversation; docs/PROTOCOL.md, *Support desk*).
 * @param {string | undefined} status
 */
function finished(status) {
  return status === "closed" || status === "resolved";
}

/** @param {any} config from widget.js */
export function mount(config) {
  return new WidgetApp(config);
}

class WidgetApp {
  constructor(config) {
    this.config = config;
    this.identity = config.identity;
    this.session = new WidgetSession(config);
    this.view = new View(config);
    this.messages = new MessageList(this.view, {
      baseUrl: config.origin, nameOf: (id) => this.people.nameOf(id), onRetry: (id) => this.outbox.deliver(id),
    });
    this.people = new People({
      client: () => this.client,
      named: (id, name) => this.messages.named(id, name),
      typing: (text) => this.view.setTyping(text),
    });
    this.outbox = new Outbox(this);
    /** @type {any} */
    this.client = null;
    this.me = null;
    /** The visitor's support conversation (§4.2 view); null until their first message. */
    this.conversation = null;
    this.lastRead = 0;
    this.unread = 0;
    this.ready = false;
    this.refused = false;
    this.starting = null;
    this.creating = null;
    /** Moves on every identity change: answers for an older one are dropped. */
    this.generation = 0;
    this.bind();
    this.composerState();
    // A returning visitor or a signed-in user is connected at once (for the badge); a new
    // visitor only when they open the panel.
    if (this.identity?.external_id || this.session.visitorToken) this.start();
  }

  bind() {
    const v = this.view;
    v.launcher.addEventListener("click", () => this.toggle());
    v.closeButton.addEventListener("click", () => this.close());
    v.root.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && v.isOpen) {
        event.stopPropagation();
        this.close();
      }
    });
    v.composer.addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendText();
    });
    v.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.sendText();
      }
    });
    v.input.addEventListener("input", () => {
      if (this.conversation && !finished(this.conversation.status) && v.input.value.trim()) this.client?.typing(this.conversation.id);
    });
    v.attach.addEventListener("click", () => v.file.click());
    v.file.addEventListener("change", () => {
      for (const file of v.file.files ?? []) this.outbox.file(file);
      this.refreshIntro();
      v.file.value = "";
    });
    v.newButton.addEventListener("click", () => this.startNew());
    v.retryButton.addEventListener("click", () => this.restart());
    v.earlier.addEventListener("click", () => this.loadEarlier());
    document.addEventListener("visibilitychange", () => this.markRead());
  }

  // The host page's API (window.Parlor)

  open() {
    this.view.setOpen(true);
    this.updateBadge();
    if (!this.refused) this.start(); // refused for good: identify() or reset() starts again
    this.focusComposer();
    this.view.scrollToBottom();
    this.markRead();
  }

  close() {
    const inside = this.view.hasFocus();
    this.view.setOpen(false);
    this.updateBadge();
    if (inside) this.view.launcher.focus();
  }

  toggle() {
    if (this.view.isOpen) this.close();
    else this.open();
  }

  /** @param {{external_id?: string, user_hash?: string, name?: string, email?: string}} identity */
  identify(identity) {
    const now = this.identity;
    if (now && now.external_id === identity.external_id && now.user_hash === identity.user_hash) return;
    this.identity = identity;
    this.restart();
  }

  reset() {
    this.session.forget();
    this.identity = null;
    this.teardown();
    if (this.view.isOpen) this.start();
  }

  // Session and conversation

  start() {
    if (!this.starting) {
      const generation = this.generation;
      this.starting = this.run(generation).catch((error) => this.failed(error, generation));
    }
    return this.starting;
  }

  /** @param {number} generation */
  async run(generation) {
    this.view.setError(null);
    this.view.setStatus("Connecting…");
    let ParlorClient;
    try {
      ({ ParlorClient } = await import(new URL("/clients/js/parlor.js", this.config.origin).href));
    } catch {
      throw new SessionError("unavailable", "The chat couldn't be loaded.");
    }
    const identity = this.identity;
    const tokens = await this.session.open(identity);
    if (generation !== this.generation) return;
    const client = new ParlorClient({
      baseUrl: this.config.origin, tokens, getTokens: () => this.session.open(identity),
    });
    this.client = client;
    this.me = tokens.user;
    this.messages.me = tokens.user.id;
    this.listen(client);
    await client.connect();
    const latest = await client.api("GET", "/conversations", undefined, { query: { kind: "support", limit: 1 } });
    if (generation !== this.generation) return;
    if (Array.isArray(latest) && latest[0]) await this.show(latest[0]);
    if (generation !== this.generation) return;
    this.ready = true;
    this.view.setStatus(null);
    this.composerState();
  }

  /** @param {unknown} error @param {number} generation */
  failed(error, generation) {
    if (generation !== this.generation) return;
    this.starting = null;
    // A half-made session goes: the next start() makes a whole one.
    this.client?.disconnect();
    this.client = null;
    this.conversation = null;
    this.view.setStatus(null);
    const kind = error instanceof SessionError ? error.kind : "unavailable";
    const message = error instanceof SessionError ? error.message : "The chat is unavailable right now.";
    this.view.setError(message, kind === "unavailable");
    // Refused for good (identity, origin, project): no composer. Otherwise a send tries again.
    this.refused = kind !== "unavailable";
    this.refreshIntro();
    this.composerState();
  }

  /** Drops the session and everything shown; the next start() begins afresh. */
  teardown() {
    this.generation++;
    this.client?.disconnect();
    this.client = null;
    this.me = null;
    this.conversation = null;
    this.ready = false;
    this.refused = false;
    this.starting = null;
    this.creating = null;
    this.unread = 0;
    this.lastRead = 0;
    this.people.stopped(null);
    this.outbox.clear();
    this.messages.clear();
    this.view.setClosed(false);
    this.view.setError(null);
    this.view.setStatus(null);
    this.view.earlier.hidden = true;
    this.refreshIntro();
    this.updateBadge();
    this.composerState();
  }

  restart() {
    this.teardown();
    if (this.view.isOpen || this.identity?.external_id || this.session.visitorToken) this.start();
  }

  /** Shows a conversation from its newest page of history, then follows it live. */
  async show(conversation) {
    this.messages.clear({ keepPending: true });
    const page = await this.client.history(conversation.id, { limit: 50 });
    for (const message of page) this.messages.upsert(message);
    this.view.earlier.hidden = !(page.length && page[0].seq > 1);
    const seen = this.session.recall("seen");
    if (seen?.conversation === conversation.id) this.messages.read(seen.seq);
    this.unread = conversation.unread_count ?? 0;
    await this.adopt(conversation);
    this.view.scrollToBottom();
  }

  /** Makes `conversation` the current one and joins it, resuming after what is shown. */
  async adopt(conversation) {
    this.conversation = conversation;
    this.lastRead = conversation.last_read_seq ?? 0;
    this.view.setClosed(finished(conversation.status));
    this.refreshIntro();
    this.composerState();
    this.updateBadge();
    await this.client.join(conversation.id, { sinceSeq: this.messages.lastSeq });
    this.markRead();
  }

  /** The open conversation to send to: the current one, or a new support conversation. */
  async ensureConversation() {
    if (this.conversation) return this.conversation;
    if (!this.creating) {
      const generation = this.generation;
      this.creating = (async () => {
        await this.start();
        if (!this.client) throw new SessionError("unavailable", "Not connected.");
        if (this.conversation) return this.conversation;
        const created = await this.client.api("POST", "/conversations", { kind: "support", participant_ids: [] });
        if (generation !== this.generation) throw new SessionError("unavailable", "The chat was reset.");
        await this.adopt(created);
        return created;
      })().finally(() => { this.creating = null; });
    }
    return this.creating;
  }

  /** "Start a new conversation": an empty panel; the next message opens a new one. */
  startNew() {
    const old = this.conversation;
    this.conversation = null;
    if (old) this.client?.leave(old.id).catch(() => {});
    this.messages.clear();
    this.session.remember("seen", null);
    this.people.stopped(null);
    this.view.setClosed(false);
    this.view.earlier.hidden = true;
    this.refreshIntro();
    this.composerState();
    this.view.input.focus();
  }

  async loadEarlier() {
    const first = this.messages.firstSeq;
    if (!this.conversation || first === null) return;
    const body = this.view.body;
    const fromBottom = body.scrollHeight - body.scrollTop;
    const page = await this.client.history(this.conversation.id, { before_seq: first, limit: 50 }).catch(() => []);
    for (const message of page) this.messages.upsert(message);
    body.scrollTop = body.scrollHeight - fromBottom;
    this.view.earlier.hidden = !(page.length && page[0].seq > 1);
  }

  // Events

  /** @param {any} client */
  listen(client) {
    const here = (data) => client === this.client && data && data.conversation_id === this.conversation?.id;
    const others = (data) => here(data) && data.user_id !== this.me?.id;
    client.on("message", (message) => { if (here(message)) this.received(message); });
    client.on("message:updated", (data) => { if (here(data.message)) this.messages.upsert(data.message); });
    client.on("message:deleted", (data) => { if (here(data)) this.messages.deleted(data); });
    client.on("typing:start", (data) => { if (others(data)) this.people.started(data.user_id); });
    client.on("typing:stop", (data) => { if (others(data)) this.people.stopped(data.user_id); });
    client.on("message:read", (data) => {
      if (here(data) && data.user_id === this.me?.id) return this.readElsewhere(data.seq);
      if (!others(data)) return;
      this.messages.read(data.seq);
      this.session.remember("seen", { conversation: data.conversation_id, seq: this.messages.readSeq });
    });
    client.on("conversation:closed", (data) => { if (here(data)) this.closed(); });
    // The team opened a resolved conversation again (or put it aside): the composer follows.
    client.on("conversation:status", (data) => { if (here(data) && !finished(data.status)) this.reopened(data.status); });
    client.on("participant:added", (data) => { if (others(data)) this.people.nameOf(data.user_id); });
    client.on("state", (state, info) => { if (client === this.client) this.connection(state, info); });
  }

  /** @param {any} message */
  received(message) {
    const follow = this.view.nearBottom() || message.sender_id === this.me?.id;
    const fresh = this.messages.upsert(message);
    this.refreshIntro();
    if (message.sender_id !== this.me?.id) {
      this.people.stopped(message.sender_id);
      if (fresh && message.kind !== "system" && !message.deleted_at && message.seq > this.lastRead) {
        this.unread++;
        this.updateBadge();
        this.markRead();
      }
    }
    if (follow) this.view.scrollToBottom();
  }

  closed() {
    if (!this.conversation) return;
    this.conversation = { ...this.conversation, status: "closed" };
    this.people.stopped(null);
    const focused = this.view.shadow.activeElement === this.view.input;
    this.view.setClosed(true);
    this.composerState();
    if (focused) this.view.newButton.focus();
    if (this.view.nearBottom()) this.view.scrollToBottom();
  }

  /** @param {string} status */
  reopened(status) {
    if (!this.conversation) return;
    this.conversation = { ...this.conversation, status };
    this.view.setClosed(false);
    this.composerState();
  }

  /** @param {string} state @param {any} info */
  connection(state, info) {
    if (state === "reconnecting") this.view.setStatus("Reconnecting…");
    else if (state === "open") {
      if (this.ready) this.view.setStatus(null);
      this.markRead();
    } else if (state === "closed" && info?.error) {
      this.view.setStatus(null);
      this.view.setError("The chat was disconnected.", true);
      this.starting = null;
      this.ready = false;
      this.composerState();
    }
  }

  // Typing, receipts, badge

  /** Whether the visitor can see the messages now. */
  visible() {
    return this.view.isOpen && document.visibilityState === "visible";
  }

  /** Read receipt for everything shown, when the visitor can see it. */
  markRead() {
    if (!this.visible() || !this.conversation || !this.client || this.client.state !== "open") return;
    this.unread = 0;
    this.updateBadge();
    const last = this.messages.lastSeq;
    if (last <= this.lastRead) return;
    this.lastRead = last;
    this.client.markRead(this.conversation.id, last).catch(() => {});
  }

  /** The visitor read up to `seq` in another tab: no unread badge here either. @param {number} seq */
  readElsewhere(seq) {
    if (seq <= this.lastRead) return;
    this.lastRead = seq;
    if (seq >= this.messages.lastSeq) {
      this.unread = 0;
      this.updateBadge();
    }
  }

  updateBadge() {
    this.view.setBadge(this.view.isOpen ? 0 : this.unread);
  }

  // Sending

  /** The composer works while connecting too (sends wait for the session), not once refused. */
  composerState() {
    const closed = finished(this.conversation?.status);
    this.view.setComposer(!this.refused && !closed);
    this.view.composer.hidden = this.refused || closed;
  }

  refreshIntro() {
    this.view.intro.hidden = this.messages.items.size + this.messages.pending.size > 0 || !this.view.errorNotice.hidden;
  }

  focusComposer() {
    if (!this.view.isOpen) return;
    if (!this.view.composer.hidden && !this.view.input.disabled) this.view.input.focus();
    else if (!this.view.closedNotice.hidden) this.view.newButton.focus();
    else this.view.closeButton.focus();
  }

  sendText() {
    const text = this.view.input.value;
    if (!text.trim() || this.view.input.disabled) return;
    this.view.input.value = "";
    this.view.grow();
    this.outbox.text(text);
    this.refreshIntro();
  }
}
