import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type WorkContext, WorkQueue, type WorkResult } from '../../src/controller/work-queue.js';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

/** A handler whose runs the test releases by hand, recording what ran and how many at once. */
function gatedHandler() {
  const runs: string[] = [];
  const gates = new Map<string, (result?: WorkResult) => void>();
  const interrupts = new Map<string, AbortSignal>();
  let active = 0;
  let maxActive = 0;
  const handler = (key: string, context: WorkContext) =>
    new Promise<WorkResult>((resolve) => {
      runs.push(key);
      active++;
      maxActive = Math.max(maxActive, active);
      interrupts.set(key, context.interrupt);
      gates.set(key, (result = {}) => {
        active--;
        gates.delete(key);
        resolve(result);
      });
    });
  return {
    handler,
    runs,
    release: (key: string, result?: WorkResult) => gates.get(key)!(result),
    interruptOf: (key: string) => interrupts.get(key)!,
    running: () => [...gates.keys()].sort(),
    maxActive: () => maxActive,
  };
}

describe('WorkQueue', () => {
  it('ignores an add of a key already queued', async () => {
    const q = new WorkQueue({ concurrency: 1 });
    const h = gatedHandler();
    q.start(h.handler);
    q.add('a');
    q.add('b');
    q.add('b');
    q.add('b');
    await tick();
    h.release('a');
    await tick();
    h.release('b');
    await q.idle();
    assert.deepEqual(h.runs, ['a', 'b']);
  });

  it('never runs one key in two workers; an add while it runs runs it once more afterwards', async () => {
    const q = new WorkQueue({ concurrency: 4 });
    const h = gatedHandler();
    q.start(h.handler);
    q.add('hub');
    await tick();
    q.add('hub');
    q.add('hub');
    await tick();
    assert.deepEqual(h.running(), ['hub'], 'the second add waits for the first run');
    h.release('hub');
    await tick();
    assert.deepEqual(h.runs, ['hub', 'hub']);
    h.release('hub');
    await q.idle();
    assert.equal(h.runs.length, 2, 'two adds during one run make one more run');
  });

  it('interrupts the run in progress when asked to', async () => {
    const q = new WorkQueue({ concurrency: 1 });
    const h = gatedHandler();
    q.start(h.handler);
    q.add('hub');
    await tick();
    q.add('hub');
    assert.equal(h.interruptOf('hub').aborted, false, 'a plain add does not interrupt');
    q.add('hub', { interrupt: true });
    assert.equal(h.interruptOf('hub').aborted, true);
    h.release('hub');
    await tick();
    h.release('hub');
    await q.idle();
  });

  it('processes at most `concurrency` keys at once, and a slow key holds no other back', async () => {
    const q = new WorkQueue({ concurrency: 2 });
    const h = gatedHandler();
    q.start(h.handler);
    for (const key of ['slow', 'a', 'b', 'c']) q.add(key);
    await tick();
    assert.deepEqual(h.running(), ['a', 'slow']);
    h.release('a');
    await tick();
    h.release('b');
    await tick();
    h.release('c');
    await tick();
    assert.deepEqual(h.running(), ['slow'], 'the others went through while slow ran');
    h.release('slow');
    await q.idle();
    assert.equal(h.maxActive(), 2);
  });

  it('keeps the earliest of delayed adds, and an add now drops the delayed one', async () => {
    const q = new WorkQueue({ concurrency: 1 });
    const runs: string[] = [];
    q.start(async (key) => {
      runs.push(key);
      return {};
    });
    q.addAfter('a', 10_000);
    q.addAfter('a', 20);
    await tick(60);
    assert.deepEqual(runs, ['a']);
    q.addAfter('b', 20);
    q.add('b');
    await tick(60);
    assert.deepEqual(runs, ['a', 'b'], 'b ran once, not again when its delay would have passed');
  });

  it('backs off a failing key exponentially, and forgets the failures after a success', async () => {
    const q = new WorkQueue({ concurrency: 1, backoffBaseMs: 10, backoffMaxMs: 40 });
    let calls = 0;
    const at: number[] = [];
    q.start(async () => {
      at.push(Date.now());
      calls++;
      return calls <= 4 ? { failed: true } : {};
    });
    q.add('hub');
    await tick(250);
    assert.equal(calls, 5);
    const gaps = at.slice(1).map((t, i) => t - at[i]);
    assert.ok(gaps[0] >= 9 && gaps[1] >= 19 && gaps[2] >= 39 && gaps[3] >= 39, `gaps ${gaps.join(', ')}`);
    assert.equal(q.backoffMs('hub'), 10, 'a success resets the backoff');
  });

  it('runs a key that failed for want of the API server at once when it is back; other failures keep their backoff', async () => {
    const q = new WorkQueue({ concurrency: 2, backoffBaseMs: 10_000 });
    const runs: string[] = [];
    q.start(async (key) => {
      runs.push(key);
      return key === 'status-write-refused' ? { failed: true, waitingForApiServer: true } : { failed: true };
    });
    q.add('status-write-refused');
    q.add('hub-unreachable');
    await tick(20);
    q.retryWaitingForApiServer();
    await tick(20);
    assert.deepEqual(runs.sort(), ['hub-unreachable', 'status-write-refused', 'status-write-refused']);
    assert.ok(
      q.backoffMs('status-write-refused') > q.backoffMs('hub-unreachable'),
      'its failures are kept: failing again, it backs off further',
    );
    await q.shutdown(100);
  });

  it('requeues after the time the work asked for', async () => {
    const q = new WorkQueue({ concurrency: 1 });
    let calls = 0;
    q.start(async () => ({ requeueAfterMs: ++calls < 3 ? 15 : undefined }));
    q.add('hub');
    await tick(100);
    assert.equal(calls, 3);
  });

  it('on shutdown interrupts what runs, drops what waits, and waits for the runs to end', async () => {
    const q = new WorkQueue({ concurrency: 1 });
    let interrupted = false;
    const runs: string[] = [];
    q.start(async (key, { interrupt }) => {
      runs.push(key);
      await new Promise<void>((resolve) => interrupt.addEventListener('abort', () => resolve()));
      interrupted = true;
      return { requeueAfterMs: 1 };
    });
    q.add('a');
    q.add('b');
    q.addAfter('c', 5);
    await tick();
    await q.shutdown(1000);
    assert.equal(interrupted, true);
    await tick(30);
    assert.deepEqual(runs, ['a']);
  });

  it('runs a failing key again at once when it was re-added while it ran (its inputs changed), else after its backoff', async () => {
    const q = new WorkQueue({ concurrency: 1, backoffBaseMs: 10_000 });
    const h = gatedHandler();
    q.start(h.handler);
    q.add('hub');
    await tick();
    q.add('hub');
    h.release('hub', { failed: true });
    await tick();
    assert.deepEqual(h.runs, ['hub', 'hub'], 're-added while failing: runs again without waiting 10 s');
    h.release('hub', { failed: true });
    await tick(30);
    assert.equal(h.runs.length, 2, 'failed again, not re-added: waits its backoff');
    q.remove('hub');
  });

  it('counts a handler that throws as a failure, reports it, and forgets a removed key', async () => {
    const errors: string[] = [];
    const q = new WorkQueue({
      concurrency: 1,
      backoffBaseMs: 20,
      onError: (key, e) => errors.push(`${key}: ${(e as Error).message}`),
    });
    let calls = 0;
    q.start(async () => {
      calls++;
      throw new Error('boom');
    });
    q.add('hub');
    await tick(10);
    assert.deepEqual(errors, ['hub: boom']);
    assert.equal(q.backoffMs('hub'), 40, 'the next failure waits twice as long');
    q.remove('hub');
    await tick(60);
    assert.equal(calls, 1, 'removed: the retry that was due never runs');
    assert.equal(q.backoffMs('hub'), 20);
  });
});
