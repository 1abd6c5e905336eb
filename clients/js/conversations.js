// @ts-check
/**
 * What the client knows of each conversation it joined, to resume it without a gap or a
 * duplicate (docs/PROTOCOL.md §5.6, reconnect recipe): the `seq`s seen (every one up to
 * `upTo`, and the few above it that came out of order), the `version` to resume from, and the
 * frames held back while a join replays.
 *
 * A `since_version` replay sends one frame per changed message in version order, so a message
 * stored after the resume point can come after a newer one. The frames of a replay are held
 * until the join's ack and then put in the order the app should see them: new messages by
 * `seq`, then changes of messages it had. A replayed `message:new` of a message it had already
 * seen is a change, and is told as `message:updated` (or not at all when nothing changed).
 * @module
 */

/** Messages whose version is remembered per conversation, to tell a change from a repeat. */
const REMEMBERED = 4096;
/** Seqs remembered above a gap before the gap is given up as filled. */
const MAX_ABOVE = 4096;
/** Frames one join may hold back (a replay is at most realtime.max_replay, 1000, messages). */
export const MAX_HELD = 20_000;

/** Events that carry a conversation version (§4.2), raised as they are applied. */
const VERSIONED = new Set(["message:new", "note:new", "message:updated", "message:deleted", "reaction:added",
  "reaction:removed", "message:pinned", "message:unpinned"]);

/**
 * @typedef {{type: string, ref?: string, data?: any, own?: boolean}} Frame
 */

/** @param {Frame} frame */
export function versionOf(frame) {
  const data = frame.data ?? {};
  const version = data.message ? data.message.version : data.version;
  return typeof version === "number" ? version : null;
}

export class ConversationState {
  /** @param {number} id */
  constructor(id) {
    this.id = id;
    /** Joined by the app: joined again after every reconnect, until it leaves. */
    this.wanted = false;
    /** @type {"idle" | "joining" | "joined"} */
    this.status = "idle";
    /** Every seq up to this one has been seen (null: nothing known yet). @type {number | null} */
    this.upTo = null;
    /** Seqs seen above `upTo`. @type {Set<number>} */
    this.above = new Set();
    /** Version of recently seen messages, by seq (bounded). @type {Map<number, number>} */
    this.versions = new Map();
    /** The version to resume from (null: resume by seq). @type {number | null} */
    this.version = null;
    /** Frames of the current join's replay, held until its ack. @type {Frame[]} */
    this.replay = [];
    /** Live frames that came after the ack while a truncated replay is completed over REST. */
    this.held = /** @type {Frame[] | null} */ (null);
    /** join() calls waiting for the next ack. @type {{resolve: Function, reject: Function}[]} */
    this.waiters = [];
    /** Counts the joins sent: the ack of an older one is ignored. */
    this.attempt = 0;
  }

  /** The `conversation:join` data that resumes from what was seen. */
  joinData() {
    if (this.version !== null) return { conversation_id: this.id, since_version: this.version };
    if (this.upTo !== null) return { conversation_id: this.id, since_seq: this.upTo };
    return { conversation_id: this.id };
  }

  /** @param {number} seq */
  seen(seq) {
    return (this.upTo !== null && seq <= this.upTo) || this.above.has(seq);
  }

  /** @param {number} seq @param {number} version */
  mark(seq, version) {
    this.versions.delete(seq);
    this.versions.set(seq, version);
    if (this.versions.size > REMEMBERED) this.versions.delete(/** @type {number} */ (this.versions.keys().next().value));
    if (this.upTo === null || this.seen(seq)) return;
    this.above.add(seq);
    if (this.above.size > MAX_ABOVE) this.upTo = Math.min(...this.above) - 1;
    while (this.above.has(this.upTo + 1)) {
      this.above.delete(this.upTo + 1);
      this.upTo++;
    }
  }

  /** @param {number | null} version */
  raise(version) {
    if (version !== null && (this.version === null || version > this.version)) this.version = version;
  }

  /**
   * Applies one frame of this conversation; returns the frame to tell the app (a replayed
   * repeat becomes `message:updated`), or null when there is nothing new to tell.
   * @param {Frame} frame
   * @param {{raise?: boolean}} [options] raise: move the resume version (not for the ack of a
   *   retried send, which may come before events it follows)
   * @returns {Frame | null}
   */
  apply(frame, options = {}) {
    const version = versionOf(frame);
    let out = frame;
    if (frame.type === "message:new" || frame.type === "note:new" || frame.type === "message:updated") {
      const message = frame.data?.message;
      if (!message || typeof message.seq !== "number") return frame;
      if (frame.type !== "message:updated" && this.seen(message.seq)) {
        const known = this.versions.get(message.seq);
        if (known !== undefined && known >= message.version) return null;
        out = { ...frame, type: "message:updated" };
      }
      this.mark(message.seq, message.version);
    } else if (frame.type === "message:deleted" && typeof frame.data?.seq === "number") {
      this.mark(frame.data.seq, frame.data.version);
    }
    if (VERSIONED.has(frame.type) && options.raise !== false) this.raise(version);
    return out;
  }

  /**
   * The held frames of a replay, in the order the app should see them: the messages new to it
   * by seq (after `filled`, those read over REST), then the changes of messages it had.
   * @param {Frame[]} [filled]
   * @returns {Frame[]}
   */
  ordered(filled = []) {
    const fresh = [...filled];
    const changes = [];
    for (const frame of this.replay) {
      const message = frame.data?.message;
      const isNew = frame.type === "message:new" || frame.type === "note:new";
      if (isNew && message && !this.seen(message.seq)) fresh.push(frame);
      else changes.push(frame);
    }
    fresh.sort((a, b) => a.data.message.seq - b.data.message.seq);
    changes.sort((a, b) => (versionOf(a) ?? 0) - (versionOf(b) ?? 0));
    this.replay = [];
    return [...fresh, ...changes];
  }

  /**
   * The seq range a truncated replay left out, to read over REST: after `upTo` and before the
   * first message it replayed (or after the last the ack names).
   * @param {{last_seq: number, first_seq?: number}} ack
   * @returns {{after: number, before: number} | null}
   */
  missing(ack) {
    if (this.upTo === null) return null;
    let before = typeof ack.first_seq === "number" ? ack.first_seq : ack.last_seq + 1;
    for (const frame of this.replay) {
      const message = frame.data?.message;
      if ((frame.type === "message:new" || frame.type === "note:new") && message && !this.seen(message.seq)) before = Math.min(before, message.seq);
    }
    return before > this.upTo + 1 ? { after: this.upTo, before } : null;
  }

  /**
   * The join's ack: the resume point moves to it, and a first join (nothing seen) starts
   * counting seqs after the ack's `last_seq` (what came before is history, read over REST).
   * @param {{last_seq: number, version: number}} ack
   */
  acked(ack) {
    if (this.upTo === null) this.upTo = ack.last_seq;
    this.raise(ack.version);
    this.status = "joined";
    for (const waiter of this.waiters.splice(0)) waiter.resolve(ack);
  }

  /** @param {unknown} error */
  failed(error) {
    this.status = "idle";
    this.replay = [];
    this.held = null;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}
