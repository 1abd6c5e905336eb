// @ts-check
/**
 * A small event emitter: handlers by event type, plus "*" for every event. A handler that
 * throws does not stop the others or the client: its error is rethrown on a later task, where
 * the page's error reporting sees it.
 * @module
 */

export class Emitter {
  constructor() {
    /** @type {Map<string, Set<Function>>} */
    this.handlers = new Map();
  }

  /**
   * Calls `handler` for every event of `type`; returns the function that unsubscribes it.
   * @param {string} type
   * @param {Function} handler
   * @returns {() => void}
   */
  on(type, handler) {
    if (typeof handler !== "function") throw new TypeError("handler must be a function");
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    set.add(handler);
    return () => { set.delete(handler); };
  }

  /**
   * Calls the handlers of `type` with `args`.
   * @param {string} type
   * @param {...unknown} args
   */
  emit(type, ...args) {
    const set = this.handlers.get(type);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        handler(...args);
      } catch (error) {
        setTimeout(() => { throw error; }, 0);
      }
    }
  }
}
