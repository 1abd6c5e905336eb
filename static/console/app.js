// The Parlor console: sign-in, the page frame (header, navigation) and the routes.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { html, Icon, useRoute, useTheme, Notices, ConfirmHost, formValues, showError } from "./lib.js";
import { client, state, start, stop, useStore, isStaff } from "./store.js";
import { Inbox } from "./queue.js";
import { Search } from "./search.js";
import { Users } from "./admin-users.js";
import { Projects } from "./admin-projects.js";
import { AdminConversations } from "./admin-conversations.js";
import { Dashboard } from "./dashboard.js";

function SignIn({ onSignedIn }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    const { login, password } = formValues(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const answer = await client.login({ email: login.trim(), password });
      onSignedIn(answer.user);
    } catch (e) {
      setError(e.code === "invalid_credentials" ? "Wrong email, username or password." : e.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="signin" aria-labelledby="signin-title">
    <form class="card signin-card" onSubmit=${submit} data-testid="signin-form">
      <h1 id="signin-title"><span class="logo" aria-hidden="true">P</span> Parlor console</h1>
      <p class="muted">Sign in with an agent or admin account.</p>
      <label for="signin-login">Email or username</label>
      <input id="signin-login" name="login" autocomplete="username" required data-testid="signin-email" />
      <label for="signin-password">Password</label>
      <input id="signin-password" name="password" type="password" autocomplete="current-password" required
        data-testid="signin-password" />
      ${error && html`<p class="error" role="alert" data-testid="signin-error">${error}</p>`}
      <button class="btn primary wide" disabled=${busy} data-testid="signin-submit">${busy ? "Signing in…" : "Sign in"}</button>
    </form>
  </main>`;
}

function ThemeToggle() {
  const [theme, toggle] = useTheme();
  const next = theme === "dark" ? "light" : "dark";
  return html`<button type="button" class="btn icon" onClick=${toggle} data-testid="theme-toggle"
    aria-label=${`Switch to ${next} theme`} title=${`Switch to ${next} theme`}>
    <${Icon} name=${theme === "dark" ? "sun" : "moon"} />
  </button>`;
}

// The agent's availability on the desk (PROTOCOL.md §3, "Support desk"): `online` takes new
// conversations by auto-assignment; presence sets `offline` when the last session ends.
function Availability() {
  const [status, setStatus] = useState(null);
  useEffect(() => {
    (async () => {
      try {
        const [row] = await client.api("GET", `/api/v1/desk/agents?after=${state.me.id - 1}&limit=1`);
        setStatus(row && row.user_id === state.me.id ? row.availability : "offline");
      } catch {
        // No desk for this account: no control.
      }
    })();
  }, []);
  async function change(event) {
    const value = event.currentTarget.value;
    try {
      setStatus((await client.api("PUT", "/api/v1/desk/availability", { status: value })).status);
    } catch (error) {
      showError(error, "Setting your availability");
    }
  }
  if (status === null) return null;
  return html`<label class="sr-only" for="availability">Availability</label>
    <select id="availability" class="small" value=${status} onChange=${change} data-testid="availability"
      title="Your availability: online agents get new conversations">
      <option value="online">Online</option>
      <option value="busy">Busy</option>
      <option value="offline">Offline</option>
    </select>`;
}

const CONNECTION_LABELS = {
  open: "Live",
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  closed: "Offline",
  idle: "Offline",
};

function Header({ section, onSignOut }) {
  const { me, connection, convs } = useStore();
  const admin = me.role === "admin";
  let unread = 0;
  for (const conv of convs.values()) unread += conv.unread_count || 0;
  useEffect(() => {
    document.title = unread ? `(${unread}) Parlor console` : "Parlor console";
  }, [unread]);
  const link = (href, name, label, testid) =>
    html`<li><a href=${href} aria-current=${section === name ? "page" : undefined} data-testid=${testid}>${label}</a></li>`;
  return html`<header class="topbar">
    <a class="brand" href="#/inbox"><span class="logo" aria-hidden="true">P</span><span class="brand-name">Parlor</span></a>
    <nav aria-label="Sections" class="sections" data-testid="main-nav">
      <ul>
        ${link("#/inbox", "inbox", "Inbox", "nav-inbox")}
        ${link("#/search", "search", "Search", "nav-search")}
        ${admin && link("#/admin/users", "users", "Users", "admin-nav-users")}
        ${admin && link("#/admin/projects", "projects", "Projects", "admin-nav-projects")}
        ${admin && link("#/admin/conversations", "conversations", "Conversations", "admin-nav-conversations")}
        ${admin && link("#/admin/dashboard", "dashboard", "Dashboard", "admin-nav-dashboard")}
      </ul>
    </nav>
    <div class="topbar-tools">
      <span class=${`conn conn-${connection}`} data-testid="connection-state" title="Realtime connection">
        <span class="dot" aria-hidden="true"></span><span class="conn-label">${CONNECTION_LABELS[connection] || connection}</span>
      </span>
      <${Availability} />
      <${ThemeToggle} />
      <span class="whoami muted" title=${me.email || ""}>${me.display_name || me.username}</span>
      <button type="button" class="btn" onClick=${onSignOut} data-testid="sign-out">Sign out</button>
    </div>
  </header>`;
}

function NotForCustomers({ onSignOut }) {
  return html`<main class="signin">
    <div class="card signin-card">
      <h1>Agents and admins only</h1>
      <p>This account is a customer account. The console is for the support team.</p>
      <button class="btn primary" onClick=${onSignOut}>Sign out</button>
    </div>
  </main>`;
}

function Routes({ parts, query }) {
  const admin = state.me.role === "admin";
  const [top, sub, id, more] = parts;
  if (top === "search") return { section: "search", view: html`<${Search} query=${query} />` };
  if (top === "admin" && admin) {
    if (sub === "users") return { section: "users", view: html`<${Users} />` };
    if (sub === "projects") return { section: "projects", view: html`<${Projects} projectId=${id ? Number(id) : null} webhookId=${more ? Number(more) : null} />` };
    if (sub === "conversations") return { section: "conversations", view: html`<${AdminConversations} selected=${id ? Number(id) : null} />` };
    if (sub === "dashboard") return { section: "dashboard", view: html`<${Dashboard} />` };
  }
  return { section: "inbox", view: html`<${Inbox} selected=${top === "inbox" && sub ? Number(sub) : null} />` };
}

function Console({ onSignOut }) {
  const { parts, query } = useRoute();
  const { section, view } = Routes({ parts, query });
  return html`<div class="shell">
    <a class="skip" href="#main-content" onClick=${(e) => { e.preventDefault(); document.getElementById("main-content")?.focus(); }}>Skip to content</a>
    <${Header} section=${section} onSignOut=${onSignOut} />
    ${state.ended
      ? html`<div class="banner ended" role="alert" data-testid="session-ended">
          <span>${state.ended} Sign in again to continue.</span>
          <button type="button" class="btn primary small" onClick=${onSignOut}>Sign in again</button>
        </div>`
      : null}
    <div class="content" id="main-content" tabindex="-1">${view}</div>
  </div>`;
}

function App() {
  const [phase, setPhase] = useState("loading"); // loading | signed-out | signed-in
  useStore();
  const signedIn = async (me) => {
    setPhase("signed-in");
    await start(me);
  };
  useEffect(() => {
    client.me().then(signedIn, () => setPhase("signed-out"));
  }, []);
  const signOut = async () => {
    try {
      await client.logout();
    } catch {
      // Signed out locally all the same.
    }
    stop();
    location.hash = "";
    setPhase("signed-out");
  };
  let body;
  if (phase === "loading") body = html`<main class="signin"><p class="muted" role="status">Loading…</p></main>`;
  else if (phase === "signed-out" || !state.me) body = html`<${SignIn} onSignedIn=${signedIn} />`;
  else if (!isStaff()) body = html`<${NotForCustomers} onSignOut=${signOut} />`;
  else body = html`<${Console} onSignOut=${signOut} />`;
  return html`${body}<${Notices} /><${ConfirmHost} />`;
}

render(html`<${App} />`, document.getElementById("app"));
