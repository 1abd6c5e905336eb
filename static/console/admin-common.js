// Pieces the admin pages share: lists paged with after_id, and secrets shown once.
import { useEffect, useState } from "preact/hooks";
import { html, notice, showError, Dialog } from "./lib.js";
import { client } from "./store.js";

const PAGE = 50;

// A list paged with after_id (ascending ids): items, whether more follow, and loaders.
export function useAfterIdList(path, deps = []) {
  const [items, setItems] = useState(null);
  const [more, setMore] = useState(false);
  const [busy, setBusy] = useState(false);
  async function load(afterId) {
    setBusy(true);
    try {
      const page = await client.api("GET", path, undefined, { query: { after_id: afterId || undefined, limit: PAGE } });
      setItems((old) => (afterId && old ? [...old, ...page] : page));
      setMore(page.length === PAGE);
    } catch (error) {
      showError(error, "Loading");
      if (!afterId) setItems([]);
    } finally {
      setBusy(false);
    }
  }
  useEffect(() => {
    setItems(null);
    load(null);
  }, [path, ...deps]);
  const loadMore = () => items && items.length && load(items[items.length - 1].id);
  return { items, setItems, more, busy, reload: () => load(null), loadMore };
}

// A secret shown once (API key, webhook secret), with a copy button.
export function SecretDialog({ secret, title, onClose }) {
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      notice("Copied.");
    } catch {
      notice("Select the text and copy it.", "error");
    }
  };
  return html`<${Dialog} open=${!!secret} title=${title} onClose=${onClose} testid="secret-dialog">
    <p>Copy it now: it is not shown again.</p>
    <p><code class="secret" data-testid="secret-value">${secret}</code></p>
    <div class="row end">
      <button type="button" class="btn" onClick=${copy}>Copy</button>
      <button type="button" class="btn primary" onClick=${onClose}>Done</button>
    </div>
  <//>`;
}
