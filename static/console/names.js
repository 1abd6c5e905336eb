// User names, for senders and conversation titles: the directory's first page at once, then
// one user at a time as they turn up (GET /api/v1/users, /api/v1/users/{id}).
import { client, state, changed } from "./state.js";

const names = new Map(); // id -> {username, display_name} or null while asked
const nameWaiters = [];

export function displayName(id) {
  if (state.me && id === state.me.id) return "You";
  const user = names.get(id);
  if (user) return user.display_name || user.username || `User ${id}`;
  if (!names.has(id)) askName(id);
  return `User ${id}`;
}

export function rememberUser(user) {
  names.set(user.id, user);
  changed();
}

function askName(id) {
  names.set(id, null);
  nameWaiters.push(id);
  if (nameWaiters.length === 1) setTimeout(fetchNames, 50);
}

async function fetchNames() {
  while (nameWaiters.length) {
    const id = nameWaiters.shift();
    try {
      names.set(id, await client.api("GET", `/api/v1/users/${id}`));
    } catch (error) {
      // Disabled users (the system user among them) are not in the directory.
      names.set(id, { id, username: error.status === 404 ? `User ${id}` : null, display_name: null });
    }
    changed();
  }
}

export async function loadDirectory() {
  try {
    const users = await client.api("GET", "/api/v1/users", undefined, { query: { limit: 200 } });
    for (const user of users) names.set(user.id, user);
    changed();
  } catch {
    // Names then come one at a time.
  }
}

export function forgetNames() {
  names.clear();
  nameWaiters.length = 0;
}
