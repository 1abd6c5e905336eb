// @ts-check
/**
 * One logical WebSocket connection that outlives its sockets: it opens a socket with a
 * single-use ticket (`POST /api/v1/ws-ticket`, falling back to `?token=` when the server has no
 * tickets), waits for `welcome`, matches replies to requests by `ref`, paces outgoing frames
 * to the server's frame budget, and reopens the socket with jittered exponential backoff after
 * it closes, following the close codes of docs/PROTOCOL.md §5.7:
 *
 * - 4001 (token expired, signed out) and 4003 (account changed, token revoked): reconnect with
 *   a refreshed token; when the refresh is refused the user must sign in again, and the
 *   connection stops (no loop on auth failures);
 * - 4008 (slow consumer): reconnect at once (the owner resumes every conversation);
 * - anything else (1001 shutdown, 1006 a dead server, ...): reconnect with backoff.
 * @module
 */
import { ParlorError } from "./errors.js";

/**
 * @typedef {"idle" | "connecting" | "open" | "reconnecting" | "closed"} ConnectionState
 * @typedef {{type: string, ref?: string, data?: any}} Frame
 * @typedef {{minDelayMs: number, maxDelayMs: number}} Backoff
 * @typedef {{perSecond: number, burst: number, maxInFlight: number, maxQueued: number}} FrameLimits
 */

/** Close codes after which a new token is needed (§5.7). */
const AUTH_CLOSES = new Set([4001, 4003]);
/** If requests wait this long with nothing at all received, the socket is taken for dead. */
const SILENCE_MS = 25_000;

export class Connection {
  /**
   * @param {{http: import("./http.js").Http, backoff: Backoff, limits: FrameLimits,
   *   onState: (state: ConnectionState, info: object) => void,
   *   onWelcome: (data: any) => void, onFrame: (frame: Frame) => void,
   *   onSocketClosed: () => void}} options
   */
  constructor(options) {
    this.http = options.http;
    this.backoff = options.backoff;
    this.limits = options.limits;
    this.handlers = options;
    /** @type {ConnectionState} */
    this.state = "idle";
    /** @type {WebSocket | null} */
    this.socket = null;
    this.welcomed = false;
    this.attempt = 0;
    this.refs = 0;
    /** Replies awaited, by ref. @type {Map<string, {resolve: Function, reject: Function}>} */
    this.pending = new Map();
    /** Frames waiting for the frame budget. @type {{frame: Frame, reject: Function}[]} */
    this.outbox = [];
    this.tokens = this.limits.burst;
    this.tokensAt = Date.now();
    this.lastReceived = Date.now();
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.retryTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.drainTimer = undefined;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.watchdog = undefined;
    this.forceRefresh = false;
    this.lastForced = false;
    /** Whether open() is buying a ticket (no second socket meanwhile). */
    this.opening = false;
    /** When the server last closed a socket as a slow consumer (4008). */
    this.lastSlowClose = 0;
    /** @type {{resolve: Function, reject: Function}[]} */
    this.openWaiters = [];
    this.onOnline = () => { if (this.state === "reconnecting") this.retryNow(); };
  }

  /** Starts connecting (if not already); resolves on the next `welcome`. */
  start() {
    const ready = new Promise((resolve, reject) => this.openWaiters.push({ resolve, reject }));
    if (this.state === "open") this.settleWaiters(null);
    else if (this.state === "idle" || this.state === "closed") {
      this.attempt = 0;
      this.welcomed = false;
      if (typeof window !== "undefined") window.addEventListener("online", this.onOnline);
      this.open();
    }
    return ready;
  }

  /**
   * Closes for good (until the next `start`): no reconnect; awaited replies fail with `closed`.
   * @param {ParlorError} [error] why, when it is not the app's own choice
   */
  stop(error) {
    clearTimeout(this.retryTimer);
    if (typeof window !== "undefined") window.removeEventListener("online", this.onOnline);
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = socket.onmessage = socket.onopen = socket.onerror = null;
      try { socket.close(1000, "client disconnect"); } catch { /* already closed */ }
      this.socketGone(new ParlorError("closed", "the client was disconnected"));
    }
    this.setState("closed", { error });
    this.settleWaiters(error ?? new ParlorError("closed", "the client was disconnected"));
  }

  /**
   * Sends a frame and resolves with its `ack` data, or rejects with its `error` (a ParlorError).
   * Fails with `not_connected` when no socket is open, `disconnected` when it closes first.
   * @param {string} type
   * @param {object} data
   * @returns {Promise<any>}
   */
  request(type, data) {
    if (this.state !== "open" || !this.socket) {
      return Promise.reject(new ParlorError("not_connected", `not connected (${type})`));
    }
    if (this.outbox.length >= this.limits.maxQueued) {
      return Promise.reject(new ParlorError("queue_full", "too many frames waiting to be sent"));
    }
    return new Promise((resolve, reject) => {
      const ref = String(++this.refs);
      this.pending.set(ref, { resolve, reject });
      this.outbox.push({ frame: { type, ref, data }, reject });
      this.drain();
    });
  }

  /** @param {ConnectionState} state @param {object} [info] */
  setState(state, info = {}) {
    if (this.state === state) return;
    this.state = state;
    this.handlers.onState(state, info);
  }

  /** @param {ParlorError | null} error */
  settleWaiters(error) {
    const waiters = this.openWaiters.splice(0);
    for (const waiter of waiters) error ? waiter.reject(error) : waiter.resolve();
  }

  async open() {
    if (this.opening || this.socket) return; // one socket at a time
    clearTimeout(this.retryTimer);
    this.setState(this.welcomed ? "reconnecting" : "connecting");
    let url;
    this.opening = true;
    try {
      const token = await this.http.accessToken({ force: this.forceRefresh });
      this.forceRefresh = false;
      url = await this.socketUrl(token);
    } catch (error) {
      this.opening = false;
      if (this.state === "closed") return;
      if (error instanceof ParlorError && (error.status === 401 || error.status === 403)) {
        this.stop(error); // the user has to sign in again: no loop
        return;
      }
      this.retryLater({ error });
      return;
    }
    this.opening = false;
    if (this.state === "closed") return;
    let socket;
    try {
      socket = new WebSocket(url);
    } catch (error) {
      this.stop(new ParlorError("bad_request", "cannot open a WebSocket to " + this.http.baseUrl, { cause: error }));
      return;
    }
    this.socket = socket;
    let welcomed = false;
    socket.onmessage = (event) => {
      this.lastReceived = Date.now();
      let frame;
      try { frame = JSON.parse(String(event.data)); } catch { return; }
      if (!frame || typeof frame.type !== "string") return;
      if (frame.type === "welcome" && !welcomed) {
        welcomed = this.welcomed = true;
        this.attempt = 0;
        this.tokens = this.limits.burst;
        this.tokensAt = Date.now();
        this.watch();
        this.setState("open");
        this.handlers.onWelcome(frame.data);
        this.settleWaiters(null);
        return;
      }
      this.receive(frame);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.socketGone(new ParlorError("disconnected", `the connection closed (${event.code})`));
      this.closed(event.code, event.reason, welcomed);
    };
  }

  /**
   * The socket's URL: with a ticket, or with the token when the server sells no tickets.
   * @param {string} token
   */
  async socketUrl(token) {
    const base = this.http.url("/ws").replace(/^http/, "ws");
    const absolute = /^wss?:/.test(base) ? base
      : (location.protocol === "https:" ? "wss://" : "ws://") + location.host + base;
    try {
      const { ticket } = await this.http.json("POST", "/ws-ticket");
      return `${absolute}?ticket=${encodeURIComponent(ticket)}`;
    } catch (error) {
      if (error instanceof ParlorError && (error.status === 404 || error.status === 405)) {
        return `${absolute}?token=${encodeURIComponent(token)}`;
      }
      throw error;
    }
  }

  /**
   * The socket closed: decide what comes next from its close code.
   * @param {number} code
   * @param {string} reason
   * @param {boolean} welcomed whether this socket got as far as `welcome`
   */
  closed(code, reason, welcomed) {
    this.handlers.onSocketClosed();
    if (this.state === "closed") return;
    if (AUTH_CLOSES.has(code)) {
      if (!this.http.canRefresh()) {
        const error = new ParlorError(code === 4001 ? "unauthorized" : "forbidden",
          `the session ended: ${reason || code}; sign in again`);
        this.stop(error);
        return;
      }
      this.forceRefresh = true;
    } else if (!welcomed && code !== 1001) {
      // Refused at the handshake although the ticket was sold (or the server is restarting):
      // every other attempt tries a fresh token, which finds out a revoked or disabled account.
      this.forceRefresh = this.http.canRefresh() && !this.lastForced;
    }
    this.lastForced = this.forceRefresh;
    // A slow consumer reconnects at once to resume, unless it was closed so a minute ago too.
    const soon = code === 4008 && Date.now() - this.lastSlowClose > 60_000;
    if (code === 4008) this.lastSlowClose = Date.now();
    this.retryLater({ code, reason }, soon);
  }

  /**
   * Reopens after a jittered exponential delay (at most 250 ms when `soon`).
   * @param {object} info
   * @param {boolean} [soon]
   */
  retryLater(info, soon = false) {
    const { minDelayMs, maxDelayMs } = this.backoff;
    const ceiling = soon ? Math.min(minDelayMs, 250) : Math.min(maxDelayMs, minDelayMs * 2 ** this.attempt);
    const delayMs = Math.round(ceiling / 2 + Math.random() * ceiling / 2);
    this.attempt++;
    this.state = "reconnecting";
    this.handlers.onState("reconnecting", { ...info, delayMs, attempt: this.attempt });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(), delayMs);
  }

  retryNow() {
    clearTimeout(this.retryTimer);
    this.open();
  }

  /**
   * Gives up the current socket (it answers nothing, or its owner lost track of a replay) and
   * reconnects soon; without a socket, reconnects now.
   * @param {string} reason
   */
  drop(reason) {
    const socket = this.socket;
    if (!socket) {
      if (this.state === "reconnecting") this.retryNow();
      return;
    }
    this.socket = null;
    socket.onclose = socket.onmessage = null;
    try { socket.close(4000, reason); } catch { /* gone */ }
    this.socketGone(new ParlorError("disconnected", reason));
    this.closed(4008, reason, true);
  }

  /**
   * The socket is gone: every awaited reply fails with `error`, queued frames are dropped.
   * @param {ParlorError} error
   */
  socketGone(error) {
    clearInterval(this.watchdog);
    clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
    this.outbox = [];
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const { reject } of pending) reject(error);
  }

  /** @param {Frame} frame */
  receive(frame) {
    if ((frame.type === "ack" || frame.type === "error") && frame.ref !== undefined) {
      const waiter = this.pending.get(frame.ref);
      if (waiter) {
        this.pending.delete(frame.ref);
        if (frame.type === "ack") waiter.resolve(frame.data ?? {});
        else waiter.reject(ParlorError.fromFrame(frame.data));
        this.drain();
        return;
      }
    }
    this.handlers.onFrame(frame);
  }

  /**
   * Sends queued frames while the budget allows: `perSecond` frames a second in bursts of
   * `burst` (under realtime.commands_per_second and commands_burst, so that frames bunched up
   * on the way still fit), and at most `maxInFlight` awaiting their replies (under
   * realtime.max_in_flight).
   */
  drain() {
    const now = Date.now();
    this.tokens = Math.min(this.limits.burst, this.tokens + (now - this.tokensAt) * this.limits.perSecond / 1000);
    this.tokensAt = now;
    const inFlight = this.pending.size - this.outbox.length;
    let sendable = Math.min(this.outbox.length, Math.floor(this.tokens), this.limits.maxInFlight - inFlight);
    for (; sendable > 0 && this.socket; sendable--) {
      const { frame } = /** @type {{frame: Frame}} */ (this.outbox.shift());
      this.tokens -= 1;
      this.socket.send(JSON.stringify(frame));
    }
    if (this.outbox.length && this.tokens < 1 && !this.drainTimer) {
      const wait = Math.ceil((1 - this.tokens) * 1000 / this.limits.perSecond);
      this.drainTimer = setTimeout(() => { this.drainTimer = undefined; this.drain(); }, wait);
    }
  }

  /**
   * Takes the socket for dead when replies are awaited and nothing at all has arrived for
   * SILENCE_MS (a connection that vanished without a close): closing it starts a reconnect.
   */
  watch() {
    clearInterval(this.watchdog);
    this.lastReceived = Date.now();
    this.watchdog = setInterval(() => {
      if (this.pending.size && Date.now() - this.lastReceived > SILENCE_MS) this.drop("no reply");
    }, 5_000);
  }
}
