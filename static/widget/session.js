/**
 * Who the widget speaks as: `POST /api/v1/widget/session` for the project gives tokens for an
 * anonymous visitor (remembered across reloads by the `visitor_token` kept in the page's
 * localStorage, one key per server and project) or for the page's signed-in user (identified
 * by `external_id` and the `user_hash` the page's backend computed).
 * @module
 */

/** Why no session could be had; `kind` picks what the panel says. */
export class SessionError extends Error {
  /**
   * @param {"identity" | "forbidden" | "not_found" | "unavailable"} kind
   * @param {string} message
   */
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

export class WidgetSession {
  /** @param {{origin: string, projectId: number}} options */
  constructor(options) {
    this.origin = options.origin;
    this.projectId = options.projectId;
    this.key = `parlor.widget:${options.origin}:${options.projectId}`;
  }

  /** localStorage, or null where the page may not use it (sandboxed frames, some private modes). */
  get storage() {
    try {
      return window.localStorage;
    } catch {
      return null;
    }
  }

  get visitorToken() {
    try {
      return this.storage?.getItem(`${this.key}:visitor`) ?? null;
    } catch {
      return null;
    }
  }

  /** @param {string | null} token */
  set visitorToken(token) {
    try {
      if (token) this.storage?.setItem(`${this.key}:visitor`, token);
      else this.storage?.removeItem(`${this.key}:visitor`);
    } catch {
      // Full or refused storage: the visitor lasts as long as the page.
    }
  }

  /** Small per-conversation facts kept with the visitor (what the agent last read). */
  remember(name, value) {
    try {
      if (value === null) this.storage?.removeItem(`${this.key}:${name}`);
      else this.storage?.setItem(`${this.key}:${name}`, JSON.stringify(value));
    } catch {
      // As above.
    }
  }

  recall(name) {
    try {
      return JSON.parse(this.storage?.getItem(`${this.key}:${name}`) ?? "null");
    } catch {
      return null;
    }
  }

  /** Forgets the visitor and what was kept with them. */
  forget() {
    this.visitorToken = null;
    this.remember("seen", null);
  }

  /**
   * Tokens for the visitor, or for `identity` when it names an external id.
   * @param {{external_id?: string, user_hash?: string, name?: string, email?: string} | null} identity
   * @returns {Promise<any>} the token response, with `visitor_token` for a visitor
   */
  async open(identity) {
    const body = { project_id: this.projectId };
    const identified = Boolean(identity?.external_id);
    // An anonymous visitor may bring a name; an email only comes with a verified identity.
    for (const field of identified ? ["external_id", "user_hash", "name", "email"] : ["name"]) {
      if (identity?.[field]) body[field] = identity[field];
    }
    const stored = identified ? null : this.visitorToken;
    if (stored) body.visitor_token = stored;
    let answer = await this.post(body);
    if (answer.status === 401 && stored) {
      this.forget(); // not valid any more: a new visitor
      delete body.visitor_token;
      answer = await this.post(body);
    }
    const { status, json } = answer;
    if (status === 200 || status === 201) {
      if (!json || typeof json.access_token !== "string") throw new SessionError("unavailable", "The chat server gave an unexpected answer.");
      if (!identified && typeof json.visitor_token === "string") this.visitorToken = json.visitor_token;
      return json;
    }
    if (status === 401) throw new SessionError("identity", "We couldn't confirm who you are, so the chat can't open. Please reload the page or sign in again.");
    // validation_failed (an identity the project cannot check) or email_taken: asking again won't help.
    if (status === 400 || status === 409) throw new SessionError("identity", "The chat can't be opened for this account.");
    if (status === 403) {
      // The project takes verified users only (the server's message says so), or not this site.
      const signIn = !identified && /identity/.test(json?.error?.message ?? "");
      throw new SessionError("forbidden", signIn ? "Please sign in to chat with us." : "Chat isn't available on this page.");
    }
    if (status === 404) throw new SessionError("not_found", "This chat isn't set up yet.");
    throw new SessionError("unavailable", "The chat is unavailable right now.");
  }

  /** @param {object} body */
  async post(body) {
    let response;
    try {
      response = await fetch(new URL("/api/v1/widget/session", this.origin).href, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        credentials: "omit",
      });
    } catch {
      throw new SessionError("unavailable", "Can't reach the chat server. Check your connection.");
    }
    let json = null;
    try {
      json = await response.json();
    } catch {
      json = null;
    }
    return { status: response.status, json };
  }
}
