// Shared helpers of the console: the html tag, routing, the theme, dialogs, notices and
// formatting. No state about conversations lives here (see store.js).
import { h } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import htm from "htm";

export const html = htm.bind(h);

// ---------------------------------------------------------------------------------------------
// Routing: the hash holds the route, e.g. #/inbox/12, #/search, #/admin/users.

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, search = ""] = raw.split("?");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(search) };
}

export function useRoute() {
  const [route, setRoute] = useState(parseHash);
  useEffect(() => {
    const onChange = () => setRoute(parseHash());
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

export function go(path) {
  location.hash = path;
}

// ---------------------------------------------------------------------------------------------
// Theme: follows prefers-color-scheme until the user picks one, which is remembered.

const THEME_KEY = "parlor.console.theme";
const darkQuery = matchMedia("(prefers-color-scheme: dark)");

function effectiveTheme() {
  const chosen = localStorage.getItem(THEME_KEY);
  if (chosen === "light" || chosen === "dark") return chosen;
  return darkQuery.matches ? "dark" : "light";
}

export function useTheme() {
  const [theme, setTheme] = useState(effectiveTheme);
  useEffect(() => {
    const onChange = () => setTheme(effectiveTheme());
    darkQuery.addEventListener("change", onChange);
    return () => darkQuery.removeEventListener("change", onChange);
  }, []);
  const toggle = () => {
    const next = theme === "dark" ? "light" : "dark";
    localStorage.setItem(THEME_KEY, next);
    document.documentElement.dataset.theme = next;
    setTheme(next);
  };
  return [theme, toggle];
}

// ---------------------------------------------------------------------------------------------
// Notices: short messages in a live region at the bottom of the page.

const noticeListeners = new Set();
let noticeId = 0;

export function notice(text, kind = "info") {
  const item = { id: ++noticeId, text, kind };
  for (const listener of noticeListeners) listener(item);
}

export function showError(error, what) {
  const text = error && error.message ? error.message : String(error);
  notice(what ? `${what}: ${text}` : text, "error");
}

export function Notices() {
  const [items, setItems] = useState([]);
  useEffect(() => {
    const add = (item) => {
      setItems((list) => [...list.slice(-3), item]);
      setTimeout(() => setItems((list) => list.filter((i) => i.id !== item.id)), item.kind === "error" ? 8000 : 4000);
    };
    noticeListeners.add(add);
    return () => noticeListeners.delete(add);
  }, []);
  return html`<div class="notices" role="status" aria-live="polite">
    ${items.map((i) => html`<p key=${i.id} class=${`notice notice-${i.kind}`}>${i.text}</p>`)}
  </div>`;
}

// ---------------------------------------------------------------------------------------------
// Dialogs: the native <dialog> (focus kept inside, Escape closes it).

let dialogCount = 0;

export function Dialog({ open, title, onClose, children, testid }) {
  const ref = useRef(null);
  const [titleId] = useState(() => `dialog-title-${++dialogCount}`);
  useEffect(() => {
    const dialog = ref.current;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return html`<dialog ref=${ref} aria-labelledby=${titleId} onClose=${onClose} data-testid=${testid}>
    <h2 id=${titleId}>${title}</h2>
    ${open ? children : null}
  </dialog>`;
}

// askConfirm("Close the conversation?", {confirm: "Close"}) resolves true or false.
let confirmHost = null;

export function askConfirm(title, { body = "", confirm = "Confirm", danger = false } = {}) {
  return new Promise((resolve) => (confirmHost ? confirmHost({ title, body, confirm, danger, resolve }) : resolve(false)));
}

export function ConfirmHost() {
  const [ask, setAsk] = useState(null);
  useEffect(() => {
    confirmHost = setAsk;
    return () => (confirmHost = null);
  }, []);
  const answer = (yes) => {
    if (ask) ask.resolve(yes);
    setAsk(null);
  };
  return html`<${Dialog} open=${!!ask} title=${ask ? ask.title : ""} onClose=${() => answer(false)} testid="confirm-dialog">
    ${ask && ask.body ? html`<p>${ask.body}</p>` : null}
    <div class="row end">
      <button type="button" class="btn" onClick=${() => answer(false)}>Cancel</button>
      <button type="button" class=${ask && ask.danger ? "btn danger" : "btn primary"} data-testid="confirm-yes"
        onClick=${() => answer(true)}>${ask ? ask.confirm : ""}</button>
    </div>
  <//>`;
}

// ---------------------------------------------------------------------------------------------
// Icons: inline SVG (no icon font, no emoji that a system may lack).

const ICONS = {
  clip: "M16.5 6.5l-7.8 7.8a2 2 0 0 0 2.8 2.8l7.8-7.8a4 4 0 0 0-5.6-5.6L5.9 11.5a6 6 0 0 0 8.5 8.5l6.4-6.4",
  sun: "M12 4V2M12 22v-2M4 12H2M22 12h-2M5.6 5.6L4.2 4.2M19.8 19.8l-1.4-1.4M5.6 18.4l-1.4 1.4M19.8 4.2l-1.4 1.4M12 16a4 4 0 1 0 0-8 4 4 0 0 0 0 8z",
  moon: "M20 14.5A8 8 0 0 1 9.5 4a8 8 0 1 0 10.5 10.5z",
  back: "M15 5l-7 7 7 7",
};

export function Icon({ name }) {
  return html`<svg class="icon" width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" focusable="false"
    fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d=${ICONS[name]} /></svg>`;
}

// ---------------------------------------------------------------------------------------------
// Formatting.

export function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const now = new Date();
  const sameDay = date.toDateString() === now.toDateString();
  return sameDay
    ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleDateString([], { month: "short", day: "numeric" });
}

export function formatDateTime(iso) {
  return iso ? new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) : "";
}

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function formatDuration(seconds) {
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d ${hours}h`;
  if (hours) return `${hours}h ${m}m`;
  return `${m}m ${s % 60}s`;
}

// A one-line preview of a message for lists and notifications.
export function preview(message) {
  if (!message) return "No messages yet";
  if (message.deleted_at) return "Message deleted";
  if (message.attachment) {
    const what = `${message.kind === "image" ? "Image" : "File"} ${message.attachment.original_name}`;
    return message.content ? `${what}: ${message.content}` : what;
  }
  return message.content;
}

// The value of a form's fields by name.
export function formValues(form) {
  return Object.fromEntries(new FormData(form).entries());
}

// Runs an async action while `busy` is set; errors become notices.
export function useBusy() {
  const [busy, setBusy] = useState(false);
  const run = async (what, action) => {
    setBusy(true);
    try {
      return await action();
    } catch (error) {
      showError(error, what);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return [busy, run];
}
