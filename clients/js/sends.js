// @ts-check
/**
 * Sends that must arrive exactly once. Each carries a `client_msg_id` and is sent again, with
 * the same id, until it is acknowledged: after a reconnect (once its conversation is joined
 * again), after `rate_limited` (when `retry_after_ms` has passed) and after `unavailable` or
 * `internal` (with backoff). The server stores one message per id (docs/PROTOCOL.md §5.4,
 * *Idempotency*), so a send whose ack was lost comes back as the original message. Refusals
 * (`validation_failed`, `forbidden`, `not_found`, `conversation_closed`, ...) reject at once.
 *
 * At most `max` sends wait at a time; one more is refused with `queue_full`.
 * @module
 */
import { ParlorError } from "./errors.js";

/** Codes after which the same send is tried again. */
const RETRY = new Set(["disconnected", "not_connected", "rate_limited", "unavailable", "internal"]);

/**
 * @typedef {{id: string, conversationId: number, data: object, resolve: Function, reject: Function,
 *   attempts: number, inFlight: boolean, timer?: ReturnType<typeof setTimeout>}} PendingSend
 */

/** A fresh `client_msg_id` (at most 64 characters, §1). */
export function newClientMsgId() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === "function") c.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export class SendQueue {
  /**
   * @param {{max: number,
   *   transmit: (data: object) => Promise<any>,
   *   ready: (conversationId: number) => boolean,
   *   delivered: (message: any, first: boolean) => void}} options
   *   transmit: sends `message:send` and resolves with its ack data;
   *   ready: whether sends to this conversation may go now (connected, and joined if joining);
   *   delivered: told of each acknowledged message once, before its promise resolves
   */
  constructor(options) {
    this.options = options;
    /** In the order they were made. @type {Map<string, PendingSend>} */
    this.pending = new Map();
  }

  get size() {
    return this.pending.size;
  }

  /**
   * @param {number} conversationId
   * @param {{content?: string, attachment_id?: number, reply_to?: number, client_msg_id?: string, private?: boolean}} body
   * @returns {Promise<any>} the stored message
   */
  add(conversationId, body) {
    if (this.pending.size >= this.options.max) {
      return Promise.reject(new ParlorError("queue_full", `${this.options.max} sends are already waiting for their acks`));
    }
    const id = body.client_msg_id ?? newClientMsgId();
    if (this.pending.has(id)) return Promise.reject(new ParlorError("validation_failed", "client_msg_id: already being sent"));
    return new Promise((resolve, reject) => {
      const data = { ...body, conversation_id: conversationId, client_msg_id: id };
      this.pending.set(id, { id, conversationId, data, resolve, reject, attempts: 0, inFlight: false });
      this.flush(conversationId);
    });
  }

  /**
   * Sends every waiting send of `conversationId` (of every conversation when absent) that is
   * not in flight or waiting for a retry, in the order they were made.
   * @param {number} [conversationId]
   */
  flush(conversationId) {
    for (const entry of this.pending.values()) {
      if (conversationId !== undefined && entry.conversationId !== conversationId) continue;
      if (entry.inFlight || entry.timer !== undefined || !this.options.ready(entry.conversationId)) continue;
      this.transmit(entry);
    }
  }

  /** @param {PendingSend} entry */
  transmit(entry) {
    entry.inFlight = true;
    entry.attempts++;
    const first = entry.attempts === 1;
    this.options.transmit(entry.data).then((ack) => {
      if (this.pending.get(entry.id) !== entry) return;
      this.pending.delete(entry.id);
      this.options.delivered(ack.message, first);
      entry.resolve(ack.message);
    }, (error) => {
      if (this.pending.get(entry.id) !== entry) return;
      entry.inFlight = false;
      if (!(error instanceof ParlorError) || !RETRY.has(error.code)) {
        this.pending.delete(entry.id);
        entry.reject(error);
        return;
      }
      if (error.code === "disconnected" || error.code === "not_connected") return; // flushed on rejoin
      const backoff = Math.min(30_000, 250 * 2 ** Math.min(entry.attempts, 7));
      const delay = error.retryAfterMs ?? backoff;
      entry.timer = setTimeout(() => {
        entry.timer = undefined;
        this.flush(entry.conversationId);
      }, delay);
    });
  }

  /**
   * Fails every waiting send (the client was disconnected for good).
   * @param {ParlorError} error
   */
  failAll(error) {
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) {
      clearTimeout(entry.timer);
      entry.reject(error);
    }
  }
}
