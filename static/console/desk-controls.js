// The desk's controls of a support conversation, for agents and admins (PROTOCOL.md §3,
// "Support desk"): its status (open, pending, snoozed for an hour, resolved) and its assignee
// (you, or nobody). The server announces each change to every joined session.
import { html, showError, notice } from "./lib.js";
import { client, state, displayName } from "./store.js";

const HOUR_MS = 60 * 60 * 1000;

export function DeskControls({ conv, onView }) {
  const me = state.me;

  async function call(path, body, done) {
    try {
      onView(await client.api("POST", `/api/v1/conversations/${conv.id}/${path}`, body));
      notice(done);
    } catch (error) {
      showError(error, "Updating the conversation");
    }
  }

  function setStatus(event) {
    const status = event.currentTarget.value;
    const body = status === "snoozed"
      ? { status, snoozed_until: new Date(Date.now() + HOUR_MS).toISOString() }
      : { status };
    call("status", body, status === "snoozed" ? "Snoozed for an hour." : `Marked ${status}.`);
  }

  const mine = conv.assignee_id === me.id;
  const assignee = conv.assignee_id ? `Assigned to ${displayName(conv.assignee_id).replace(/^You$/, "you")}` : "Unassigned";
  return html`<div class="desk-controls row" data-testid="desk-controls">
    <label class="small" for="desk-status">Status</label>
    <select id="desk-status" class="small" value=${conv.status} onChange=${setStatus} data-testid="desk-status">
      <option value="open">open</option>
      <option value="pending">pending</option>
      <option value="snoozed">snoozed (1 hour)</option>
      <option value="resolved">resolved</option>
    </select>
    <span class="small muted" data-testid="desk-assignee">${assignee}</span>
    ${mine
      ? html`<button type="button" class="btn small" onClick=${() => call("assign", { assignee_id: null }, "Unassigned.")}
          data-testid="unassign">Unassign</button>`
      : html`<button type="button" class="btn small" onClick=${() => call("assign", { assignee_id: me.id }, "Assigned to you.")}
          data-testid="assign-me">Assign to me</button>`}
  </div>`;
}
