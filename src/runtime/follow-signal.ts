// Following a long-lived signal (a step's, a drain's) from many short calls at once. AbortSignal.any would do it,
// but on Node 20 it leaves a WeakRef on each source of the long-lived signal for every signal made from it, until
// that source aborts (a heap snapshot of a hub rollout held 68,000 of them after 34,000 twin writes, two a call,
// about 70 bytes each). And a listener of its own per call costs each call a walk of the signal's whole list of
// listeners, hundreds long, on add and again on remove (EventTarget looks for a duplicate). So the calls that
// follow a signal share one listener on it, and join and leave a Set.
/** The calls following each long-lived signal; the signal's one listener calls them. */
const followers = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `listener` once, when `parent` aborts (at once if it has), unless `unfollowAbort` came first. For work that
 * is shorter than the signal: a hub call, a wait for quota. A listener must not throw.
 */
export function followAbort(parent: AbortSignal, listener: () => void): void {
  if (parent.aborted) {
    listener();
    return;
  }
  let set = followers.get(parent);
  if (!set) {
    const current = new Set<() => void>();
    set = current;
    followers.set(parent, current);
    parent.addEventListener(
      'abort',
      () => {
        followers.delete(parent);
        for (const follower of current) follower();
      },
      { once: true },
    );
  }
  set.add(listener);
}

/** `listener` no longer follows `parent` (idempotent). */
export function unfollowAbort(parent: AbortSignal, listener: () => void): void {
  followers.get(parent)?.delete(listener);
}
