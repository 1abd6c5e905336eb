/**
 * The other side of the conversation: agents' names (display name, else username, fetched
 * once each with `GET /api/v1/users/{id}`) and who of them is typing.
 * @module
 */

/** A typing indicator is dropped after this long without news (the server ends it sooner). */
const TYPING_MAX_MS = 10_000;

export class People {
  /**
   * @param {{client: () => any, named: (userId: number, name: string) => void,
   *   typing: (text: string | null) => void}} options
   *   client: the current ParlorClient (null between sessions); named: a name became known;
   *   typing: the line to show ("Sam is typing…"), null for none
   */
  constructor(options) {
    this.options = options;
    /** @type {Map<number, string | null>} */
    this.names = new Map();
    /** @type {Map<number, ReturnType<typeof setTimeout>>} */
    this.typists = new Map();
  }

  /** A user's name, or null while unknown (it is fetched, and `named` told). @param {number} userId */
  nameOf(userId) {
    if (this.names.has(userId)) return this.names.get(userId);
    this.names.set(userId, null);
    const client = this.options.client();
    client?.api("GET", `/users/${userId}`).then((user) => {
      const name = user?.display_name || user?.username || null;
      this.names.set(userId, name);
      if (name && client === this.options.client()) {
        this.options.named(userId, name);
        this.show();
      }
    }, () => {});
    return null;
  }

  /** @param {number} userId */
  started(userId) {
    clearTimeout(this.typists.get(userId));
    this.typists.set(userId, setTimeout(() => this.stopped(userId), TYPING_MAX_MS));
    this.show();
  }

  /** @param {number | null} userId null: everyone */
  stopped(userId) {
    for (const [id, timer] of this.typists) {
      if (userId !== null && id !== userId) continue;
      clearTimeout(timer);
      this.typists.delete(id);
    }
    this.show();
  }

  show() {
    const names = [...this.typists.keys()].map((id) => this.nameOf(id) ?? "Support");
    if (!names.length) this.options.typing(null);
    else if (names.length === 1) this.options.typing(`${names[0]} is typing…`);
    else this.options.typing(`${names.slice(0, -1).join(", ")} and ${names[names.length - 1]} are typing…`);
  }
}
