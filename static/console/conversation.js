// One conversation: its history (older pages on scroll or button), live messages, typing,
// read receipts, attachments, the composer and closing.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { html, Icon, formatTime, formatDateTime, formatBytes, askConfirm, showError, notice } from "./lib.js";
import {
  client, state, useStore, conversationTitle, displayName, addConversation, applyMessage,
  markRead, typingUsers, waiting, takeConversation,
} from "./store.js";
import { Composer } from "./composer.js";
import { DeskControls } from "./desk-controls.js";

const PAGE = 50;

// Merges messages into a list ordered by seq; a newer version replaces an older one, keeping
// the reader's `me` on reactions where the incoming copy has none (PROTOCOL.md §4.3).
export function mergeMessages(list, incoming) {
  const bySeq = new Map(list.map((m) => [m.seq, m]));
  for (const message of incoming) {
    const old = bySeq.get(message.seq);
    if (old && old.version > message.version) continue;
    if (old && message.reactions) {
      message.reactions = message.reactions.map((r) => {
        const before = old.reactions && old.reactions.find((o) => o.emoji === r.emoji);
        return r.me === null || r.me === undefined ? { ...r, me: before ? before.me : false } : r;
      });
    }
    bySeq.set(message.seq, message);
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

function Attachment({ attachment: a }) {
  if (a.content_type.startsWith("image/") && a.thumbnail_url) {
    const scale = Math.min(1, 240 / Math.max(a.width || 240, a.height || 240));
    return html`<a class="att-image" href=${a.url} target="_blank" rel="noopener" title=${`${a.original_name}, ${formatBytes(a.size)}`}>
      <img src=${a.thumbnail_url} alt=${a.original_name} loading="lazy"
        width=${Math.round((a.width || 240) * scale)} height=${Math.round((a.height || 240) * scale)} />
    </a>`;
  }
  return html`<a class="att-file" href=${a.url} target="_blank" rel="noopener" download=${a.original_name}>
    <${Icon} name="clip" /> ${a.original_name} <span class="muted small">${formatBytes(a.size)}</span>
  </a>`;
}

function Message({ message, mine, seenBy }) {
  if (message.kind === "system") {
    return html`<li class="msg-system" data-testid="message" data-seq=${message.seq}>
      <span>${message.content}</span> <time class="muted" datetime=${message.created_at}>${formatTime(message.created_at)}</time>
    </li>`;
  }
  const mentionsMe = state.me && (message.mentions || []).includes(state.me.id);
  const cls = `msg${mine ? " mine" : ""}${message.private ? " note" : ""}${message.deleted_at ? " deleted" : ""}${mentionsMe ? " mentions-me" : ""}`;
  return html`<li class=${cls} data-testid="message" data-seq=${message.seq} data-message-id=${message.id}>
    <div class="msg-head">
      <span class="msg-sender">${displayName(message.sender_id)}</span>
      ${message.private ? html`<span class="tag" data-testid="note-tag">internal note</span>` : null}
      <time datetime=${message.created_at} title=${formatDateTime(message.created_at)}>${formatTime(message.created_at)}</time>
      ${message.edited_at && !message.deleted_at ? html`<span class="muted small">(edited)</span>` : null}
    </div>
    <div class="bubble">
      ${message.reply_to
        ? html`<p class="reply-quote">↪ ${displayName(message.reply_to.sender_id)}: ${message.reply_to.deleted ? "message deleted" : message.reply_to.preview}</p>`
        : null}
      ${message.deleted_at
        ? html`<em class="muted">Message deleted</em>`
        : html`${message.attachment ? html`<${Attachment} attachment=${message.attachment} />` : null}
            ${message.content ? html`<p class="msg-text">${message.content}</p>` : null}`}
      ${message.reactions && message.reactions.length
        ? html`<ul class="reactions" aria-label="Reactions">${message.reactions.map((r) =>
            html`<li class=${r.me ? "reaction me" : "reaction"}>${r.emoji} ${r.count}</li>`)}</ul>`
        : null}
    </div>
    ${seenBy && seenBy.length
      ? html`<p class="seen" data-testid="seen">Seen by ${seenBy.map(displayName).join(", ")}</p>`
      : null}
  </li>`;
}

export function ConversationView({ id, back }) {
  const store = useStore();
  const [fetched, setFetched] = useState(null); // a conversation not in the queue (admins)
  const [messages, setMessages] = useState([]);
  const [hasOlder, setHasOlder] = useState(false);
  const [loading, setLoading] = useState(true);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [atBottom, setAtBottom] = useState(true);
  const [, setVisible] = useState(!document.hidden);
  const listRef = useRef(null);
  const scrollPlan = useRef(null); // "bottom", or {height, top} to keep the view still
  const conv = store.convs.get(id) || fetched;
  const participant = !!(conv && conv.member_role);

  // First page and the conversation itself.
  useEffect(() => {
    let live = true;
    setLoading(true);
    (async () => {
      try {
        if (!store.convs.get(id)) {
          const view = await client.api("GET", `/api/v1/conversations/${id}`);
          if (!live) return;
          if (view.member_role) addConversation(view);
          setFetched(view);
        }
        const page = await client.history(id, { limit: PAGE });
        if (!live) return;
        scrollPlan.current = "bottom";
        setMessages((live) => mergeMessages(live, page)); // keep what arrived meanwhile
        setHasOlder(page.length > 0 && page[0].seq > 1);
      } catch (error) {
        if (live) showError(error, "Loading the conversation");
      } finally {
        if (live) setLoading(false);
      }
    })();
    return () => (live = false);
  }, [id]);

  // Live events of this conversation.
  useEffect(() => {
    const mine = (data) => data.conversation_id === id || (data.message && data.message.conversation_id === id);
    const offs = [
      client.on("message:new", (d) => mine(d) && incoming([d.message])),
      client.on("note:new", (d) => mine(d) && incoming([d.message])),
      // An edit of a message older than the pages loaded is not shown out of its place.
      client.on("message:updated", (d) => mine(d) && setMessages((list) =>
        (list.some((m) => m.id === d.message.id) ? mergeMessages(list, [d.message]) : list))),
      client.on("message:deleted", (d) => mine(d) && setMessages((list) => list.map((m) => m.id === d.message_id
        ? { ...m, content: "", attachment: null, deleted_at: m.deleted_at || new Date().toISOString(), version: d.version, reactions: [], mentions: [] }
        : m))),
      client.on("reaction:added", (d) => mine(d) && react(d, true)),
      client.on("reaction:removed", (d) => mine(d) && react(d, false)),
      client.on("conversation:closed", (d) => mine(d) && setFetched((c) => c && { ...c, status: c.kind === "support" ? "resolved" : "closed", closed_by: d.closed_by, closed_at: d.closed_at })),
      client.on("conversation:status", (d) => mine(d) && setFetched((c) => c && { ...c, status: d.status, snoozed_until: d.snoozed_until })),
      client.on("conversation:assigned", (d) => mine(d) && setFetched((c) => c && { ...c, assignee_id: d.assignee_id })),
    ];
    const onVisibility = () => setVisible(!document.hidden);
    document.addEventListener("visibilitychange", onVisibility);
    state.viewing = id;
    return () => {
      for (const off of offs) off();
      document.removeEventListener("visibilitychange", onVisibility);
      if (state.viewing === id) state.viewing = null;
    };
  }, [id]);

  function incoming(list) {
    const el = listRef.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 60) scrollPlan.current = "bottom";
    setMessages((old) => mergeMessages(old, list));
  }

  function react(d, added) {
    setMessages((list) => list.map((m) => {
      if (m.id !== d.message_id) return m;
      const reactions = (m.reactions || []).filter((r) => r.emoji !== d.emoji);
      const before = (m.reactions || []).find((r) => r.emoji === d.emoji);
      const me = state.me && d.user_id === state.me.id ? added : before ? before.me : false;
      if (d.count > 0) reactions.push({ emoji: d.emoji, count: d.count, me });
      return { ...m, reactions, version: Math.max(m.version, d.version) };
    }));
  }

  // Scrolling: to the bottom for new messages, or kept still when older ones are prepended.
  useLayoutEffect(() => {
    const el = listRef.current;
    const plan = scrollPlan.current;
    scrollPlan.current = null;
    if (!el || !plan) return;
    if (plan === "bottom") el.scrollTop = el.scrollHeight;
    else el.scrollTop = el.scrollHeight - plan.height + plan.top;
  }, [messages]);

  const olderBusy = useRef(false);
  async function loadOlder() {
    if (olderBusy.current || !hasOlder || !messages.length) return;
    olderBusy.current = true;
    setLoadingOlder(true);
    try {
      const page = await client.history(id, { before_seq: messages[0].seq, limit: PAGE });
      const el = listRef.current;
      scrollPlan.current = el ? { height: el.scrollHeight, top: el.scrollTop } : null;
      setMessages((old) => mergeMessages(old, page));
      setHasOlder(page.length > 0 && page[0].seq > 1);
    } catch (error) {
      showError(error, "Loading older messages");
    } finally {
      olderBusy.current = false;
      setLoadingOlder(false);
    }
  }

  // Older pages load as the top of the list comes into view.
  const topRef = useRef(null);
  useEffect(() => {
    if (!topRef.current || !listRef.current || !hasOlder) return undefined;
    const observer = new IntersectionObserver((entries) => entries[0].isIntersecting && loadOlder(), { root: listRef.current });
    observer.observe(topRef.current);
    return () => observer.disconnect();
  }, [hasOlder, messages]);

  // Read receipts: what is on screen, while the tab is visible, is read.
  const lastSeq = messages.length ? messages[messages.length - 1].seq : 0;
  useEffect(() => {
    if (participant && !loading && atBottom && !document.hidden && lastSeq) markRead(id, lastSeq);
  });

  const onScroll = () => {
    const el = listRef.current;
    setAtBottom(el.scrollHeight - el.scrollTop - el.clientHeight < 60);
  };

  const [taking, setTaking] = useState(false);
  async function take() {
    setTaking(true);
    try {
      setFetched(await takeConversation(id));
      // What came since the page was loaded, the notice that we joined among it.
      const after = messages.length ? messages[messages.length - 1].seq : 0;
      incoming(await client.history(id, { after_seq: after, limit: PAGE }));
      notice("You joined the conversation.");
    } catch (error) {
      showError(error, "Joining the conversation");
    } finally {
      setTaking(false);
    }
  }

  // A view the server answered with: the inbox's copy and the fetched one.
  function showView(view) {
    if (store.convs.get(id)) addConversation(view);
    setFetched((c) => (c ? view : c));
  }

  async function close() {
    const ok = await askConfirm("Close this conversation?", {
      body: "Nobody can send messages to a closed conversation. Its history stays readable.", confirm: "Close conversation", danger: true,
    });
    if (!ok) return;
    try {
      showView(await client.api("POST", `/api/v1/conversations/${id}/close`));
      notice("Conversation closed.");
    } catch (error) {
      showError(error, "Closing the conversation");
    }
  }

  function sent(message) {
    scrollPlan.current = "bottom";
    setMessages((old) => mergeMessages(old, [message]));
    applyMessage(message);
  }

  if (!conv) {
    return html`<div class="conversation"><p class="muted pad" role="status">${loading ? "Loading…" : "This conversation cannot be shown."}</p></div>`;
  }

  const me = state.me;
  const reads = store.reads.get(id);
  const lastMine = [...messages].reverse().find((m) => m.sender_id === me.id && !m.deleted_at);
  const seenBy = lastMine && reads ? [...reads].filter(([, seq]) => seq >= lastMine.seq).map(([user]) => user) : [];
  const typing = typingUsers(id);
  const closed = conv.status === "closed" || conv.status === "resolved";
  // Agents close what they take part in and any support conversation (PROTOCOL.md §2).
  const canClose = !closed && (me.role === "admin" || (me.role === "agent" && (participant || conv.kind === "support")));

  return html`<section class="conversation" aria-labelledby="conv-title" data-testid="conversation" data-status=${conv.status}>
    <div class="conv-head">
      <a class="btn icon back" href=${back} aria-label="Back to the list" data-testid="back-button"><${Icon} name="back" /></a>
      <div class="conv-title-wrap">
        <h2 id="conv-title" class="conv-title">${conversationTitle(conv)}</h2>
        <p class="muted small">${conv.kind} · ${conv.member_count} ${conv.member_count === 1 ? "member" : "members"} · #${conv.id}
          ${closed ? html` · <span class="tag closed">${conv.status}</span>` : conv.status !== "open" ? html` · <span class="tag">${conv.status}</span>` : null}</p>
      </div>
      <a class="btn small" href=${`#/search?conversation=${id}`}>Search</a>
      ${canClose ? html`<button type="button" class="btn danger small" onClick=${close} data-testid="close-conversation">Close</button>` : null}
    </div>
    ${conv.kind === "support" && (me.role === "agent" || me.role === "admin") && conv.status !== "closed"
      ? html`<${DeskControls} conv=${conv} onView=${showView} />`
      : null}
    ${closed
      ? html`<p class="closed-banner" data-testid="closed-banner">${`Closed by ${conv.closed_by ? displayName(conv.closed_by).replace(/^You$/, "you") : "someone"} on ${formatDateTime(conv.closed_at)}. The history stays readable.`}</p>`
      : null}
    <div class="messages" ref=${listRef} onScroll=${onScroll} tabindex="0" role="log" aria-label="Messages"
      aria-busy=${loading ? "true" : "false"} data-testid="message-list">
      <div ref=${topRef} class="top-sentinel"></div>
      ${hasOlder
        ? html`<div class="older"><button type="button" class="btn small" onClick=${loadOlder} disabled=${loadingOlder}
            data-testid="load-older">${loadingOlder ? "Loading…" : "Load older messages"}</button></div>`
        : !loading && messages.length ? html`<p class="muted small center">Start of the conversation</p>` : null}
      ${loading ? html`<p class="muted pad">Loading messages…</p>` : null}
      ${!loading && !messages.length ? html`<p class="muted pad center">No messages yet.</p>` : null}
      <ul class="message-items">
        ${messages.map((m) => html`<${Message} key=${m.seq} message=${m} mine=${m.sender_id === me.id}
          seenBy=${lastMine && m.seq === lastMine.seq ? seenBy : null} />`)}
      </ul>
    </div>
    ${!atBottom && messages.length
      ? html`<button type="button" class="btn small jump" onClick=${() => { const el = listRef.current; el.scrollTop = el.scrollHeight; }}>
          Newest messages ↓</button>`
      : null}
    <p class="typing" aria-live="polite" data-testid="typing-indicator">
      ${typing.length ? `${typing.map(displayName).join(", ")} ${typing.length > 1 ? "are" : "is"} typing…` : ""}
    </p>
    ${closed
      ? html`<p class="composer-note muted">This conversation is closed.</p>`
      : participant
        ? html`<${Composer} id=${id} onSent=${sent} notes=${conv.kind === "support" && (me.role === "agent" || me.role === "admin")} />`
        : waiting(conv)
          ? html`<div class="composer-note row between"><span>Nobody of the team has taken this conversation yet.</span>
              <button type="button" class="btn primary" onClick=${take} disabled=${taking} data-testid="join-conversation">
                ${taking ? "Joining…" : "Join to reply"}</button></div>`
          : html`<p class="composer-note muted">You are not a participant of this conversation: you can read it, not write to it.</p>`}
  </section>`;
}
