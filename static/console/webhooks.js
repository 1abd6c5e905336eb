// Admins: a project's webhook endpoints (/api/v1/projects/{id}/webhooks) and their delivery
// logs, with redelivery (docs/SERVER_API.md, Webhooks).
import { useState } from "preact/hooks";
import { html, formatDateTime, askConfirm, notice, useBusy } from "./lib.js";
import { client } from "./store.js";
import { useAfterIdList, SecretDialog } from "./admin-common.js";

const EVENTS = [
  "message.created", "message.updated", "message.deleted", "conversation.created", "conversation.closed",
  "participant.added", "participant.removed", "participant.updated", "user.created",
];

function WebhookRow({ hook, projectId, onChanged, onDeleted }) {
  const [busy, run] = useBusy();
  const base = `/api/v1/projects/${projectId}/webhooks/${hook.id}`;
  const toggle = () => run("Updating the webhook", async () => {
    const updated = await client.api("PATCH", base, { enabled: !hook.enabled });
    onChanged(updated);
    notice(updated.enabled ? "Webhook enabled." : "Webhook disabled.");
  });
  const remove = async () => {
    const ok = await askConfirm("Delete this webhook?", { body: "Its delivery log goes with it.", confirm: "Delete", danger: true });
    if (ok) run("Deleting the webhook", async () => {
      await client.api("DELETE", base);
      onDeleted(hook.id);
    });
  };
  return html`<li class="hook" data-testid="webhook-row">
    <div class="row between">
      <span class="hook-url">${hook.type === "telegram" ? `Telegram chat ${hook.chat_id}` : hook.url}</span>
      ${hook.enabled ? html`<span class="tag ok">enabled</span>` : html`<span class="tag closed">disabled</span>`}
    </div>
    <p class="muted small">${hook.events.join(", ")}</p>
    ${hook.disabled_reason ? html`<p class="error small">${hook.disabled_reason}</p>` : null}
    <div class="row">
      <a class="btn small" href=${`#/admin/projects/${projectId}/${hook.id}`} data-testid="webhook-deliveries">Deliveries</a>
      <button type="button" class="btn small" onClick=${toggle} disabled=${busy}>${hook.enabled ? "Disable" : "Enable"}</button>
      <button type="button" class="btn small danger" onClick=${remove} disabled=${busy}>Delete</button>
    </div>
  </li>`;
}

export function Webhooks({ projectId }) {
  const list = useAfterIdList(`/api/v1/projects/${projectId}/webhooks`);
  const [secret, setSecret] = useState(null);
  const [busy, run] = useBusy();
  const create = (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const events = data.getAll("events");
    if (!events.length) return notice("Pick at least one event.", "error");
    run("Creating the webhook", async () => {
      const hook = await client.api("POST", `/api/v1/projects/${projectId}/webhooks`, {
        url: String(data.get("url")).trim(), events, secret: String(data.get("secret")).trim() || undefined,
      });
      form.reset();
      setSecret(hook.secret);
      list.setItems((items) => [...(items || []), hook]);
    });
  };
  const replace = (hook) => list.setItems((items) => items.map((h) => (h.id === hook.id ? hook : h)));
  return html`<section class="card" aria-labelledby="hooks-title" data-testid="webhooks">
    <h2 id="hooks-title">Webhooks</h2>
    <ul class="hooks">${(list.items || []).map((h) => html`<${WebhookRow} key=${h.id} hook=${h} projectId=${projectId}
      onChanged=${replace} onDeleted=${(id) => list.setItems((items) => items.filter((x) => x.id !== id))} />`)}</ul>
    ${list.items && !list.items.length ? html`<p class="muted">No webhooks.</p>` : null}
    ${list.more ? html`<button type="button" class="btn small" onClick=${list.loadMore} disabled=${list.busy}>Load more</button>` : null}
    <form class="subform" onSubmit=${create} aria-label="New webhook">
      <h3>New endpoint</h3>
      <label for="hook-url">URL</label>
      <input id="hook-url" name="url" type="url" required placeholder="https://backend.example.com/parlor" data-testid="webhook-url" />
      <fieldset class="check-grid"><legend>Events</legend>
        ${EVENTS.map((e) => html`<label class="check"><input type="checkbox" name="events" value=${e}
          checked=${e === "message.created"} /> ${e}</label>`)}
      </fieldset>
      <label for="hook-secret">Secret <span class="muted">(optional; one is made when empty)</span></label>
      <input id="hook-secret" name="secret" minlength="16" maxlength="256" autocomplete="off" />
      <button class="btn primary" disabled=${busy} data-testid="webhook-create">Add endpoint</button>
    </form>
    <${SecretDialog} secret=${secret} title="Webhook signing secret" onClose=${() => setSecret(null)} />
  </section>`;
}

export function Deliveries({ projectId, webhookId }) {
  const base = `/api/v1/projects/${projectId}/webhooks/${webhookId}`;
  const list = useAfterIdList(`${base}/deliveries`);
  const [busy, run] = useBusy();
  const redeliver = (delivery) => run("Redelivering", async () => {
    const queued = await client.api("POST", `${base}/deliveries/${delivery.id}/redeliver`);
    list.setItems((items) => items.map((d) => (d.id === delivery.id ? { ...d, ...queued } : d)));
    notice("Queued again.");
  });
  return html`<section class="card" aria-labelledby="deliveries-title" data-testid="deliveries">
    <div class="row between">
      <h2 id="deliveries-title">Delivery log</h2>
      <button type="button" class="btn small" onClick=${list.reload} disabled=${list.busy}>Refresh</button>
    </div>
    <p class="muted small">Oldest first.</p>
    <div class="table-wrap"><table class="table">
      <thead><tr><th scope="col">Id</th><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th>
        <th scope="col">Last result</th><th scope="col">Created</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>${(list.items || []).map((d) => html`<tr key=${d.id} data-testid="delivery-row">
        <td>${d.id}</td><td><code class="small">${d.type}</code><br /><span class="muted small">${d.event_id}</span></td>
        <td><span class=${`tag ${d.status === "delivered" ? "ok" : d.status === "failed" ? "closed" : ""}`}>${d.status}</span></td>
        <td>${d.attempts}</td>
        <td class="small">${d.last_status_code ? `HTTP ${d.last_status_code}` : ""} ${d.last_error || ""}</td>
        <td class="small">${formatDateTime(d.created_at)}</td>
        <td class="actions"><button type="button" class="btn small" onClick=${() => redeliver(d)} disabled=${busy}
          data-testid="redeliver">Redeliver</button></td>
      </tr>`)}</tbody>
    </table></div>
    ${list.items && !list.items.length ? html`<p class="muted">No deliveries yet.</p>` : null}
    ${list.more ? html`<button type="button" class="btn small" onClick=${list.loadMore} disabled=${list.busy}>Load more</button>` : null}
  </section>`;
}
