// @ts-check
/**
 * The REST half of ParlorClient (which extends it): accounts, any API call, conversations,
 * history, the user directory and uploads, and the event handlers' registry. Usable alone
 * where no WebSocket is wanted.
 * @module
 */
import { Emitter } from "./emitter.js";
import { Http } from "./http.js";

export class ParlorRestClient {
  /** @param {import("./parlor").ParlorClientOptions} [options] */
  constructor(options = {}) {
    this.events = new Emitter();
    this.http = new Http({
      baseUrl: options.baseUrl ?? "", storage: options.storage ?? null, storageKey: options.storageKey,
      getTokens: options.getTokens ?? null, onTokens: (tokens) => this.events.emit("tokens", tokens),
    });
    if (options.tokens) this.http.setTokens(options.tokens);
    /** The signed-in user: from login/register, `me()` or the `welcome` frame. @type {any} */
    this.user = null;
  }

  /** The token pair the client holds (null when signed out). */
  get tokens() {
    return this.http.tokens;
  }

  /**
   * Calls `handler` for every event of `type` (see ParlorClient); returns the unsubscriber.
   * @param {string} type
   * @param {Function} handler
   */
  on(type, handler) {
    return this.events.on(type, handler);
  }

  // Accounts

  /** @param {{email: string, username: string, password: string, display_name?: string | null, project_id?: number}} body */
  async register(body) {
    return this.signedIn(await this.http.json("POST", "/auth/register", body, { auth: false }));
  }

  /** @param {{email?: string, username?: string, password: string, project_id?: number}} body */
  async login(body) {
    return this.signedIn(await this.http.json("POST", "/auth/login", body, { auth: false }));
  }

  /** @param {any} response a token response (§4.4) */
  signedIn(response) {
    this.http.setTokens(response);
    this.user = response.user ?? null;
    return response;
  }

  /**
   * Signs in with a token pair, or any token response (§4.4: its `user` is kept too), such as
   * the widget's `POST /api/v1/widget/session` or tokens a project's backend minted.
   * @param {{access_token: string, refresh_token?: string | null, expires_in?: number, user?: any}} tokens
   */
  useTokens(tokens) {
    this.http.setTokens(tokens);
    if (tokens.user) this.user = tokens.user;
  }

  /** Revokes the refresh token (`POST /auth/logout`) and forgets the tokens. */
  async logout() {
    const refreshToken = this.http.tokens?.refresh_token;
    this.http.setTokens(null);
    this.user = null;
    if (refreshToken) await this.http.json("POST", "/auth/logout", { refresh_token: refreshToken }, { auth: false });
  }

  async me() {
    this.user = await this.api("GET", "/auth/me");
    return this.user;
  }

  /**
   * Any REST call: `path` under `/api/v1` (or absolute from `/api/`), with the access token,
   * refreshed once on 401 (`auth: false`: without one). Resolves with the parsed body (null
   * for 204); throws ParlorError.
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   * @param {{query?: Record<string, unknown>, signal?: AbortSignal, auth?: boolean}} [init]
   */
  api(method, path, body, init = {}) {
    return this.http.json(method, path, body, init);
  }

  // Conversations, history, people and files

  /**
   * One page of the caller's conversations, most recent first, optionally only those of one
   * `status` or `kind`; `next_cursor` (from the `Link` header) asks for the next page (with
   * the same filters), null on the last.
   * @param {{limit?: number, cursor?: string, status?: "open" | "closed", kind?: string}} [page]
   */
  async conversations(page = {}) {
    const { body, headers } = await this.http.request("GET", "/conversations", undefined, { query: page });
    const next = /<[^>]*[?&]cursor=([^&>]+)[^>]*>\s*;\s*rel="next"/.exec(headers.get("link") ?? "");
    return { items: body, next_cursor: next ? decodeURIComponent(next[1]) : null };
  }

  /**
   * Messages in ascending seq: the newest `limit` (50), or before/after a seq.
   * @param {number} conversationId
   * @param {{before_seq?: number, after_seq?: number, limit?: number}} [range]
   */
  history(conversationId, range = {}) {
    return this.api("GET", `/conversations/${conversationId}/messages`, undefined, { query: range });
  }

  /**
   * The project's user directory (`GET /api/v1/users`): people by username or display-name
   * prefix, ascending by id.
   * @param {{query?: string, after_id?: number, limit?: number}} [search]
   */
  users(search = {}) {
    return this.api("GET", "/users", undefined, { query: search });
  }

  /**
   * Uploads a file (`POST /api/v1/uploads`), calling `onProgress(sent, total)` as it goes;
   * resolves with the upload, whose `id` a send carries as `attachment_id`.
   * @param {Blob} file
   * @param {{onProgress?: (sent: number, total: number) => void, conversationId?: number,
   *   name?: string, signal?: AbortSignal}} [options]
   */
  upload(file, options) {
    return this.http.upload(file, options);
  }
}
