/*
 * Parlor's chat widget: a launcher button and a chat panel for any web page.
 *
 *   <script src="https://chat.example.com/widget.js" data-project="1" async></script>
 *
 * Attributes (all optional but data-project): data-title, data-accent (a CSS colour), and for a
 * signed-in user of the page data-external-id, data-user-hash (hex HMAC-SHA256 of the external
 * id, computed by the page's backend with the project's widget identity secret), data-name,
 * data-email. From script: window.Parlor.identify({external_id, user_hash, name, email}),
 * .reset(), .open(), .close(), .toggle(). Calls made before this script has run can be queued
 * by a stub: window.Parlor = window.Parlor || {q: [], identify: function (u) { this.q.push(["identify", u]); }};
 *
 * This file is a classic script (so it works with async and defer); the rest of the widget
 * is ES modules under /widget/, loaded from the same server, and the chat itself speaks
 * through the JavaScript client, /clients/js/parlor.js. Everything it shows lives in a shadow
 * root: no style goes in or out.
 */
(function () {
  "use strict";
  var previous = window.Parlor;
  if (previous && previous.__parlorWidget) return; // the snippet is on the page twice

  /** The <script> element that loaded this file (currentScript is null for async scripts
   * run after parsing in some browsers, and for scripts added by other scripts). */
  function findScript() {
    var current = document.currentScript;
    if (current && /\/widget\.js(?:[?#]|$)/.test(current.src)) return current;
    var scripts = document.querySelectorAll("script[src]");
    var fallback = null;
    for (var i = 0; i < scripts.length; i++) {
      if (!/\/widget\.js(?:[?#]|$)/.test(scripts[i].src)) continue;
      if (scripts[i].hasAttribute("data-project")) return scripts[i];
      fallback = fallback || scripts[i];
    }
    return fallback;
  }

  var script = findScript();
  if (!script) return;
  var data = script.dataset;
  var origin = new URL(script.src, location.href).origin;

  /** @param {unknown} value */
  function text(value, max) {
    if (typeof value !== "string") return undefined;
    var trimmed = value.trim();
    return trimmed ? trimmed.slice(0, max || 200) : undefined;
  }

  /** Identity fields as the server takes them (docs: POST /api/v1/widget/session). */
  function identity(user) {
    if (!user || typeof user !== "object") return null;
    var result = {
      external_id: text(user.external_id, 255),
      user_hash: text(user.user_hash, 128),
      name: text(user.name, 64),
      email: text(user.email, 254)
    };
    return result.external_id || result.name || result.email ? result : null;
  }

  var project = Number(data.project);
  var config = {
    origin: origin,
    projectId: Number.isInteger(project) && project > 0 ? project : 1,
    title: text(data.title, 80) || "Chat with us",
    accent: text(data.accent, 64) || null,
    identity: identity({
      external_id: data.externalId, user_hash: data.userHash, name: data.name, email: data.email
    })
  };

  var app = null;
  var waiting = []; // calls made before the app module has loaded
  var readyResolve;
  var ready = new Promise(function (resolve) { readyResolve = resolve; });

  function call(name, args) {
    if (app) return app[name].apply(app, args);
    waiting.push([name, args]);
    return undefined;
  }

  var api = {
    __parlorWidget: true,
    /** Resolves once the widget is on the page. */
    ready: ready,
    /** Switches to an identified user: {external_id, user_hash, name?, email?}. */
    identify: function (user) {
      var next = identity(user);
      if (!next) return;
      if (!app) config.identity = next;
      else app.identify(next);
    },
    /** Forgets the visitor (and an identified user): the next chat starts afresh. */
    reset: function () {
      if (!app) config.identity = null;
      return call("reset", []);
    },
    open: function () { return call("open", []); },
    close: function () { return call("close", []); },
    toggle: function () { return call("toggle", []); }
  };
  window.Parlor = api;

  // Calls queued by a stub before this script ran.
  var queued = previous && Array.isArray(previous.q) ? previous.q : [];
  for (var i = 0; i < queued.length; i++) {
    var entry = queued[i];
    if (entry && typeof api[entry[0]] === "function" && entry[0] !== "ready") {
      api[entry[0]].apply(api, Array.prototype.slice.call(entry, 1));
    }
  }

  function start() {
    import(new URL("/widget/app.js", origin).href).then(function (module) {
      app = module.mount(config);
      for (var j = 0; j < waiting.length; j++) app[waiting[j][0]].apply(app, waiting[j][1]);
      waiting = [];
      readyResolve(api);
      window.dispatchEvent(new CustomEvent("parlor:ready"));
    }, function () {
      // The server could not be reached, or refused this page's origin (CORS): no widget.
    });
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start, { once: true });
})();
