/**
 * The widget's shell: the host element and its shadow root, the launcher, the panel with its
 * header, notices, typing line and composer. The messages themselves are messages.js's.
 * Elements tests look for carry data-testid.
 * @module
 */
import { CSS, HOST_STYLE } from "./styles.js";

const SVG = "http://www.w3.org/2000/svg";
const ICONS = {
  chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
  close: "M6 6l12 12M18 6L6 18",
  down: "M6 9l6 6 6-6",
  attach: "M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6l7.9-7.9",
  send: "M4 12l16-8-6 16-2.5-6.5L4 12z",
};

/** An inline icon, hidden from assistive technology (its button has the label). */
export function icon(name) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", ICONS[name]);
  const filled = name === "chat" || name === "send";
  path.setAttribute("fill", filled ? "currentColor" : "none");
  path.setAttribute("stroke", "currentColor");
  path.setAttribute("stroke-width", filled ? "1" : "2");
  path.setAttribute("stroke-linecap", "round");
  path.setAttribute("stroke-linejoin", "round");
  svg.append(path);
  return svg;
}

/**
 * A tiny element builder: h("button", {class: "x", onclick: fn}, "text", child).
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Node | string | null | undefined | false)} children
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key === "class") element.className = value;
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) if (child) element.append(child);
  return element;
}

/** "#rrggbb"-ish colour → relative luminance (WCAG 2), via the browser's own parser. */
function luminance(probe, color) {
  probe.style.color = "";
  probe.style.color = color;
  if (!probe.style.color) return null;
  const match = /rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(getComputedStyle(probe).color);
  if (!match) return null;
  const [r, g, b] = match.slice(1, 4).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export class View {
  /** @param {{title: string, accent: string | null}} config */
  constructor(config) {
    this.host = document.createElement("parlor-widget");
    for (const [name, value] of Object.entries(HOST_STYLE)) this.host.style.setProperty(name, value, "important");
    this.shadow = this.host.attachShadow({ mode: "open" });
    if ("adoptedStyleSheets" in this.shadow && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      this.shadow.adoptedStyleSheets = [sheet];
    } else {
      this.shadow.append(h("style", {}, CSS));
    }

    this.badge = h("span", { class: "badge", "aria-hidden": "true", "data-testid": "badge", hidden: true });
    this.launcher = h("button", {
      type: "button", class: "launcher", "data-testid": "launcher", "aria-label": "Open chat",
      "aria-expanded": "false", "aria-controls": "parlor-panel", "aria-haspopup": "dialog",
    }, icon("chat"), icon("down"), this.badge);
    this.launcher.lastElementChild.previousElementSibling.setAttribute("hidden", "");

    this.closeButton = h("button", { type: "button", class: "icon-button", "aria-label": "Close chat", "data-testid": "close" }, icon("close"));
    this.status = h("div", { class: "status", role: "status", "data-testid": "status", hidden: true });
    this.intro = h("div", { class: "intro", "data-testid": "intro" },
      h("strong", {}, "Hi there!"), "Send us a message and we'll reply right here.");
    this.earlier = h("button", { type: "button", class: "earlier", "data-testid": "earlier", hidden: true }, "Show earlier messages");
    this.list = h("div", { class: "messages", role: "log", "aria-live": "polite", "aria-relevant": "additions", "aria-label": "Messages", "data-testid": "messages" });
    this.newButton = h("button", { type: "button", class: "primary", "data-testid": "new-conversation" }, "Start a new conversation");
    this.closedNotice = h("div", { class: "notice", role: "status", "data-testid": "closed-notice", hidden: true },
      h("p", {}, "This conversation was closed."), this.newButton);
    this.errorText = h("p", {});
    this.retryButton = h("button", { type: "button", class: "primary", "data-testid": "retry" }, "Try again");
    this.errorNotice = h("div", { class: "notice error", role: "alert", "data-testid": "error", hidden: true }, this.errorText, this.retryButton);
    this.body = h("div", { class: "body", "data-testid": "body" }, this.intro, this.earlier, this.list, this.closedNotice, this.errorNotice);
    this.typingText = h("span", {});
    this.typing = h("div", { class: "typing", "data-testid": "typing", hidden: true },
      h("span", { class: "dots", "aria-hidden": "true" }, h("span"), h("span"), h("span")), this.typingText);
    this.typingLive = h("div", { class: "visually-hidden", role: "status", "aria-live": "polite" });

    this.input = h("textarea", {
      rows: "1", placeholder: "Write a message…", "aria-label": "Message", "data-testid": "input", maxlength: "4000",
    });
    this.file = h("input", { type: "file", accept: "image/png,image/jpeg,image/gif,image/webp", hidden: true, tabindex: "-1", "aria-hidden": "true" });
    this.attach = h("button", { type: "button", class: "icon-button", "aria-label": "Attach an image", "data-testid": "attach" }, icon("attach"));
    this.send = h("button", { type: "submit", class: "icon-button send", "aria-label": "Send", "data-testid": "send" }, icon("send"));
    this.composer = h("form", { class: "composer", "data-testid": "composer", novalidate: true }, this.attach, this.input, this.send, this.file);

    const title = h("h2", { id: "parlor-title" }, config.title);
    this.panel = h("div", {
      id: "parlor-panel", class: "panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "parlor-title",
      "data-testid": "panel", hidden: true,
    },
    h("div", { class: "header" }, h("div", { class: "heading" }, title, h("p", {}, "We reply as soon as we can")), this.closeButton),
    this.status, this.body, this.typing, this.typingLive, this.composer);

    this.root = h("div", { class: "root" }, this.panel, this.launcher);
    this.shadow.append(this.root);
    document.body.append(this.host);
    if (config.accent) this.setAccent(config.accent);
    this.input.addEventListener("input", () => this.grow());
  }

  /** Uses `color` for the launcher, header and own messages, with text that stays legible on it. */
  setAccent(color) {
    const lum = luminance(this.typingText, color);
    if (lum === null) return;
    this.root.style.setProperty("--accent", color);
    this.root.style.setProperty("--on-accent", lum > 0.4 ? "#111111" : "#ffffff");
    // Focus rings and links drawn on white need the accent dark enough; else a neutral blue.
    if (lum > 0.3) this.root.style.setProperty("--focus", "#1d4ed8");
    else this.root.style.setProperty("--focus", color);
    this.typingText.style.color = "";
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  /** @param {boolean} open */
  setOpen(open) {
    this.panel.hidden = !open;
    this.root.classList.toggle("open", open);
    this.launcher.setAttribute("aria-expanded", String(open));
    const [chat, down] = this.launcher.querySelectorAll("svg");
    chat.toggleAttribute("hidden", open);
    down.toggleAttribute("hidden", !open);
    this.launcher.setAttribute("aria-label", open ? "Close chat" : this.launcherLabel());
  }

  launcherLabel() {
    const n = Number(this.badge.textContent) || 0;
    return n ? `Open chat, ${n} unread message${n === 1 ? "" : "s"}` : "Open chat";
  }

  /** @param {number} count unread agent messages */
  setBadge(count) {
    this.badge.hidden = count <= 0;
    this.badge.textContent = count > 99 ? "99+" : String(count);
    if (!this.isOpen) this.launcher.setAttribute("aria-label", this.launcherLabel());
  }

  /** A one-line connection notice; null hides it. @param {string | null} text */
  setStatus(text) {
    this.status.hidden = !text;
    this.status.textContent = text ?? "";
  }

  /** @param {string | null} text who is typing, or null */
  setTyping(text) {
    this.typing.hidden = !text;
    this.typingText.textContent = text ?? "";
    if ((this.typingLive.textContent || null) !== text) this.typingLive.textContent = text ?? "";
  }

  /** @param {string | null} message the error to show, null to hide it; @param {boolean} [retry] */
  setError(message, retry = true) {
    this.errorNotice.hidden = !message;
    this.errorText.textContent = message ?? "";
    this.retryButton.hidden = !retry;
  }

  /** @param {boolean} closed the conversation was closed: the notice instead of the composer */
  setClosed(closed) {
    this.closedNotice.hidden = !closed;
    this.composer.hidden = closed;
  }

  /** @param {boolean} enabled */
  setComposer(enabled) {
    this.input.disabled = !enabled;
    this.attach.disabled = !enabled;
    this.send.disabled = !enabled;
  }

  /** Grows the text box with its content, up to its max-height. */
  grow() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight + 2, 120)}px`;
  }

  /** Whether focus is inside the widget. */
  hasFocus() {
    return this.shadow.activeElement !== null;
  }

  nearBottom() {
    return this.body.scrollHeight - this.body.scrollTop - this.body.clientHeight < 80;
  }

  scrollToBottom() {
    this.body.scrollTop = this.body.scrollHeight;
  }

  remove() {
    this.host.remove();
  }
}
