// Admins: the project's users, disabled ones too (GET /api/v1/users?include_disabled=true),
// creating users with a role,
// changing roles and disabling or enabling accounts (PATCH /api/v1/users/{id}).
import { useEffect, useRef, useState } from "preact/hooks";
import { html, formValues, formatDateTime, askConfirm, notice, showError, useBusy } from "./lib.js";
import { client, state, rememberUser } from "./store.js";

const PAGE = 50;
const ROLES = ["agent", "admin", "customer"];

function CreateUser({ onCreated }) {
  const [busy, run] = useBusy();
  const [error, setError] = useState(null);
  const submit = (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const values = formValues(form);
    setError(null);
    run(null, async () => {
      try {
        const user = await client.api("POST", "/api/v1/users", {
          email: values.email.trim(), username: values.username.trim(), password: values.password,
          display_name: values.display_name.trim() || null, role: values.role,
        });
        form.reset();
        notice(`Created ${user.username} (${user.role}).`);
        onCreated(user);
      } catch (e) {
        setError(e.message);
      }
    });
  };
  return html`<form class="card form-grid" onSubmit=${submit} data-testid="user-create-form" aria-labelledby="create-user-title">
    <h2 id="create-user-title">New user</h2>
    <label for="cu-email">Email</label>
    <input id="cu-email" name="email" type="email" required autocomplete="off" data-testid="user-create-email" />
    <label for="cu-username">Username</label>
    <input id="cu-username" name="username" required minlength="3" maxlength="32" pattern="[A-Za-z0-9_.\\-]+"
      autocomplete="off" data-testid="user-create-username" />
    <label for="cu-display">Display name <span class="muted">(optional)</span></label>
    <input id="cu-display" name="display_name" maxlength="64" autocomplete="off" data-testid="user-create-display-name" />
    <label for="cu-password">Password</label>
    <input id="cu-password" name="password" type="password" required minlength="8" autocomplete="new-password"
      data-testid="user-create-password" />
    <label for="cu-role">Role</label>
    <select id="cu-role" name="role" data-testid="user-create-role">${ROLES.map((r) => html`<option value=${r}>${r}</option>`)}</select>
    ${error ? html`<p class="error" role="alert" data-testid="user-create-error">${error}</p>` : null}
    <button class="btn primary" disabled=${busy} data-testid="user-create-submit">${busy ? "Creating…" : "Create user"}</button>
  </form>`;
}

function UserRow({ user, onChanged }) {
  const [busy, run] = useBusy();
  const self = user.id === state.me.id;
  const patch = (body, what) => run(what, async () => {
    const updated = await client.api("PATCH", `/api/v1/users/${user.id}`, body);
    rememberUser(updated);
    onChanged({ ...user, ...updated });
    notice(`${updated.username}: ${updated.disabled ? "disabled" : updated.role}.`);
  });
  const changeRole = async (event) => {
    const role = event.currentTarget.value;
    const select = event.currentTarget;
    const ok = await askConfirm(`Make ${user.username} ${role === "admin" ? "an" : "a"} ${role}?`, {
      body: "Their open sessions end at once; the new role applies when they sign in again.", confirm: "Change role",
    });
    if (ok) patch({ role }, "Changing the role");
    else select.value = user.role;
  };
  const toggleDisabled = async () => {
    if (!user.disabled) {
      const ok = await askConfirm(`Disable ${user.username}?`, {
        body: "They are signed out everywhere and cannot sign in until enabled again.", confirm: "Disable", danger: true,
      });
      if (!ok) return;
    }
    patch({ disabled: !user.disabled }, user.disabled ? "Enabling" : "Disabling");
  };
  return html`<tr data-testid="user-row" data-user-id=${user.id}>
    <td class="col-id">${user.id}</td>
    <td><span class="strong">${user.username}</span>${user.display_name ? html`<br /><span class="muted small">${user.display_name}</span>` : null}</td>
    <td>
      <label class="sr-only" for=${`role-${user.id}`}>Role of ${user.username}</label>
      <select id=${`role-${user.id}`} value=${user.role} onChange=${changeRole} disabled=${busy || self || user.disabled}
        data-testid="user-role">${ROLES.map((r) => html`<option value=${r}>${r}</option>`)}</select>
    </td>
    <td>${user.disabled
      ? html`<span class="tag closed">disabled</span>`
      : user.online ? html`<span class="tag ok">online</span>` : html`<span class="muted small">${user.last_seen_at ? `seen ${formatDateTime(user.last_seen_at)}` : "never connected"}</span>`}</td>
    <td class="actions">
      <button type="button" class=${user.disabled ? "btn small" : "btn small danger"} onClick=${toggleDisabled}
        disabled=${busy || self} data-testid="user-toggle-disabled">${user.disabled ? "Enable" : "Disable"}</button>
    </td>
  </tr>`;
}

export function Users() {
  const [query, setQuery] = useState("");
  const [users, setUsers] = useState(null);
  const [more, setMore] = useState(false);
  const [busy, setBusy] = useState(false);
  const timer = useRef(null);

  async function fetchPage(q, afterId) {
    setBusy(true);
    try {
      const page = await client.api("GET", "/api/v1/users", undefined, {
        query: { query: q || undefined, after_id: afterId || undefined, limit: PAGE, include_disabled: true },
      });
      setUsers((old) => (afterId && old ? [...old, ...page] : page));
      setMore(page.length === PAGE);
    } catch (error) {
      showError(error, "Listing users");
    } finally {
      setBusy(false);
    }
  }

  useEffect(() => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => fetchPage(query.trim(), null), query ? 400 : 0);
    return () => clearTimeout(timer.current);
  }, [query]);

  const changed = (user) => setUsers((list) => {
    const known = list.some((u) => u.id === user.id);
    return known ? list.map((u) => (u.id === user.id ? { ...u, ...user } : u)) : [...list, user];
  });

  return html`<main class="page" aria-labelledby="users-title">
    <h1 id="users-title">Users</h1>
    <div class="two-col">
      <section class="card" aria-labelledby="user-list-title">
        <div class="row between">
          <h2 id="user-list-title">People in this project</h2>
          <div>
            <label class="sr-only" for="user-search">Find users by name</label>
            <input id="user-search" type="search" placeholder="Find by name" value=${query}
              onInput=${(e) => setQuery(e.currentTarget.value)} data-testid="user-search" />
          </div>
        </div>
        <div class="table-wrap">
          <table class="table" data-testid="user-table">
            <thead><tr><th scope="col" class="col-id">Id</th><th scope="col">User</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>${(users || []).map((u) => html`<${UserRow} key=${u.id} user=${u} onChanged=${changed} />`)}</tbody>
          </table>
        </div>
        ${users && !users.length ? html`<p class="muted">No users found.</p>` : null}
        ${more ? html`<button type="button" class="btn" disabled=${busy}
          onClick=${() => fetchPage(query.trim(), users[users.length - 1].id)} data-testid="users-more">Load more</button>` : null}
      </section>
      <${CreateUser} onCreated=${(user) => setUsers((list) => [...(list || []), { ...user, online: false, last_seen_at: null }])} />
    </div>
  </main>`;
}
