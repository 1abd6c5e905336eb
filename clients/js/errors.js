// @ts-check
/**
 * ParlorError: every failure the client reports, from the server (REST `{error: {code, message}}`
 * bodies and WebSocket `error` frames, docs/PROTOCOL.md §1) or from the client itself.
 *
 * Codes the client adds to the server's: `network` (the server could not be reached),
 * `disconnected` (the socket closed before the reply), `not_connected` (no open socket),
 * `closed` (the client was disconnected or signed out), `queue_full` (a bounded queue is full),
 * `aborted` (an upload was cancelled), `bad_response` (an answer that is not the expected JSON).
 * @module
 */

export class ParlorError extends Error {
  /**
   * @param {string} code stable, for programs: the server's `error.code` or one of the above
   * @param {string} message for people
   * @param {{status?: number, retryAfterMs?: number, cause?: unknown}} [extra]
   *   status: the HTTP status (0 for WebSocket and client-side errors)
   */
  constructor(code, message, extra = {}) {
    super(message);
    this.name = "ParlorError";
    /** @type {string} */
    this.code = code;
    /** @type {number} */
    this.status = extra.status ?? 0;
    /** @type {number | undefined} */
    this.retryAfterMs = extra.retryAfterMs;
    if (extra.cause !== undefined) this.cause = extra.cause;
  }

  /**
   * The error of a REST answer: its JSON error envelope when it has one.
   * @param {number} status
   * @param {any} body the parsed body, or null
   * @param {string | null} [retryAfter] the Retry-After header (seconds)
   */
  static fromResponse(status, body, retryAfter) {
    const error = body && typeof body === "object" ? body.error : null;
    let retryAfterMs = error && typeof error.retry_after_ms === "number" ? error.retry_after_ms : undefined;
    if (retryAfterMs === undefined && retryAfter && /^\d+$/.test(retryAfter)) retryAfterMs = Number(retryAfter) * 1000;
    if (error && typeof error.code === "string") {
      return new ParlorError(error.code, String(error.message ?? error.code), { status, retryAfterMs });
    }
    return new ParlorError(status === 0 ? "network" : "bad_response", `HTTP ${status}`, { status, retryAfterMs });
  }

  /**
   * The error of a WebSocket `error` frame's data `{code, message, retry_after_ms?}`.
   * @param {any} data
   */
  static fromFrame(data) {
    const code = data && typeof data.code === "string" ? data.code : "internal";
    const message = data && typeof data.message === "string" ? data.message : code;
    const retryAfterMs = data && typeof data.retry_after_ms === "number" ? data.retry_after_ms : undefined;
    return new ParlorError(code, message, { retryAfterMs });
  }
}

/** Codes after which the same request may succeed if tried again later. */
const TRANSIENT = new Set(["network", "disconnected", "not_connected", "rate_limited", "unavailable", "internal"]);

/**
 * Whether retrying the same request later can succeed (the server was away, busy or limiting).
 * @param {unknown} error
 */
export function isTransient(error) {
  return error instanceof ParlorError && TRANSIENT.has(error.code);
}
