// The console's shared state: the client, the signed-in user, the conversation queue with its
// unread counts, who is typing, who has read what, and desktop notifications (user names are in
// names.js, the state object and re-rendering in state.js).
import { preview } from "./lib.js";
import { client, state, changed } from "./state.js";
import { displayName, forgetNames, loadDirectory, rememberUser } from "./names.js";

export { client, state, changed, useStore } from "./state.js";
export { displayName, rememberUser } from "./names.js";

// ---------------------------------------------------------------------------------------------
// The queue.

export function isStaff() {
  return state.me && (state.me.role === "agent" || state.me.role === "admin");
}

export function sortedQueue() {
  return [...state.convs.values()].sort((a, b) => {
    if (a.status !== b.status) return a.status === "open" ? -1 : 1;
    // Parsed: the number of fraction digits varies (PROTOCOL.md §1).
    return Date.parse(b.last_activity_at) - Date.parse(a.last_activity_at) || b.id - a.id;
  });
}

export function conversationTitle(conv) {
  if (conv.title) return conv.title;
  const others = conv.participant_ids.filter((id) => !state.me || id !== state.me.id);
  if (!others.length) return `Conversation ${conv.id}`;
  const shown = others.slice(0, 3).map(displayName).join(", ");
  return others.length > 3 ? `${shown} +${others.length - 3}` : shown;
}

// Whether a conversation waits for the team: a support conversation with its customer alone
// (a support conversation holds one customer and the staff who joined it), which the support
// team sees without taking part in it. The inbox holds these and the user's own.
export function waiting(conv) {
  return !conv.member_role && conv.kind === "support" && conv.participant_ids.length <= 1 && isStaff();
}

// Adds (or refreshes) a conversation of the inbox, and joins it for live events when the user
// takes part in it (waiting ones are refreshed by the poll).
export function addConversation(conv) {
  const known = state.convs.get(conv.id);
  const merged = known ? { ...known, ...conv } : conv;
  if (!merged.member_role && !waiting(merged)) {
    // Not ours (an admin sees every room), or taken by someone else meanwhile.
    if (known && state.convs.delete(conv.id)) changed();
    return;
  }
  state.convs.set(conv.id, merged);
  if (merged.member_role) queueJoin(conv.id);
  changed();
}

// Takes a waiting support conversation: joins it as a participant (POST .../join; a server
// that only lets groups and channels be joined that way is asked to add the user instead).
export async function takeConversation(id) {
  try {
    await client.api("POST", `/api/v1/conversations/${id}/join`);
  } catch (error) {
    if (error.status !== 403) throw error;
    await client.api("POST", `/api/v1/conversations/${id}/participants`, { user_ids: [state.me.id] });
  }
  const view = await client.api("GET", `/api/v1/conversations/${id}`);
  addConversation(view);
  return view;
}

// Joins are sent one after another (each waits for its ack): the session's frame budget is
// 20 per second (PROTOCOL.md §5.6).
const joinQueue = [];
const joined = new Set();
let joining = false;

function queueJoin(id) {
  if (joined.has(id)) return;
  joined.add(id);
  joinQueue.push(id);
  if (!joining) runJoins();
}

async function runJoins() {
  joining = true;
  while (joinQueue.length) {
    const id = joinQueue.shift();
    try {
      await client.join(id);
    } catch (error) {
      joined.delete(id);
      if (error.code === "rate_limited") {
        joinQueue.unshift(id);
        joined.add(id);
        await new Promise((r) => setTimeout(r, error.retryAfterMs || 1000));
      }
    }
    await new Promise((r) => setTimeout(r, 60));
  }
  joining = false;
}

const PAGE = 50;

// The queue pages through the open conversations first, then the closed ones (the status
// filter of GET /api/v1/conversations); `queueCursor` is {status, cursor} of the next page.
// A server without the filter answers 400: then one unfiltered list, sorted as it comes.
let filtered = true;

async function fetchQueuePage(status, cursor) {
  try {
    const page = await client.conversations({ limit: PAGE, cursor: cursor || undefined, status: filtered ? status : undefined });
    for (const conv of page.items) addConversation(conv);
    if (page.next_cursor) return { status, cursor: page.next_cursor };
    return filtered && status === "open" ? { status: "closed", cursor: null } : null;
  } catch (error) {
    if (!filtered || error.code !== "validation_failed") throw error;
    filtered = false;
    return fetchQueuePage(null, null);
  }
}

export async function loadQueue() {
  state.queueCursor = await fetchQueuePage("open", null);
  // Fewer open conversations than a page: the newest closed ones follow at once.
  if (state.queueCursor && state.queueCursor.status === "closed" && state.convs.size < PAGE) {
    state.queueCursor = await fetchQueuePage("closed", null);
  }
  state.queueLoaded = true;
  changed();
  await refreshUnread();
}

export async function loadMoreQueue() {
  if (!state.queueCursor) return;
  state.queueCursor = await fetchQueuePage(state.queueCursor.status, state.queueCursor.cursor);
  changed();
  refreshUnreadSoon();
}

// New conversations reach no session until it joins them, so the newest page is polled.
async function pollNewest() {
  try {
    const page = await client.conversations({ limit: 20, status: filtered ? "open" : undefined });
    for (const conv of page.items) {
      const known = state.convs.get(conv.id);
      if (known && known.last_seq === conv.last_seq && known.status === conv.status) continue;
      addConversation(conv);
      // A waiting conversation has no live events: the poll is what tells of it.
      if (waiting(conv) && conv.last_message && (!known || conv.last_seq > known.last_seq)) {
        notifyDesktop(state.convs.get(conv.id), conv.last_message);
      }
    }
  } catch {
    // The next poll tries again.
  }
}

export async function refreshUnread() {
  const unread = await client.api("GET", "/api/v1/unread");
  for (const [id, count] of Object.entries(unread.conversations)) {
    const conv = state.convs.get(Number(id));
    if (conv) {
      conv.unread_count = state.viewing === conv.id ? 0 : count;
      conv.unread_mentions = unread.unread_mentions ? unread.unread_mentions[id] || 0 : 0;
    }
  }
  changed();
}

let unreadTimer = null;
function refreshUnreadSoon() {
  clearTimeout(unreadTimer);
  unreadTimer = setTimeout(() => refreshUnread().catch(() => {}), 1500);
}

// Marks everything up to `seq` read, over the socket.
export async function markRead(id, seq) {
  const conv = state.convs.get(id);
  if (!conv || !conv.member_role || seq <= (conv.last_read_seq || 0)) return;
  conv.last_read_seq = seq;
  if (seq >= conv.last_seq) {
    conv.unread_count = 0;
    conv.unread_mentions = 0;
  }
  changed();
  try {
    await client.markRead(id, seq);
  } catch {
    refreshUnreadSoon();
  }
}

// Applies a message to its conversation's queue entry (from events and our own sends).
export function applyMessage(message) {
  const conv = state.convs.get(message.conversation_id);
  if (!conv) {
    fetchConversation(message.conversation_id);
    return;
  }
  if (message.seq <= conv.last_seq) {
    if (conv.last_message && conv.last_message.id === message.id) conv.last_message = message;
    changed();
    return;
  }
  const fromOther = !state.me || message.sender_id !== state.me.id;
  conv.last_seq = message.seq;
  conv.last_message = message;
  conv.last_activity_at = message.created_at;
  if (fromOther && message.kind !== "system" && (state.viewing !== conv.id || document.hidden)) {
    conv.unread_count = (conv.unread_count || 0) + 1;
  }
  changed();
  if (fromOther) notifyDesktop(conv, message);
}

async function fetchConversation(id) {
  try {
    addConversation(await client.api("GET", `/api/v1/conversations/${id}`));
  } catch {
    // Not visible to us.
  }
}

// ---------------------------------------------------------------------------------------------
// Desktop notifications, only once the user asked for them (a click, never on load).

const NOTIFY_KEY = "parlor.console.notifications";

export function notificationsOffer() {
  if (typeof Notification === "undefined") return "unsupported";
  if (Notification.permission !== "default") return Notification.permission;
  return localStorage.getItem(NOTIFY_KEY) === "dismissed" ? "dismissed" : "ask";
}

export async function enableNotifications() {
  await Notification.requestPermission();
  changed();
}

export function dismissNotifications() {
  localStorage.setItem(NOTIFY_KEY, "dismissed");
  changed();
}

function notifyDesktop(conv, message) {
  if (!document.hidden || typeof Notification === "undefined" || Notification.permission !== "granted") return;
  const sender = displayName(message.sender_id);
  const where = conversationTitle(conv);
  const shown = new Notification(where === sender ? sender : `${sender} · ${where}`, {
    body: preview(message).slice(0, 200),
    tag: `parlor-conversation-${conv.id}`,
  });
  shown.onclick = () => {
    window.focus();
    location.hash = `#/inbox/${conv.id}`;
    shown.close();
  };
}

// ---------------------------------------------------------------------------------------------
// Live events.

function setTyping(conversationId, userId, on) {
  let users = state.typing.get(conversationId);
  if (!users) state.typing.set(conversationId, (users = new Map()));
  if (on) users.set(userId, Date.now() + 8000);
  else users.delete(userId);
  changed();
}

export function typingUsers(conversationId) {
  const users = state.typing.get(conversationId);
  if (!users) return [];
  const now = Date.now();
  return [...users].filter(([id, until]) => until > now && (!state.me || id !== state.me.id)).map(([id]) => id);
}

const unsubscribers = [];
let pollTimer = null;
let typingTimer = null;

function wire() {
  const on = (type, handler) => unsubscribers.push(client.on(type, handler));
  on("message:new", (data) => applyMessage(data.message));
  on("message:updated", (data) => applyMessage(data.message));
  on("message:deleted", (data) => {
    const conv = state.convs.get(data.conversation_id);
    if (conv && conv.last_message && conv.last_message.id === data.message_id) {
      conv.last_message = { ...conv.last_message, content: "", attachment: null, deleted_at: new Date().toISOString() };
      changed();
    }
    refreshUnreadSoon(); // a deleted unread message no longer counts
  });
  on("typing:start", (data) => setTyping(data.conversation_id, data.user_id, true));
  on("typing:stop", (data) => setTyping(data.conversation_id, data.user_id, false));
  on("message:read", (data) => {
    if (state.me && data.user_id === state.me.id) {
      const conv = state.convs.get(data.conversation_id);
      if (conv && data.seq > (conv.last_read_seq || 0)) {
        conv.last_read_seq = data.seq;
        refreshUnreadSoon();
      }
      return;
    }
    let reads = state.reads.get(data.conversation_id);
    if (!reads) state.reads.set(data.conversation_id, (reads = new Map()));
    reads.set(data.user_id, Math.max(reads.get(data.user_id) || 0, data.seq));
    changed();
  });
  on("conversation:closed", (data) => {
    const conv = state.convs.get(data.conversation_id);
    const status = conv && conv.kind === "support" ? "resolved" : "closed";
    if (conv) Object.assign(conv, { status, closed_by: data.closed_by, closed_at: data.closed_at });
    state.typing.delete(data.conversation_id);
    changed();
  });
  on("conversation:status", (data) => {
    const conv = state.convs.get(data.conversation_id);
    if (conv) Object.assign(conv, { status: data.status, snoozed_until: data.snoozed_until });
    changed();
  });
  on("conversation:assigned", (data) => {
    const conv = state.convs.get(data.conversation_id);
    if (conv) conv.assignee_id = data.assignee_id;
    changed();
  });
  on("mention", (data) => {
    const conv = state.convs.get(data.conversation_id);
    if (conv) conv.unread_mentions = (conv.unread_mentions || 0) + 1;
    else fetchConversation(data.conversation_id);
    changed();
  });
  let wasOpen = false;
  on("tokens", (tokens) => {
    if (!tokens && state.me) state.ended = "You were signed out.";
    changed();
  });
  on("state", (value, info) => {
    state.connection = value;
    if (value === "closed" && info && info.error && info.error.code !== "closed") {
      state.ended = `The live connection ended: ${info.error.message}.`;
    }
    if (state.connection === "open") {
      if (wasOpen) {
        refreshUnreadSoon();
        pollNewest();
      }
      wasOpen = true;
    }
    changed();
  });
}

// Starts the live side for the signed-in user: the socket, the queue and the polls.
export async function start(me) {
  state.me = me;
  rememberUser(me);
  if (!isStaff()) return; // customers are shown the door, not connected
  wire();
  loadDirectory();
  try {
    await client.connect();
  } catch {
    // The client keeps reconnecting; the header shows the state.
  }
  await loadQueue();
  pollTimer = setInterval(pollNewest, 20000);
  typingTimer = setInterval(() => state.typing.size && changed(), 3000);
}

export function stop() {
  for (const unsubscribe of unsubscribers.splice(0)) unsubscribe();
  clearInterval(pollTimer);
  clearInterval(typingTimer);
  client.disconnect();
  Object.assign(state, { me: null, connection: "idle", queueCursor: null, queueLoaded: false, viewing: null, ended: null });
  for (const map of [state.convs, state.typing, state.reads, joined]) map.clear();
  forgetNames();
  joinQueue.length = 0;
  changed();
}
