// A signal of one's own that aborts when a long-lived one does, let go of when the work ends. AbortSignal.any would
// do the same, but on Node 20 it leaves a WeakRef on each source of the long-lived signal for every signal made
// from it, until that source aborts (a heap snapshot of a hub rollout held 68,000 of them after 34,000 twin writes,
// two a call, about 70 bytes each); a listener removed at the end leaves nothing behind.
import { setMaxListeners } from 'node:events';

/** Long-lived signals followed by many calls at once (hundreds in flight): no listener-count warning for them. */
const shared = new WeakSet<AbortSignal>();

export interface FollowedSignal {
  signal: AbortSignal;
  /** The work is over: stop following (idempotent). */
  release(): void;
}

export function followSignal(parent: AbortSignal): FollowedSignal {
  const own = new AbortController();
  if (parent.aborted) {
    own.abort(parent.reason);
    return { signal: own.signal, release: () => {} };
  }
  if (!shared.has(parent)) {
    setMaxListeners(0, parent);
    shared.add(parent);
  }
  const forward = () => own.abort(parent.reason);
  parent.addEventListener('abort', forward, { once: true });
  return { signal: own.signal, release: () => parent.removeEventListener('abort', forward) };
}
