// The state every part of the console shares, the client that talks to the server, and
// re-rendering: components re-render on changed() through useStore().
import { useEffect, useState } from "preact/hooks";
import { ParlorClient } from "/clients/js/parlor.js";

export const client = new ParlorClient({ baseUrl: "", storage: localStorage });

export const state = {
  me: null, // the signed-in user (§4.1)
  connection: "idle",
  convs: new Map(), // id -> conversation view (§4.2) the agent takes part in
  queueCursor: null, // the queue's next page ({status, cursor}, store.js), null after the last
  queueLoaded: false,
  typing: new Map(), // conversation id -> Map(user id -> expiry ms)
  reads: new Map(), // conversation id -> Map(user id -> read seq), from message:read events
  viewing: null, // id of the conversation on screen, if any
  ended: null, // why the session ended (sign in again), if it did
};

// ---------------------------------------------------------------------------------------------
// Change notification, batched to one render per frame (animation frames pause in a hidden
// tab, where a timer keeps the tab title's unread count current).

const listeners = new Set();
let scheduled = false;

export function changed() {
  if (scheduled) return;
  scheduled = true;
  const run = () => {
    scheduled = false;
    for (const listener of [...listeners]) listener((n) => n + 1);
  };
  if (document.hidden) setTimeout(run, 100);
  else requestAnimationFrame(run);
}

export function useStore() {
  const [, setTick] = useState(0);
  useEffect(() => {
    listeners.add(setTick);
    return () => listeners.delete(setTick);
  }, []);
  return state;
}
