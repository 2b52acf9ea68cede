// Cancelling a hub call stops waiting for its answer and also ends its HTTP request. azure-iothub takes no
// AbortSignal and never hands out the request it builds, so the request is found another way: each attempt runs
// in an async scope that carries the attempt, and Node's `http.client.request.start` diagnostics channel reports
// every request as it is created, in the async context of its creator. A request sent through a hub agent inside
// such a scope is destroyed when the attempt is abandoned (the caller cancelled, or no answer came in time): its
// socket is closed instead of going back to the keep-alive pool, so a cancelled call holds no connection and
// shutdown does not wait for answers nobody reads. Destroying it does not undo anything: a request the hub already
// received may still be applied (see hub-client-api.ts).
//
// An attempt costs one object, one timer and a place in the caller's signal's followers (follow-signal.ts): at
// thousands of calls a second, a signal, an AbortSignal.any and listeners of their own per attempt were a
// noticeable part of the client's CPU.
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnosticsChannel from 'node:diagnostics_channel';
import type { Agent, ClientRequest } from 'node:http';
import type { Clock, Timer } from '../runtime/clock.js';
import { followAbort, unfollowAbort } from '../runtime/follow-signal.js';

/** Why an attempt was given up: its caller cancelled it, or it had no answer within its time. */
export type AbandonedBecause = 'cancelled' | 'timedOut';

export interface AttemptOptions {
  /** The caller's signal (shared by many calls): the attempt is abandoned when it fires. */
  abort?: AbortSignal;
  clock: Clock;
  /** The attempt is abandoned when it has no answer after this long. */
  timeoutMs: number;
  /** The error an abandoned attempt rejects with. */
  abandoned: (because: AbandonedBecause) => Error;
}

/** One attempt in flight: the requests it sent, settled once (by its answer, or by giving up on it). */
class Attempt<T> {
  private requests?: ClientRequest[];
  private abandoned = false;
  private settle?: { resolve(value: T): void; reject(error: unknown): void };
  private readonly timer: Timer;
  /** Followed on the caller's signal; one closure, also the key to leave its followers. */
  private readonly onCancel?: () => void;

  constructor(
    private readonly options: AttemptOptions,
    resolve: (value: T) => void,
    reject: (error: unknown) => void,
  ) {
    this.settle = { resolve, reject };
    this.timer = options.clock.setTimer(options.timeoutMs, () => this.abandon('timedOut'));
    if (options.abort) {
      this.onCancel = () => this.abandon('cancelled');
      followAbort(options.abort, this.onCancel);
    }
  }

  /** A request this attempt sent (reported by the diagnostics channel). */
  sent(request: ClientRequest): void {
    if (this.abandoned) endRequest(request);
    else if (this.settle) {
      this.requests ??= [];
      this.requests.push(request);
    }
  }

  answered(value: T): void {
    this.finish()?.resolve(value);
  }

  failed(error: unknown): void {
    this.finish()?.reject(error);
  }

  private abandon(because: AbandonedBecause): void {
    const requests = this.requests;
    const settle = this.finish();
    if (!settle) return;
    this.abandoned = true;
    if (requests) for (const request of requests) endRequest(request);
    settle.reject(this.options.abandoned(because));
  }

  /**
   * Settles the attempt, the first time only. It lets go of everything: a connection opened during the attempt
   * keeps the attempt as its async context for as long as it stays in the pool, and must not keep its answer too.
   * A request of an answered attempt is left to its agent.
   */
  private finish(): { resolve(value: T): void; reject(error: unknown): void } | undefined {
    const settle = this.settle;
    if (!settle) return undefined;
    this.settle = undefined;
    this.requests = undefined;
    this.timer.cancel();
    if (this.onCancel) unfollowAbort(this.options.abort!, this.onCancel);
    return settle;
  }
}

/**
 * Destroyed on the next tick at the earliest: the channel reports a request inside its constructor, before the SDK
 * has added its error listener. A request that has already ended (its answer read, its socket back in the pool) is
 * destroyed already, and this does nothing to it.
 */
function endRequest(request: ClientRequest): void {
  process.nextTick(() => request.destroy());
}

const currentAttempt = new AsyncLocalStorage<Attempt<unknown>>();
const hubAgents = new WeakSet<Agent>();
let subscribed = false;

function onRequestStart(message: unknown): void {
  const request = (message as { request?: ClientRequest } | null)?.request;
  const attempt = currentAttempt.getStore();
  if (!request || !attempt) return;
  const agent = (request as ClientRequest & { agent?: Agent }).agent;
  if (!agent || !hubAgents.has(agent)) return;
  attempt.sent(request);
}

/** Makes the requests sent through `agent` end when the hub call that sent them is abandoned. */
export function endRequestsOnCancel(agent: Agent): void {
  hubAgents.add(agent);
  if (!subscribed) {
    diagnosticsChannel.subscribe('http.client.request.start', onRequestStart);
    subscribed = true;
  }
}

/**
 * Runs `send` (one attempt of a hub call) and answers what it answers, or rejects with `options.abandoned(...)` as
 * soon as the caller's signal fires or `timeoutMs` passes; then the HTTP requests `send` started end too. The SDK
 * has no way to abort a request it has sent, so a late answer is dropped. Either way a request that was sent may
 * have been applied. An attempt whose caller has already cancelled is not sent.
 */
export function sendAttempt<T>(send: () => Promise<T>, options: AttemptOptions): Promise<T> {
  if (options.abort?.aborted) return Promise.reject(options.abandoned('cancelled'));
  return new Promise<T>((resolve, reject) => {
    const attempt = new Attempt<T>(options, resolve, reject);
    let sent: Promise<T>;
    try {
      sent = currentAttempt.run(attempt as Attempt<unknown>, send);
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      (value) => attempt.answered(value),
      (error: unknown) => attempt.failed(error),
    );
  });
}
