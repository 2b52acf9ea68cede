// The bounded worker pool: how many tasks run at once, and what a drain or a failure stops.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forEachBounded } from '../../src/runtime/worker-pool.js';
import { settle } from '../support/fake-clock.js';

/** Tasks that finish when the test says so. */
function gatedTasks() {
  const started: number[] = [];
  const finish = new Map<number, (error?: Error) => void>();
  let running = 0;
  let mostAtOnce = 0;
  const task = (item: number) =>
    new Promise<void>((resolve, reject) => {
      started.push(item);
      mostAtOnce = Math.max(mostAtOnce, ++running);
      finish.set(item, (error) => {
        running--;
        if (error) reject(error);
        else resolve();
      });
    });
  return { task, started, finish, mostAtOnce: () => mostAtOnce };
}

describe('forEachBounded', () => {
  it('runs every item with no more than `concurrency` in flight', async () => {
    const done: number[] = [];
    let running = 0;
    let mostAtOnce = 0;
    await forEachBounded([1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      mostAtOnce = Math.max(mostAtOnce, ++running);
      await settle();
      running--;
      done.push(item);
    });
    assert.deepEqual(
      done.sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6, 7],
    );
    assert.equal(mostAtOnce, 3);
  });

  it('starts nothing once drained, and lets the tasks in flight finish', async () => {
    const { task, started, finish } = gatedTasks();
    const drain = new AbortController();
    let ended = false;
    const pool = forEachBounded([1, 2, 3, 4, 5], 2, task, drain.signal).then(() => {
      ended = true;
    });
    await settle();
    assert.deepEqual(started, [1, 2]);
    drain.abort();
    finish.get(1)!();
    await settle();
    assert.deepEqual(started, [1, 2], 'no task started after the drain');
    assert.equal(ended, false, 'the task in flight is waited for');
    finish.get(2)!();
    await pool;
  });

  it('throws the first failure once the tasks in flight are done, starting no more', async () => {
    const { task, started, finish } = gatedTasks();
    const pool = forEachBounded([1, 2, 3, 4], 2, task);
    pool.catch(() => {});
    await settle();
    finish.get(1)!(new Error('first'));
    await settle();
    finish.get(2)!(new Error('second'));
    await assert.rejects(pool, /first/);
    assert.deepEqual(started, [1, 2]);
  });

  it('takes items from any iterable, one at a time', async () => {
    const pulled: number[] = [];
    function* items() {
      for (let i = 1; i <= 4; i++) {
        pulled.push(i);
        yield i;
      }
    }
    const { task, finish } = gatedTasks();
    const pool = forEachBounded(items(), 1, task);
    await settle();
    assert.deepEqual(pulled, [1], 'an item is taken only when a worker is free');
    for (let i = 1; i <= 4; i++) {
      finish.get(i)!();
      await settle();
    }
    await pool;
    assert.deepEqual(pulled, [1, 2, 3, 4]);
  });

  it('refuses a concurrency below one', async () => {
    await assert.rejects(
      forEachBounded([1], 0, async () => {}),
      RangeError,
    );
  });
});
