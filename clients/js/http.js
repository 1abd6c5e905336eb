// @ts-check
/**
 * The REST side of the client: the token pair (kept in memory, and in a `Storage` when given),
 * JSON requests with the access token, refreshed once on 401 (refreshes are serialized: a
 * refresh token is single use, and presenting a used one revokes every token of the user,
 * docs/PROTOCOL.md §2), and uploads through XMLHttpRequest for their progress events.
 * @module
 */
import { ParlorError } from "./errors.js";

/**
 * @typedef {{access_token: string, refresh_token?: string | null, expires_in?: number}} Tokens
 * @typedef {{access_token: string, refresh_token: string | null, expires_at: number | null,
 *   refresh_at: number | null}} TokenState
 *   expires_at: the access token's expiry, in milliseconds since the epoch (null: unknown);
 *   refresh_at: when to refresh it (a minute before, or a quarter of its lifetime if shorter)
 */

/** Refresh an access token this long before it expires (milliseconds)... */
export const REFRESH_MARGIN_MS = 60_000;

/**
 * ...or a quarter of its remaining lifetime when that is shorter (short-lived tokens).
 * @param {number} remainingMs
 */
export function refreshMargin(remainingMs) {
  return Math.min(REFRESH_MARGIN_MS, Math.max(0, remainingMs) / 4);
}

/**
 * The `iat` and `exp` claims of a JWT, in milliseconds, or null if it is not a readable JWT.
 * @param {string} token
 * @returns {{iat: number | null, exp: number} | null}
 */
function jwtTimes(token) {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const claims = JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/")));
    if (typeof claims.exp !== "number") return null;
    return { iat: typeof claims.iat === "number" ? claims.iat * 1000 : null, exp: claims.exp * 1000 };
  } catch {
    return null;
  }
}

/**
 * @param {Tokens} tokens
 * @returns {TokenState}
 */
function tokenState(tokens) {
  if (!tokens || typeof tokens.access_token !== "string") throw new TypeError("tokens need an access_token");
  const now = Date.now();
  const times = jwtTimes(tokens.access_token);
  let expiresAt = times ? times.exp : null;
  let issuedAt = times ? times.iat : null;
  if (expiresAt === null && typeof tokens.expires_in === "number") {
    expiresAt = now + tokens.expires_in * 1000;
    issuedAt = now;
  }
  const refreshAt = expiresAt === null ? null : expiresAt - refreshMargin(expiresAt - (issuedAt ?? now));
  return { access_token: tokens.access_token, refresh_token: tokens.refresh_token ?? null, expires_at: expiresAt, refresh_at: refreshAt };
}

export class Http {
  /**
   * @param {{baseUrl?: string, storage?: Storage | null, storageKey?: string,
   *   getTokens?: (() => Promise<Tokens>) | null, onTokens?: (tokens: TokenState | null) => void}} options
   *   getTokens: asked for a new pair when there is no refresh token (a backend-minted token)
   */
  constructor(options) {
    this.baseUrl = (options.baseUrl ?? "").replace(/\/+$/, "");
    this.storage = options.storage ?? null;
    this.storageKey = options.storageKey ?? "parlor.tokens";
    this.getTokens = options.getTokens ?? null;
    this.onTokens = options.onTokens ?? (() => {});
    /** @type {TokenState | null} */
    this.tokens = this.readStorage();
    /** @type {Promise<TokenState> | null} */
    this.refreshing = null;
  }

  /** @returns {TokenState | null} */
  readStorage() {
    if (!this.storage) return null;
    try {
      const value = JSON.parse(this.storage.getItem(this.storageKey) ?? "null");
      return value && typeof value.access_token === "string" ? value : null;
    } catch {
      return null;
    }
  }

  /** @param {Tokens | null} tokens a token response (§4.4), a pair, or null to forget them */
  setTokens(tokens) {
    this.tokens = tokens ? tokenState(tokens) : null;
    if (this.storage) {
      if (this.tokens) this.storage.setItem(this.storageKey, JSON.stringify(this.tokens));
      else this.storage.removeItem(this.storageKey);
    }
    this.onTokens(this.tokens);
  }

  /**
   * An absolute URL: `path` as is when it starts with `/api/` or `/health`, else under `/api/v1`.
   * @param {string} path
   * @param {Record<string, unknown>} [query] entries whose value is null or undefined are left out
   */
  url(path, query) {
    const full = /^\/(api\/|health)/.test(path) ? path : "/api/v1" + (path.startsWith("/") ? path : "/" + path);
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== null && value !== undefined) params.append(key, String(value));
    }
    const search = params.toString();
    return this.baseUrl + full + (search ? (full.includes("?") ? "&" : "?") + search : "");
  }

  /** Whether a new token can be had: with the refresh token, or from `getTokens`. */
  canRefresh() {
    return Boolean(this.tokens?.refresh_token || this.getTokens);
  }

  /** Whether the access token is due for a refresh (its `refresh_at` has come). */
  expiresSoon() {
    const tokens = this.tokens;
    if (!tokens || typeof tokens.expires_at !== "number") return false;
    const at = tokens.refresh_at ?? tokens.expires_at - REFRESH_MARGIN_MS; // stored by an older version
    return Date.now() >= at;
  }

  /**
   * A usable access token: the current one, or a new one when it expires soon or `force`.
   * @param {{force?: boolean}} [options]
   * @returns {Promise<string>}
   */
  async accessToken(options = {}) {
    if (!this.tokens) {
      if (!this.getTokens) throw new ParlorError("unauthorized", "not signed in", { status: 401 });
      await this.refresh();
    } else if (options.force || this.expiresSoon()) {
      // Without a way to refresh, a token still valid is used to the end (the server decides).
      if (this.canRefresh() || options.force) await this.refresh(this.tokens.access_token);
    }
    if (!this.tokens) throw new ParlorError("unauthorized", "not signed in", { status: 401 });
    return this.tokens.access_token;
  }

  /**
   * Gets a new token pair, one refresh at a time (across tabs too, when they share a storage
   * and the browser has Web Locks). `stale` is the access token found wanting: when another
   * refresh has replaced it meanwhile, that result is used instead of refreshing again.
   * A refused refresh (401) forgets the tokens: the user has to sign in again.
   * @param {string} [stale]
   * @returns {Promise<TokenState>}
   */
  refresh(stale) {
    if (this.refreshing) return this.refreshing;
    const run = async () => {
      const stored = this.readStorage();
      if (stored && stored.access_token !== (stale ?? this.tokens?.access_token)) {
        this.tokens = stored; // another tab refreshed already
        this.onTokens(this.tokens);
        return stored;
      }
      if (stale && this.tokens && this.tokens.access_token !== stale) return this.tokens;
      const refreshToken = this.tokens?.refresh_token;
      let fresh;
      try {
        if (refreshToken) {
          fresh = await this.json("POST", "/auth/refresh", { refresh_token: refreshToken }, { auth: false });
        } else if (this.getTokens) {
          fresh = await this.getTokens();
        } else {
          throw new ParlorError("unauthorized", "the access token expired and there is no refresh token", { status: 401 });
        }
      } catch (error) {
        if (error instanceof ParlorError && (error.status === 401 || error.status === 403)) this.setTokens(null);
        throw error;
      }
      this.setTokens(fresh);
      return /** @type {TokenState} */ (this.tokens);
    };
    const locks = this.storage && typeof navigator !== "undefined" ? navigator.locks : undefined;
    const task = /** @type {Promise<TokenState>} */ (locks ? locks.request(`${this.storageKey}:refresh`, run) : run());
    this.refreshing = task.finally(() => { this.refreshing = null; });
    return this.refreshing;
  }

  /**
   * One JSON request. With `auth` (the default) it carries the access token, refreshed when it
   * expires soon, and once more after a 401.
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   * @param {{auth?: boolean, query?: Record<string, unknown>, signal?: AbortSignal}} [options]
   * @returns {Promise<{status: number, headers: Headers, body: any}>}
   */
  async request(method, path, body, options = {}) {
    const auth = options.auth ?? true;
    for (let attempt = 0; ; attempt++) {
      /** @type {Record<string, string>} */
      const headers = {};
      let token = null;
      if (auth) {
        token = await this.accessToken();
        headers.authorization = "Bearer " + token;
      }
      if (body !== undefined) headers["content-type"] = "application/json";
      let response;
      try {
        response = await fetch(this.url(path, options.query), {
          method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: options.signal,
        });
      } catch (error) {
        if (options.signal?.aborted) throw new ParlorError("aborted", "the request was aborted", { cause: error });
        throw new ParlorError("network", `cannot reach the server (${method} ${path})`, { cause: error });
      }
      const text = await response.text().catch(() => "");
      let parsed = null;
      if (text) {
        try { parsed = JSON.parse(text); } catch { parsed = text; }
      }
      if (response.ok) return { status: response.status, headers: response.headers, body: parsed };
      if (response.status === 401 && token && attempt === 0) {
        await this.refresh(token);
        continue;
      }
      throw ParlorError.fromResponse(response.status, parsed, response.headers.get("retry-after"));
    }
  }

  /**
   * {@link request}'s body alone.
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   * @param {{auth?: boolean, query?: Record<string, unknown>, signal?: AbortSignal}} [options]
   */
  async json(method, path, body, options) {
    return (await this.request(method, path, body, options)).body;
  }

  /**
   * `POST /api/v1/uploads` (multipart `file`, and `conversation_id` when given), reporting
   * progress from XMLHttpRequest's upload events. Where there is no XMLHttpRequest (Node,
   * workers) it uses fetch and reports progress once, at the end.
   * @param {Blob} file
   * @param {{onProgress?: (sent: number, total: number) => void, conversationId?: number,
   *   name?: string, signal?: AbortSignal}} [options]
   * @returns {Promise<any>} the upload (§3, POST /api/v1/uploads)
   */
  async upload(file, options = {}) {
    for (let attempt = 0; ; attempt++) {
      const token = await this.accessToken();
      const form = new FormData();
      const name = options.name ?? (/** @type {any} */ (file).name || "file");
      form.append("file", file, name);
      if (options.conversationId !== undefined && options.conversationId !== null) {
        form.append("conversation_id", String(options.conversationId));
      }
      const { status, body, retryAfter } = typeof XMLHttpRequest === "function"
        ? await this.xhrUpload(form, token, file.size, options)
        : await this.fetchUpload(form, token, file.size, options);
      if (status >= 200 && status < 300) return body;
      if (status === 401 && attempt === 0) {
        await this.refresh(token);
        continue;
      }
      throw ParlorError.fromResponse(status, body, retryAfter);
    }
  }

  /**
   * @param {FormData} form
   * @param {string} token
   * @param {number} size
   * @param {{onProgress?: (sent: number, total: number) => void, signal?: AbortSignal}} options
   * @returns {Promise<{status: number, body: any, retryAfter: string | null}>}
   */
  xhrUpload(form, token, size, options) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", this.url("/uploads"));
      xhr.setRequestHeader("authorization", "Bearer " + token);
      xhr.upload.onprogress = (event) => {
        options.onProgress?.(event.loaded, event.lengthComputable ? event.total : size);
      };
      xhr.onload = () => {
        let body = null;
        try { body = JSON.parse(xhr.responseText); } catch { body = null; }
        resolve({ status: xhr.status, body, retryAfter: xhr.getResponseHeader("retry-after") });
      };
      xhr.onerror = () => reject(new ParlorError("network", "the upload could not reach the server"));
      xhr.onabort = () => reject(new ParlorError("aborted", "the upload was aborted"));
      if (options.signal) {
        if (options.signal.aborted) return reject(new ParlorError("aborted", "the upload was aborted"));
        options.signal.addEventListener("abort", () => xhr.abort(), { once: true });
      }
      xhr.send(form);
    });
  }

  /**
   * @param {FormData} form
   * @param {string} token
   * @param {number} size
   * @param {{onProgress?: (sent: number, total: number) => void, signal?: AbortSignal}} options
   */
  async fetchUpload(form, token, size, options) {
    let response;
    try {
      response = await fetch(this.url("/uploads"), {
        method: "POST", body: form, headers: { authorization: "Bearer " + token }, signal: options.signal,
      });
    } catch (error) {
      if (options.signal?.aborted) throw new ParlorError("aborted", "the upload was aborted", { cause: error });
      throw new ParlorError("network", "the upload could not reach the server", { cause: error });
    }
    const body = await response.json().catch(() => null);
    if (response.ok) options.onProgress?.(size, size);
    return { status: response.status, body, retryAfter: response.headers.get("retry-after") };
  }
}
