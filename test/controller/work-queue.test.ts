// The work queue on a fake clock: delays, backoffs and shutdown timeouts pass when the test moves time, never by
// waiting for it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReconcileResult } from '../../src/controller/reconcile-result.js';
import { type WorkContext, WorkQueue, type WorkQueueOptions } from '../../src/controller/work-queue.js';
import { FakeClock, settle, track } from '../support/fake-clock.js';

const DONE: ReconcileResult = { kind: 'done' };
const retry = (message = 'failed'): ReconcileResult => ({ kind: 'retry', error: new Error(message) });
/** Backoff draws at the top of their window, so the waits are known. */
const topOfWindow = () => 0.999_999;

function queue(options: Partial<WorkQueueOptions> = {}) {
  const clock = new FakeClock();
  const q = new WorkQueue({
    concurrency: 1,
    clock,
    backoff: { baseMs: 1000, maxMs: 5 * 60_000, random: topOfWindow },
    ...options,
  });
  return { q, clock };
}

/** A handler whose runs the test releases by hand, recording what ran and how many at once. */
function gatedHandler() {
  const runs: string[] = [];
  const gates = new Map<string, (result?: ReconcileResult) => void>();
  const interrupts = new Map<string, AbortSignal>();
  let active = 0;
  let maxActive = 0;
  const handler = (key: string, context: WorkContext) =>
    new Promise<ReconcileResult>((resolve) => {
      runs.push(key);
      active++;
      maxActive = Math.max(maxActive, active);
      interrupts.set(key, context.drain);
      gates.set(key, (result = DONE) => {
        active--;
        gates.delete(key);
        resolve(result);
      });
    });
  return {
    handler,
    runs,
    release: async (key: string, result?: ReconcileResult) => {
      gates.get(key)!(result);
      await settle();
    },
    interruptOf: (key: string) => interrupts.get(key)!,
    running: () => [...gates.keys()].sort(),
    maxActive: () => maxActive,
  };
}

describe('WorkQueue', () => {
  it('ignores an add of a key already queued', async () => {
    const { q } = queue();
    const h = gatedHandler();
    q.start(h.handler);
    q.add('a');
    q.add('b');
    q.add('b');
    q.add('b');
    await settle();
    await h.release('a');
    await h.release('b');
    await q.idle();
    assert.deepEqual(h.runs, ['a', 'b']);
  });

  it('never runs one key in two workers; an add while it runs runs it once more afterwards', async () => {
    const { q } = queue({ concurrency: 4 });
    const h = gatedHandler();
    q.start(h.handler);
    q.add('hub');
    await settle();
    q.add('hub');
    q.add('hub');
    await settle();
    assert.deepEqual(h.running(), ['hub'], 'the second add waits for the first run');
    await h.release('hub');
    assert.deepEqual(h.runs, ['hub', 'hub']);
    await h.release('hub');
    await q.idle();
    assert.equal(h.runs.length, 2, 'two adds during one run make one more run');
  });

  it('interrupts the run in progress when asked to', async () => {
    const { q } = queue();
    const h = gatedHandler();
    q.start(h.handler);
    q.add('hub');
    await settle();
    q.add('hub');
    assert.equal(h.interruptOf('hub').aborted, false, 'a plain add does not interrupt');
    q.add('hub', { interrupt: true });
    assert.equal(h.interruptOf('hub').aborted, true);
    await h.release('hub');
    await h.release('hub');
    await q.idle();
  });

  it('processes at most `concurrency` keys at once, and a slow key holds no other back', async () => {
    const { q } = queue({ concurrency: 2 });
    const h = gatedHandler();
    q.start(h.handler);
    for (const key of ['slow', 'a', 'b', 'c']) q.add(key);
    await settle();
    assert.deepEqual(h.running(), ['a', 'slow']);
    await h.release('a');
    await h.release('b');
    await h.release('c');
    assert.deepEqual(h.running(), ['slow'], 'the others went through while slow ran');
    await h.release('slow');
    await q.idle();
    assert.equal(h.maxActive(), 2);
  });

  it('without a cap runs every key that is due at once, each key still in one run at a time', async () => {
    const { q } = queue({ concurrency: undefined });
    const h = gatedHandler();
    q.start(h.handler);
    const keys = Array.from({ length: 100 }, (_, i) => `hub-${String(i).padStart(3, '0')}`);
    for (const key of keys) q.add(key);
    await settle();
    assert.deepEqual(h.running(), keys, 'no hub waits for another');
    q.add('hub-000');
    await settle();
    assert.equal(h.runs.length, 100, 'an add of a key in progress waits for its run');
    for (const key of keys) await h.release(key);
    assert.deepEqual(h.running(), ['hub-000'], 'then runs it once more');
    await h.release('hub-000');
    await q.idle();
    assert.equal(h.maxActive(), 100);
  });

  it('keeps the earliest of delayed adds, and an add now drops the delayed one', async () => {
    const { q, clock } = queue();
    const runs: string[] = [];
    q.start(async (key) => {
      runs.push(key);
      return DONE;
    });
    q.addAfter('a', 10_000);
    q.addAfter('a', 20);
    await clock.advance(19);
    assert.deepEqual(runs, []);
    await clock.advance(1);
    assert.deepEqual(runs, ['a']);
    await clock.advance(10_000);
    assert.deepEqual(runs, ['a'], 'the later delayed add was dropped');
    q.addAfter('b', 20);
    q.add('b');
    await clock.advance(60);
    assert.deepEqual(runs, ['a', 'b'], 'b ran once, not again when its delay would have passed');
  });

  it('backs off a failing key exponentially with full jitter, and forgets the failures after a success', async () => {
    const { q, clock } = queue({ backoff: { baseMs: 10, maxMs: 40, random: topOfWindow } });
    const at: number[] = [];
    q.start(async () => {
      at.push(clock.now());
      return at.length <= 4 ? retry() : DONE;
    });
    q.add('hub');
    await clock.advance(200);
    assert.equal(at.length, 5);
    const gaps = at.slice(1).map((t, i) => t - at[i]);
    assert.deepEqual(gaps, [9, 19, 39, 39], 'each wait drawn in a window twice the last, at most max');
    assert.equal(q.backoffWindowMs('hub'), 10, 'a success resets the backoff');
  });

  it('draws each backoff anywhere in its window (full jitter)', async () => {
    const draws = [0, 0.5];
    const { q, clock } = queue({ backoff: { baseMs: 100, maxMs: 1000, random: () => draws.shift() ?? 0 } });
    const at: number[] = [];
    q.start(async () => {
      at.push(clock.now());
      return at.length <= 2 ? retry() : DONE;
    });
    q.add('hub');
    await clock.advance(500);
    assert.deepEqual(
      at.slice(1).map((t, i) => t - at[i]),
      [0, 100],
      'the first retry drawn at 0 of 100 ms, the second at half of 200 ms',
    );
  });

  it('runs a key that failed for want of the API server at once when it is back; other failures keep their backoff', async () => {
    const unreachable = new Error('no answer from the API server');
    const { q, clock } = queue({
      concurrency: 2,
      backoff: { baseMs: 10_000, maxMs: 60_000, random: topOfWindow },
      waitsForApiServer: (error) => error === unreachable,
    });
    const runs: string[] = [];
    q.start(async (key) => {
      runs.push(key);
      return key === 'status-write-unanswered' ? { kind: 'retry', error: unreachable } : retry();
    });
    q.add('status-write-unanswered');
    q.add('hub-unreachable');
    await clock.advance(20);
    q.retryWaitingForApiServer();
    await clock.advance(20);
    assert.deepEqual(runs.sort(), ['hub-unreachable', 'status-write-unanswered', 'status-write-unanswered']);
    assert.ok(
      q.backoffWindowMs('status-write-unanswered') > q.backoffWindowMs('hub-unreachable'),
      'its failures are kept: failing again, it backs off further',
    );
    await q.shutdown(0);
  });

  it('requeues after the time the work asked for, and after the resync of a terminal result without backoff', async () => {
    const { q, clock } = queue();
    const results: ReconcileResult[] = [
      { kind: 'done', requeueAfterMs: 15 },
      { kind: 'terminal', requeueAfterMs: 15 },
      DONE,
    ];
    let calls = 0;
    q.start(async () => results[calls++]);
    q.add('hub');
    await clock.advance(14);
    assert.equal(calls, 1);
    await clock.advance(1);
    assert.equal(calls, 2);
    await clock.advance(15);
    assert.equal(calls, 3);
    assert.equal(q.backoffWindowMs('hub'), 1000, 'a terminal result is no failure streak');
    await clock.advance(10_000);
    assert.equal(calls, 3, 'done without a requeue: no more runs');
  });

  it('on shutdown interrupts what runs, drops what waits, and waits for the runs to end', async () => {
    const { q, clock } = queue();
    let interrupted = false;
    const runs: string[] = [];
    q.start(async (key, { drain }) => {
      runs.push(key);
      await new Promise<void>((resolve) => drain.addEventListener('abort', () => resolve()));
      interrupted = true;
      return { kind: 'done', requeueAfterMs: 1 };
    });
    q.add('a');
    q.add('b');
    q.addAfter('c', 5);
    await settle();
    await q.shutdown(1000);
    assert.equal(interrupted, true);
    await clock.advance(30);
    assert.deepEqual(runs, ['a']);
  });

  it('gives up waiting for a run that does not end after the shutdown timeout', async () => {
    const { q, clock } = queue();
    q.start(() => new Promise<ReconcileResult>(() => {}));
    q.add('stuck');
    await settle();
    const shutdown = track(q.shutdown(1000));
    await clock.advance(999);
    assert.equal(shutdown.settled(), false);
    await clock.advance(1);
    assert.equal(shutdown.settled(), true);
  });

  it('runs a failing key again at once when it was re-added while it ran (its inputs changed), else after its backoff', async () => {
    const { q, clock } = queue({ backoff: { baseMs: 10_000, maxMs: 60_000, random: topOfWindow } });
    const h = gatedHandler();
    q.start(h.handler);
    q.add('hub');
    await settle();
    q.add('hub');
    await h.release('hub', retry());
    assert.deepEqual(h.runs, ['hub', 'hub'], 're-added while failing: runs again without waiting 10 s');
    await h.release('hub', retry());
    await clock.advance(30);
    assert.equal(h.runs.length, 2, 'failed again, not re-added: waits its backoff');
    q.remove('hub');
  });

  it('counts a handler that throws as a failure, reports it, and forgets a removed key', async () => {
    const errors: string[] = [];
    const { q, clock } = queue({
      backoff: { baseMs: 20, maxMs: 1000, random: topOfWindow },
      onError: (key, e) => errors.push(`${key}: ${(e as Error).message}`),
    });
    let calls = 0;
    q.start(async () => {
      calls++;
      throw new Error('boom');
    });
    q.add('hub');
    await clock.advance(10);
    assert.deepEqual(errors, ['hub: boom']);
    assert.equal(q.backoffWindowMs('hub'), 40, 'the next failure waits twice as long');
    q.remove('hub');
    await clock.advance(60);
    assert.equal(calls, 1, 'removed: the retry that was due never runs');
    assert.equal(q.backoffWindowMs('hub'), 20);
  });
});
