// Cancelling a hub call stops waiting for its answer and also ends its HTTP request. azure-iothub takes no
// AbortSignal and never hands out the request it builds, so the request is found another way: the pipeline runs
// each attempt in an async scope that carries the call's abort signal, and Node's `http.client.request.start`
// diagnostics channel reports every request as it is created, in the async context of its creator. A request
// sent through a hub agent inside such a scope is destroyed when the signal fires: its socket is closed instead
// of going back to the keep-alive pool, so a cancelled call holds no connection and shutdown does not wait for
// answers nobody reads. Destroying it does not undo anything: a request the hub already received may still be
// applied (see hub-client-api.ts).
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnosticsChannel from 'node:diagnostics_channel';
import type { Agent, ClientRequest } from 'node:http';

const callAbort = new AsyncLocalStorage<AbortSignal>();
const hubAgents = new WeakSet<Agent>();
let subscribed = false;

function onRequestStart(message: unknown): void {
  const request = (message as { request?: ClientRequest } | null)?.request;
  const abort = callAbort.getStore();
  if (!request || !abort) return;
  const agent = (request as ClientRequest & { agent?: Agent }).agent;
  if (!agent || !hubAgents.has(agent)) return;
  // Destroyed on the next tick at the earliest: this runs inside the request's constructor, before the SDK
  // has added its error listener.
  const end = () => process.nextTick(() => request.destroy());
  if (abort.aborted) {
    end();
    return;
  }
  abort.addEventListener('abort', end, { once: true });
  request.once('close', () => abort.removeEventListener('abort', end));
}

/** Makes the requests sent through `agent` end when the hub call that sent them is cancelled. */
export function endRequestsOnCancel(agent: Agent): void {
  hubAgents.add(agent);
  if (!subscribed) {
    diagnosticsChannel.subscribe('http.client.request.start', onRequestStart);
    subscribed = true;
  }
}

/** Runs `send` (one attempt of a hub call) so that the HTTP requests it starts end when `abort` fires. */
export function withCallAbort<T>(abort: AbortSignal | undefined, send: () => T): T {
  return abort ? callAbort.run(abort, send) : send();
}

/**
 * `promise`, or a rejection with `cancelled()` as soon as `abort` fires. The SDK has no way to abort a request it
 * has sent, so the caller stops waiting and a late answer is dropped (`withCallAbort` ends the request itself).
 * Either way a request that was sent may have been applied.
 */
export function raceAbort<T>(
  promise: Promise<T>,
  abort: AbortSignal | undefined,
  cancelled: () => Error,
): Promise<T> {
  if (!abort) return promise;
  if (abort.aborted) {
    promise.catch(() => {});
    return Promise.reject(cancelled());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelled());
    abort.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        abort.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        abort.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
