/** Polling for what happens in the background (a worker, a flush, a child process) until it has happened. */

/**
 * Reads `read` every `intervalMs` (default 25) until `done` holds for its value, and answers that value;
 * fails after `timeoutMs` (default 10 s) naming `what` and the last value read. An error `read` throws ends
 * the wait at once.
 */
export async function waitFor<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 25, what = 'the condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value)) {
    if (Date.now() > deadline) {
      throw new Error(`still waiting for ${what} after ${timeoutMs} ms; last read: ${JSON.stringify(value)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    value = await read();
  }
  return value;
}
