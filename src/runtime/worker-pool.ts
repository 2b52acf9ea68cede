// A bounded worker pool: at most `concurrency` tasks in flight. The hub client's rate limiter sets the pace of
// hub calls; this bounds memory and sockets. No task starts once `drain` fires; the first task to throw stops the
// pool from starting more, and its error is thrown once the tasks in flight have finished.

export async function forEachBounded<T>(
  items: Iterable<T>,
  concurrency: number,
  task: (item: T) => Promise<void>,
  drain?: AbortSignal,
): Promise<void> {
  if (!(concurrency >= 1)) throw new RangeError(`concurrency must be at least 1, not ${concurrency}`);
  const iterator = items[Symbol.iterator]();
  let failed = false;
  let firstError: unknown;
  const worker = async () => {
    while (!failed && !drain?.aborted) {
      const next = iterator.next();
      if (next.done) return;
      try {
        await task(next.value);
      } catch (error) {
        if (!failed) firstError = error;
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (failed) throw firstError;
}
