// Admins: every conversation of the project (GET /api/v1/conversations answers admins all of
// them), filtered by status and kind, beside the conversation picked.
import { useEffect, useState } from "preact/hooks";
import { html, formatTime, preview, showError } from "./lib.js";
import { client, useStore, conversationTitle, displayName } from "./store.js";
import { ConversationView } from "./conversation.js";

const PAGE = 50;
const KINDS = ["support", "direct", "group", "channel"];

export function AdminConversations({ selected }) {
  useStore(); // names
  const [status, setStatus] = useState("");
  const [kind, setKind] = useState("");
  const [items, setItems] = useState(null);
  const [cursor, setCursor] = useState(null);
  const [busy, setBusy] = useState(false);

  // The server filters by status and kind where it knows these parameters; the list is
  // filtered here as well, so an older server that ignores them shows the same thing.
  async function load(after) {
    setBusy(true);
    try {
      const page = await client.conversations({ limit: PAGE, cursor: after || undefined, status: status || undefined, kind: kind || undefined });
      setItems((old) => (after && old ? [...old, ...page.items] : page.items));
      setCursor(page.next_cursor || null);
    } catch (error) {
      showError(error, "Listing conversations");
      if (!after) setItems([]);
    } finally {
      setBusy(false);
    }
  }

  useEffect(() => {
    setItems(null);
    load(null);
  }, [status, kind]);

  const shown = (items || []).filter((c) => (!status || c.status === status) && (!kind || c.kind === kind));

  return html`<main class=${`split${selected ? " has-selection" : ""}`}>
    <div class="split-list">
      <section class="queue" aria-labelledby="all-conv-title">
        <div class="pane-head"><h1 id="all-conv-title">Conversations</h1>
          <span class="muted small">${items ? `${shown.length} shown${cursor ? ", more to load" : ""}` : ""}</span></div>
        <div class="filters" data-testid="conversation-filters">
          <label for="f-status">Status</label>
          <select id="f-status" value=${status} onChange=${(e) => setStatus(e.currentTarget.value)} data-testid="filter-status">
            <option value="">Any</option><option value="open">Open</option><option value="pending">Pending</option><option value="snoozed">Snoozed</option><option value="resolved">Resolved</option><option value="closed">Closed</option>
          </select>
          <label for="f-kind">Kind</label>
          <select id="f-kind" value=${kind} onChange=${(e) => setKind(e.currentTarget.value)} data-testid="filter-kind">
            <option value="">Any</option>${KINDS.map((k) => html`<option value=${k}>${k}</option>`)}
          </select>
        </div>
        ${items === null ? html`<p class="muted pad" role="status">Loading…</p>` : null}
        <ul class="queue-list" data-testid="admin-conversation-list" aria-label="Conversations">
          ${shown.map((c) => html`<li key=${c.id}>
            <a href=${`#/admin/conversations/${c.id}`} class=${`queue-item${c.id === selected ? " selected" : ""}`}
              aria-current=${c.id === selected ? "page" : undefined} data-testid="admin-conversation-item" data-conversation-id=${c.id}>
              <span class="qi-top"><span class="qi-title">${conversationTitle(c)}</span>
                <time class="qi-time" datetime=${c.last_activity_at}>${formatTime(c.last_activity_at)}</time></span>
              <span class="qi-bottom"><span class="qi-preview">${c.last_message
                ? `${c.last_message.kind === "system" ? "" : `${displayName(c.last_message.sender_id)}: `}${preview(c.last_message)}`
                : "No messages yet"}</span></span>
              <span class="qi-tags"><span class="tag">${c.kind}</span><span class="tag">${c.member_count} members</span>
                ${c.status === "open" ? html`<span class="tag ok">open</span>` : html`<span class="tag closed">${c.status}</span>`}
                ${c.member_role ? html`<span class="tag">you: ${c.member_role}</span>` : null}</span>
            </a>
          </li>`)}
        </ul>
        ${items && !shown.length ? html`<p class="muted pad">No conversations match${cursor ? " on the pages loaded so far" : ""}.</p>` : null}
        ${cursor ? html`<div class="pad"><button type="button" class="btn wide" disabled=${busy} onClick=${() => load(cursor)}
          data-testid="admin-conversations-more">${busy ? "Loading…" : "Load more"}</button></div>` : null}
      </section>
    </div>
    <div class="split-main">
      ${selected
        ? html`<${ConversationView} key=${selected} id=${selected} back="#/admin/conversations" />`
        : html`<div class="empty-state"><p>Pick a conversation to read it.</p></div>`}
    </div>
  </main>`;
}
