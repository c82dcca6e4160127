/**
 * The admission gate itself (src/middleware/admission.ts), on a small Express app over real HTTP whose
 * handlers finish when the test says: the order in which waiting requests get their turn, which
 * operations a gate holds back, and when a slot is freed. tests/server/overload.test.ts proves the gates
 * of the real server.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import express, { type Request, type Response } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { problemHandler } from '../../src/errors/problem-handler.ts';
import { createLogger } from '../../src/logger.ts';
import { admissionControl, type AdmissionOptions } from '../../src/middleware/admission.ts';

/** A request the app has started to work on: `finish` answers it. */
interface Started {
  name: string;
  finish: (body?: string) => void;
}

interface Gate {
  base: string;
  started: Started[];
  /** Resolves when `count` requests have been started. */
  startedCount: (count: number) => Promise<void>;
  close: () => Promise<void>;
}

let open: Gate | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

/** An app whose path `/op/{name}` is the operation `name`, behind one gate. */
async function gate(options: Partial<AdmissionOptions>): Promise<Gate> {
  const started: Started[] = [];
  const waiting: { count: number; resolve: () => void }[] = [];
  const app = express();
  app.use('/op/:name', (req: Request, res: Response, next) => {
    res.locals['operation'] = { operationId: req.params['name'] };
    next();
  });
  app.use(admissionControl({ maxInFlight: 1, maxQueued: 1, maxWaitMs: 10_000, ...options }));
  app.get('/op/:name', (req: Request, res: Response) => {
    started.push({ name: String(req.params['name']), finish: (body = 'done') => res.send(body) });
    for (const waiter of waiting.filter((w) => started.length >= w.count)) waiter.resolve();
  });
  app.use(problemHandler(createLogger('silent')));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const result: Gate = {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    started,
    startedCount: (count) =>
      started.length >= count
        ? Promise.resolve()
        : new Promise((resolve) => waiting.push({ count, resolve })),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  open = result;
  return result;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

/** Once started, finishes the `index`th request with `text`; its client (`response`) reads exactly that. */
async function answer(
  g: Gate,
  index: number,
  response: Promise<globalThis.Response>,
  text: string,
): Promise<void> {
  await g.startedCount(index + 1);
  g.started[index].finish(text);
  expect(await (await response).text()).toBe(text);
}

describe('admission gate', () => {
  it('gives freed slots to the waiting requests in arrival order and refuses those beyond its queue at once', async () => {
    const g = await gate({ maxInFlight: 1, maxQueued: 2 });
    const first = fetch(`${g.base}/op/a?n=1`);
    await g.startedCount(1);
    const second = fetch(`${g.base}/op/a?n=2`);
    await settle();
    const third = fetch(`${g.base}/op/a?n=3`);
    await settle();
    const start = performance.now();
    const refused = await fetch(`${g.base}/op/a?n=4`);
    expect(performance.now() - start).toBeLessThan(1000);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(g.started).toHaveLength(1);

    await answer(g, 0, first, 'one');
    await g.startedCount(2);
    await settle();
    expect(g.started).toHaveLength(2);
    await answer(g, 1, second, 'two');
    await answer(g, 2, third, 'three');
  });

  it('holds back only the operations it is for (`only`), with its own refusal', async () => {
    const g = await gate({
      maxInFlight: 1,
      maxQueued: 0,
      only: new Set(['overview']),
      refusal: 'Too many overviews',
    });
    const overview = fetch(`${g.base}/op/overview`);
    await g.startedCount(1);
    const refused = await fetch(`${g.base}/op/overview`);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { detail: string }).detail).toBe('Too many overviews');
    // Another operation passes the full gate.
    const other = fetch(`${g.base}/op/run`);
    await g.startedCount(2);
    expect(g.started.map((s) => s.name)).toEqual(['overview', 'run']);
    g.started[1].finish();
    expect((await other).status).toBe(200);
    g.started[0].finish();
    expect((await overview).status).toBe(200);
  });

  it('frees the slot when the response is ended, while a client that does not read still holds it', async () => {
    const g = await gate({ maxInFlight: 1, maxQueued: 1 });
    // A client that sends its request and then reads nothing: 64 MB cannot all go out to it.
    const stalled = connect(Number(new URL(g.base).port), '127.0.0.1');
    await once(stalled, 'connect');
    stalled.write('GET /op/a HTTP/1.1\r\nHost: x\r\n\r\n');
    await g.startedCount(1);
    stalled.pause();
    g.started[0].finish('x'.repeat(64 * 1024 * 1024));
    // The next request gets the slot, though the first response is still being sent.
    await answer(g, 1, fetch(`${g.base}/op/a`), 'second');
    stalled.destroy();
  });

  it('frees the slot of a client that went away, and the queued place of one that gave up waiting', async () => {
    const g = await gate({ maxInFlight: 1, maxQueued: 1 });
    const gone = new AbortController();
    const first = fetch(`${g.base}/op/a`, { signal: gone.signal }).catch((error: unknown) => error);
    await g.startedCount(1);
    const gaveUp = new AbortController();
    const queued = fetch(`${g.base}/op/a`, { signal: gaveUp.signal }).catch((error: unknown) => error);
    await settle();
    gaveUp.abort();
    await queued;
    await settle();
    gone.abort();
    await first;
    await settle();
    // Neither holds a place: the next request starts at once, and one more may wait behind it.
    const next = fetch(`${g.base}/op/a`);
    await g.startedCount(2);
    const behind = fetch(`${g.base}/op/a`);
    await settle();
    expect(g.started).toHaveLength(2);
    await answer(g, 1, next, 'next');
    await answer(g, 2, behind, 'behind');
  });
});
