// Admins: projects (instance admins: /api/v1/admin/projects) and a project's API keys
// (/api/v1/projects/{id}/api-keys); its webhooks are in webhooks.js.
import { useEffect, useState } from "preact/hooks";
import { html, formValues, formatDateTime, askConfirm, notice, showError, useBusy } from "./lib.js";
import { client, state } from "./store.js";
import { Webhooks, Deliveries } from "./webhooks.js";
import { useAfterIdList, SecretDialog } from "./admin-common.js";

const SCOPES = ["users:write", "tokens:write", "conversations:write", "messages:write", "read"];

function ApiKeys({ projectId }) {
  const list = useAfterIdList(`/api/v1/projects/${projectId}/api-keys`);
  const [secret, setSecret] = useState(null);
  const [busy, run] = useBusy();
  const create = (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const scopes = data.getAll("scopes");
    run("Creating the key", async () => {
      const key = await client.api("POST", `/api/v1/projects/${projectId}/api-keys`, {
        name: String(data.get("name")).trim(), scopes: scopes.length ? scopes : undefined,
      });
      form.reset();
      setSecret(key.key);
      list.setItems((items) => [...(items || []), key]);
    });
  };
  const revoke = async (key) => {
    const ok = await askConfirm(`Revoke the key “${key.name}”?`, { body: "Requests with it are refused from now on.", confirm: "Revoke", danger: true });
    if (!ok) return;
    run("Revoking", async () => {
      await client.api("DELETE", `/api/v1/projects/${projectId}/api-keys/${key.id}`);
      list.setItems((items) => items.filter((k) => k.id !== key.id));
      notice("Key revoked.");
    });
  };
  return html`<section class="card" aria-labelledby="keys-title" data-testid="api-keys">
    <h2 id="keys-title">API keys</h2>
    <div class="table-wrap"><table class="table">
      <thead><tr><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Scopes</th><th scope="col">Last used</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>${(list.items || []).map((k) => html`<tr key=${k.id} data-testid="api-key-row">
        <td>${k.name}</td><td><code>${k.prefix}</code></td><td class="small">${(k.scopes || []).join(", ")}</td>
        <td class="small">${k.last_used_at ? formatDateTime(k.last_used_at) : "never"}</td>
        <td class="actions"><button type="button" class="btn small danger" onClick=${() => revoke(k)} disabled=${busy}>Revoke</button></td>
      </tr>`)}</tbody>
    </table></div>
    ${list.items && !list.items.length ? html`<p class="muted">No API keys.</p>` : null}
    ${list.more ? html`<button type="button" class="btn small" onClick=${list.loadMore} disabled=${list.busy}>Load more</button>` : null}
    <form class="subform" onSubmit=${create} aria-label="New API key">
      <h3>New key</h3>
      <label for="key-name">Name</label>
      <input id="key-name" name="name" required maxlength="100" data-testid="api-key-name" />
      <fieldset><legend>Scopes <span class="muted">(none checked: all)</span></legend>
        ${SCOPES.map((s) => html`<label class="check"><input type="checkbox" name="scopes" value=${s} /> ${s}</label>`)}
      </fieldset>
      <button class="btn primary" disabled=${busy} data-testid="api-key-create">Create key</button>
    </form>
    <${SecretDialog} secret=${secret} title="New API key" onClose=${() => setSecret(null)} />
  </section>`;
}

function ProjectList() {
  const list = useAfterIdList("/api/v1/admin/projects");
  const [busy, run] = useBusy();
  const create = (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const values = formValues(form);
    run("Creating the project", async () => {
      const project = await client.api("POST", "/api/v1/admin/projects", {
        name: values.name.trim(), self_registration: values.self_registration === "on",
      });
      form.reset();
      notice(`Project ${project.name} created.`);
      list.setItems((items) => [...(items || []), project]);
    });
  };
  return html`<div class="two-col">
    <section class="card" aria-labelledby="projects-list-title">
      <h2 id="projects-list-title">Projects</h2>
      <div class="table-wrap"><table class="table" data-testid="project-table">
        <thead><tr><th scope="col">Id</th><th scope="col">Name</th><th scope="col">Self-registration</th><th scope="col">Created</th></tr></thead>
        <tbody>${(list.items || []).map((p) => html`<tr key=${p.id} data-testid="project-row">
          <td>${p.id}</td><td><a href=${`#/admin/projects/${p.id}`}>${p.name}</a></td>
          <td>${p.self_registration ? "on" : "off"}</td><td class="small">${formatDateTime(p.created_at)}</td>
        </tr>`)}</tbody>
      </table></div>
      ${list.more ? html`<button type="button" class="btn small" onClick=${list.loadMore} disabled=${list.busy}>Load more</button>` : null}
    </section>
    <form class="card form-grid" onSubmit=${create} aria-labelledby="new-project-title">
      <h2 id="new-project-title">New project</h2>
      <label for="project-name">Name</label>
      <input id="project-name" name="name" required maxlength="100" data-testid="project-name" />
      <label class="check"><input type="checkbox" name="self_registration" /> Allow self-registration</label>
      <button class="btn primary" disabled=${busy} data-testid="project-create">Create project</button>
    </form>
  </div>`;
}

function ProjectDetail({ projectId, webhookId }) {
  const [project, setProject] = useState(null);
  useEffect(() => {
    setProject(null);
    if (state.me.instance_admin) {
      client.api("GET", `/api/v1/admin/projects/${projectId}`).then(setProject, (e) => showError(e, "Loading the project"));
    }
  }, [projectId]);
  const name = project ? project.name : projectId === state.me.project_id ? "Your project" : `Project ${projectId}`;
  return html`<div>
    <p class="crumbs">
      ${state.me.instance_admin ? html`<a href="#/admin/projects">Projects</a> / ` : null}
      ${webhookId ? html`<a href=${`#/admin/projects/${projectId}`}>${name}</a> / Webhook ${webhookId}` : name}
    </p>
    ${webhookId
      ? html`<${Deliveries} projectId=${projectId} webhookId=${webhookId} />`
      : html`<div class="two-col"><${ApiKeys} projectId=${projectId} /><${Webhooks} projectId=${projectId} /></div>`}
  </div>`;
}

export function Projects({ projectId, webhookId }) {
  const own = state.me.project_id;
  const id = projectId || (state.me.instance_admin ? null : own);
  return html`<main class="page" aria-labelledby="projects-title">
    <h1 id="projects-title">Projects and integrations</h1>
    ${id ? html`<${ProjectDetail} projectId=${id} webhookId=${webhookId} />` : html`<${ProjectList} />`}
    ${!id && own ? html`<p><a href=${`#/admin/projects/${own}`}>Your own project's API keys and webhooks</a></p>` : null}
  </main>`;
}
