/**
 * The message list: messages in `seq` order (history pages, replays and live ones alike,
 * each shown once), the visitor's sends while they wait for their ack (by `client_msg_id`),
 * uploads with their progress, and the "Seen" marker.
 * @module
 */
import { h } from "./view.js";

/** Messages of one sender less than this far apart form a group (one name, one time). */
const GROUP_MS = 5 * 60_000;
/** The largest an image is shown in the list (CSS pixels). */
const MAX_IMAGE = { width: 260, height: 240 };
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;

/** Text with its http(s) links made clickable; nothing else is interpreted. */
function linkified(text) {
  const fragment = document.createDocumentFragment();
  let at = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    fragment.append(text.slice(at, match.index));
    fragment.append(h("a", { href: match[0], target: "_blank", rel: "noopener noreferrer" }, match[0]));
    at = match.index + match[0].length;
  }
  fragment.append(text.slice(at));
  return fragment;
}

function clock(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
}

export class MessageList {
  /**
   * @param {import("./view.js").View} view
   * @param {{baseUrl: string, nameOf: (userId: number) => string | null,
   *   onRetry: (clientMsgId: string) => void}} options
   */
  constructor(view, options) {
    this.view = view;
    this.list = view.list;
    this.options = options;
    this.me = /** @type {number | null} */ (null);
    /** Shown messages by seq. @type {Map<number, {message: any, element: HTMLElement}>} */
    this.items = new Map();
    /** Sends waiting for their ack, by client_msg_id. @type {Map<string, {element: HTMLElement, preview?: string}>} */
    this.pending = new Map();
    this.readSeq = 0;
    this.seen = h("div", { class: "seen", "data-testid": "seen" }, "Seen");
  }

  /** Empties the list; with `keepPending`, the sends on their way stay. */
  clear({ keepPending = false } = {}) {
    if (!keepPending) {
      for (const entry of this.pending.values()) if (entry.preview) URL.revokeObjectURL(entry.preview);
      this.pending.clear();
    }
    this.items.clear();
    this.readSeq = 0;
    this.list.replaceChildren(...[...this.pending.values()].map((entry) => entry.element));
  }

  get firstSeq() {
    return this.items.size ? Math.min(...this.items.keys()) : null;
  }

  get lastSeq() {
    return this.items.size ? Math.max(...this.items.keys()) : 0;
  }

  /** @param {any} message */
  mine(message) {
    return message.sender_id === this.me;
  }

  /**
   * Shows a message, or replaces the copy shown (same seq). Returns whether it is new.
   * @param {any} message
   */
  upsert(message) {
    const known = this.items.get(message.seq);
    if (known && known.message.version > message.version) return false;
    const element = this.render(message);
    if (message.client_msg_id && this.pending.has(message.client_msg_id) && this.mine(message)) {
      const entry = this.pending.get(message.client_msg_id);
      entry.element.remove();
      if (entry.preview) element.querySelector("img")?.addEventListener("load", () => URL.revokeObjectURL(entry.preview), { once: true });
      this.pending.delete(message.client_msg_id);
    }
    if (known) {
      known.element.replaceWith(element);
    } else {
      const later = [...this.items.keys()].filter((seq) => seq > message.seq).sort((a, b) => a - b)[0];
      const before = later !== undefined ? this.items.get(later).element : this.firstPending();
      this.list.insertBefore(element, before);
    }
    this.items.set(message.seq, { message, element });
    this.regroup(element);
    this.placeSeen();
    return !known;
  }

  /** A `message:deleted` event: the message becomes a tombstone. */
  deleted({ seq, version }) {
    const known = this.items.get(seq);
    if (!known) return;
    this.upsert({ ...known.message, version, content: "", attachment: null, deleted_at: new Date().toISOString() });
  }

  firstPending() {
    const first = this.pending.values().next().value;
    return first ? first.element : null;
  }

  /** @param {any} message */
  render(message) {
    const mine = this.mine(message);
    if (message.kind === "system" && !message.deleted_at) {
      return h("div", { class: "system", "data-seq": message.seq, "data-testid": "message" }, message.content);
    }
    const element = h("div", {
      class: `msg ${mine ? "mine" : "theirs"}`, "data-seq": message.seq, "data-sender": message.sender_id,
      "data-testid": "message",
    });
    element.dataset.at = String(Date.parse(message.created_at) || 0);
    if (!mine) element.append(h("div", { class: "author", "data-author": message.sender_id }, this.options.nameOf(message.sender_id) ?? "Support"));
    element.append(this.bubble(message));
    element.append(h("div", { class: "meta" }, h("time", { datetime: message.created_at }, clock(message.created_at))));
    return element;
  }

  /** @param {any} message */
  bubble(message) {
    if (message.deleted_at) return h("div", { class: "bubble deleted" }, "Message deleted");
    const attachment = message.attachment;
    if (!attachment) return h("div", { class: "bubble" }, linkified(message.content));
    const url = (path) => new URL(path, this.options.baseUrl).href;
    const bubble = h("div", { class: "bubble media" });
    if (attachment.content_type?.startsWith("image/")) {
      const img = h("img", {
        src: url(attachment.thumbnail_url ?? attachment.url), alt: attachment.original_name || "Image",
        "data-testid": "image", loading: "lazy", decoding: "async",
      });
      const { width, height } = attachment;
      if (width > 0 && height > 0) {
        // Its room is kept before it loads, so the list does not jump.
        img.style.width = `${Math.round(width * Math.min(1, MAX_IMAGE.width / width, MAX_IMAGE.height / height))}px`;
        img.style.aspectRatio = `${width} / ${height}`;
      } else {
        const stick = this.view.nearBottom();
        img.addEventListener("load", () => { if (stick) this.view.scrollToBottom(); }, { once: true });
      }
      bubble.append(h("a", { class: "image-link", href: url(attachment.url), target: "_blank", rel: "noopener noreferrer",
        "aria-label": `Open image ${attachment.original_name || ""}`.trim() }, img));
    } else {
      bubble.append(h("a", { class: "file", href: url(attachment.url), target: "_blank", rel: "noopener noreferrer" },
        `📎 ${attachment.original_name || "File"}`));
    }
    if (message.content) bubble.append(h("div", { class: "caption" }, linkified(message.content)));
    return bubble;
  }

  /** Marks whether `element` starts and ends a run of one sender's messages, and its neighbours. */
  regroup(element) {
    const set = (el) => {
      if (!el || !el.classList.contains("msg")) return;
      const prev = el.previousElementSibling;
      const next = el.nextElementSibling;
      const joined = (a, b) => a && b && a.classList.contains("msg") && b.classList.contains("msg")
        && a.dataset.sender === b.dataset.sender && Math.abs(Number(b.dataset.at) - Number(a.dataset.at)) < GROUP_MS;
      const first = !joined(prev?.classList.contains("seen") ? prev.previousElementSibling : prev, el);
      el.classList.toggle("first", first);
      el.classList.toggle("last", !joined(el, next?.classList.contains("seen") ? next.nextElementSibling : next));
      const author = el.querySelector(".author");
      if (author) author.hidden = !first;
      const meta = el.querySelector(".meta");
      if (meta && !el.classList.contains("pending") && !el.classList.contains("failed")) meta.hidden = !el.classList.contains("last");
    };
    const prev = element.previousElementSibling;
    const next = element.nextElementSibling;
    set(prev?.classList.contains("seen") ? prev.previousElementSibling : prev);
    set(element);
    set(next?.classList.contains("seen") ? next.nextElementSibling : next);
  }

  /** Puts the sender's name on their messages once it is known. */
  named(userId, name) {
    for (const author of this.list.querySelectorAll(`[data-author="${userId}"]`)) author.textContent = name;
  }

  /**
   * A send on its way: shown at the bottom until its message arrives.
   * @param {string} clientMsgId
   * @param {{text?: string, file?: File}} what
   */
  addPending(clientMsgId, what) {
    const element = h("div", { class: "msg mine pending first last", "data-testid": "pending", "data-sender": this.me ?? "" });
    let preview;
    let progress = null;
    if (what.file) {
      const bubble = h("div", { class: "bubble media" });
      if (what.file.type.startsWith("image/")) {
        preview = URL.createObjectURL(what.file);
        bubble.append(h("img", { src: preview, alt: `Uploading ${what.file.name}` }));
      } else {
        bubble.append(h("span", { class: "file" }, `📎 ${what.file.name}`));
      }
      progress = h("progress", { max: "100", value: "0", "aria-label": `Uploading ${what.file.name}`, "data-testid": "progress" });
      bubble.append(progress);
      element.append(bubble);
    } else {
      element.append(h("div", { class: "bubble" }, linkified(what.text ?? "")));
    }
    const meta = h("div", { class: "meta", role: "status" }, what.file ? "Uploading…" : "Sending…");
    element.append(meta);
    this.list.append(element);
    this.pending.set(clientMsgId, { element, preview });
    this.placeSeen();
    this.view.scrollToBottom();
    return {
      /** @param {number} fraction 0..1 */
      progress: (fraction) => {
        if (progress) progress.value = Math.round(fraction * 100);
      },
      uploaded: () => {
        progress?.remove();
        meta.textContent = "Sending…";
      },
      /** @param {string} reason @param {boolean} retry */
      failed: (reason, retry) => {
        element.classList.replace("pending", "failed");
        progress?.remove();
        meta.replaceChildren(reason);
        if (retry) {
          meta.append(h("button", { type: "button", class: "retry", "data-testid": "retry-send", onclick: () => {
            element.classList.replace("failed", "pending");
            meta.textContent = "Sending…";
            this.options.onRetry(clientMsgId);
          } }, "Retry"));
        }
      },
      remove: () => {
        element.remove();
        if (preview) URL.revokeObjectURL(preview);
        this.pending.delete(clientMsgId);
        this.placeSeen();
      },
    };
  }

  /** Another participant read up to `seq`. @param {number} seq */
  read(seq) {
    if (seq <= this.readSeq) return;
    this.readSeq = seq;
    this.placeSeen();
  }

  /** "Seen" goes under the visitor's newest message that the other side has read. */
  placeSeen() {
    let target = null;
    for (const [seq, { message, element }] of this.items) {
      if (seq <= this.readSeq && this.mine(message) && (!target || seq > Number(target.dataset.seq))) target = element;
    }
    if (!target) {
      this.seen.remove();
      return;
    }
    if (target.nextElementSibling !== this.seen) target.after(this.seen);
  }
}
