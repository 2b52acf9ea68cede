// Polls a condition until it holds, for tests of things that settle over time.

export async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what = 'the condition',
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
