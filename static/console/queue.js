// The agent's inbox: the conversation queue (open first, by last activity, with unread counts)
// beside the conversation on screen; one pane at a time on narrow screens.
import { useState } from "preact/hooks";
import { html, formatTime, preview, useBusy } from "./lib.js";
import {
  useStore, sortedQueue, conversationTitle, displayName, loadMoreQueue, typingUsers, waiting,
  notificationsOffer, enableNotifications, dismissNotifications,
} from "./store.js";
import { ConversationView } from "./conversation.js";

function NotificationBanner() {
  useStore();
  const offer = notificationsOffer();
  if (offer !== "ask") return null;
  return html`<div class="banner" data-testid="notify-banner">
    <p>Get a desktop notification for new messages while this tab is in the background?</p>
    <div class="row">
      <button type="button" class="btn primary small" onClick=${enableNotifications} data-testid="notify-enable">Turn on</button>
      <button type="button" class="btn small" onClick=${dismissNotifications}>Not now</button>
    </div>
  </div>`;
}

function QueueItem({ conv, selected }) {
  const unread = conv.unread_count || 0;
  const typing = typingUsers(conv.id).length > 0;
  const last = conv.last_message;
  return html`<li>
    <a href=${`#/inbox/${conv.id}`} class=${`queue-item${selected ? " selected" : ""}${unread ? " has-unread" : ""}`}
      aria-current=${selected ? "page" : undefined}
      data-testid="queue-item" data-conversation-id=${conv.id} data-unread=${unread}>
      <span class="qi-top">
        <span class="qi-title">${conversationTitle(conv)}</span>
        <time class="qi-time" datetime=${conv.last_activity_at}>${formatTime(conv.last_activity_at)}</time>
      </span>
      <span class="qi-bottom">
        <span class="qi-preview">
          ${typing
            ? html`<em class="accent-text">typing…</em>`
            : last
              ? `${last.kind === "system" ? "" : `${displayName(last.sender_id)}: `}${preview(last)}`
              : "No messages yet"}
        </span>
        ${conv.unread_mentions ? html`<span class="badge mention" title="Mentions you">@<span class="sr-only"> mentions you</span></span>` : null}
        ${unread ? html`<span class="badge" data-testid="unread-count">${unread > 99 ? "99+" : unread}<span class="sr-only"> unread</span></span>` : null}
      </span>
      <span class="qi-tags">
        <span class="tag">${conv.kind}</span>
        ${waiting(conv) && conv.status === "open" ? html`<span class="tag waiting" data-testid="waiting-tag">waiting</span>` : null}
        ${conv.status === "closed" ? html`<span class="tag closed">closed</span>` : null}
      </span>
    </a>
  </li>`;
}

export function Queue({ selected }) {
  const store = useStore();
  const [filter, setFilter] = useState("all");
  const [busy, run] = useBusy();
  const all = sortedQueue();
  const shown = all.filter((c) => filter === "all" || c.status === filter || (filter === "unread" && c.unread_count)
    || (filter === "waiting" && waiting(c) && c.status === "open"));
  const open = all.filter((c) => c.status === "open").length;
  const unread = all.reduce((n, c) => n + (c.unread_count || 0), 0);
  return html`<section class="queue" aria-labelledby="queue-title">
    <div class="pane-head">
      <h1 id="queue-title">Inbox</h1>
      <span class="muted small">${open} open · ${unread} unread</span>
    </div>
    <${NotificationBanner} />
    <div class="segmented" role="group" aria-label="Show">
      ${["all", "open", "unread", "waiting", "closed"].map((f) => html`<button type="button" aria-pressed=${filter === f}
        class="seg" onClick=${() => setFilter(f)} data-testid=${`queue-filter-${f}`}>${f[0].toUpperCase() + f.slice(1)}</button>`)}
    </div>
    ${!store.queueLoaded
      ? html`<p class="muted pad" role="status">Loading conversations…</p>`
      : html`<ul class="queue-list" data-testid="queue-list" aria-label="Conversations">
          ${shown.map((conv) => html`<${QueueItem} key=${conv.id} conv=${conv} selected=${conv.id === selected} />`)}
        </ul>
        ${!shown.length ? html`<p class="muted pad">No conversations here.</p>` : null}
        ${store.queueCursor
          ? html`<div class="pad"><button type="button" class="btn wide" disabled=${busy} data-testid="queue-more"
              onClick=${() => run("Loading conversations", loadMoreQueue)}>${busy ? "Loading…" : "Load more"}</button></div>`
          : null}`}
  </section>`;
}

export function Inbox({ selected }) {
  return html`<main class=${`split${selected ? " has-selection" : ""}`}>
    <div class="split-list"><${Queue} selected=${selected} /></div>
    <div class="split-main">
      ${selected
        ? html`<${ConversationView} key=${selected} id=${selected} back="#/inbox" />`
        : html`<div class="empty-state"><p>Select a conversation from the queue.</p></div>`}
    </div>
  </main>`;
}
