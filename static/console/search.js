// Message search (GET /api/v1/search/messages: q, conversation_id, cursor, limit).
import { useEffect, useState } from "preact/hooks";
import { html, formatDateTime, go, showError } from "./lib.js";
import { client, state, useStore, conversationTitle, displayName } from "./store.js";

const PAGE = 20;

function Hit({ hit }) {
  const conv = state.convs.get(hit.conversation_id);
  const admin = state.me.role === "admin";
  const href = conv || !admin ? `#/inbox/${hit.conversation_id}` : `#/admin/conversations/${hit.conversation_id}`;
  return html`<li class="hit" data-testid="search-hit">
    <a href=${href} class="hit-link">
      <span class="hit-meta">
        <span class="hit-conv">${conv ? conversationTitle(conv) : `Conversation ${hit.conversation_id}`}</span>
        <span class="muted small">${displayName(hit.message.sender_id)} · ${formatDateTime(hit.message.created_at)}</span>
      </span>
      <span class="hit-snippet" dangerouslySetInnerHTML=${{ __html: hit.snippet }}></span>
    </a>
  </li>`;
}

export function Search({ query }) {
  useStore();
  const q = query.get("q") || "";
  const conversation = query.get("conversation") || "";
  const [results, setResults] = useState(null);
  const [cursor, setCursor] = useState(null);
  const [busy, setBusy] = useState(false);

  async function fetchPage(after) {
    setBusy(true);
    try {
      const answer = await client.api("GET", "/api/v1/search/messages", undefined, {
        query: { q, conversation_id: conversation || undefined, cursor: after || undefined, limit: PAGE },
      });
      setResults((old) => (after && old ? [...old, ...answer.results] : answer.results));
      setCursor(answer.next_cursor);
    } catch (error) {
      showError(error, "Searching");
      if (!after) setResults([]);
    } finally {
      setBusy(false);
    }
  }

  useEffect(() => {
    setResults(null);
    setCursor(null);
    if (q.trim()) fetchPage(null);
  }, [q, conversation]);

  const submit = (event) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const params = new URLSearchParams();
    params.set("q", String(data.get("q")).trim());
    if (data.get("conversation")) params.set("conversation", data.get("conversation"));
    go(`#/search?${params}`);
  };

  return html`<main class="page" aria-labelledby="search-title">
    <h1 id="search-title">Search messages</h1>
    <form class="searchbar" role="search" onSubmit=${submit} data-testid="search-form">
      <label class="sr-only" for="search-q">Search words</label>
      <input id="search-q" name="q" type="search" value=${q} maxlength="200" required
        placeholder='words, "a phrase", or, -exclude' data-testid="search-input" />
      ${conversation
        ? html`<label class="check"><input type="checkbox" name="conversation" value=${conversation} checked />
            only conversation #${conversation}</label>`
        : null}
      <button class="btn primary" data-testid="search-submit">Search</button>
    </form>
    <p class="muted small">Every word must appear. "Quoted words" in that order; <code>or</code> between alternatives; <code>-word</code> leaves out.</p>
    ${busy && !results ? html`<p class="muted" role="status">Searching…</p>` : null}
    ${results
      ? html`<p class="muted small" role="status">${results.length ? `${results.length}${cursor ? "+" : ""} results` : "No messages found."}</p>
          <ul class="hits" data-testid="search-results">${results.map((hit) => html`<${Hit} key=${hit.message.id} hit=${hit} />`)}</ul>
          ${cursor
            ? html`<button type="button" class="btn" onClick=${() => fetchPage(cursor)} disabled=${busy} data-testid="search-more">
                ${busy ? "Loading…" : "More results"}</button>`
            : null}`
      : null}
  </main>`;
}
