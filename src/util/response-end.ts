import type { ServerResponse } from 'node:http';

/**
 * Calls `ended` once, as soon as `response.end` has run: the handler's work is done then, though the
 * client may still be reading the response (or gone). Node emits no event for that moment ('finish' waits
 * for the last byte to be handed to the socket), so `end` is wrapped.
 */
export function onResponseEnd(response: ServerResponse, ended: () => void): void {
  const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
  let called = false;
  response.end = ((...args: unknown[]) => {
    const result = end(...args);
    if (!called) {
      called = true;
      ended();
    }
    return result;
  }) as ServerResponse['end'];
}
