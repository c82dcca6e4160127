import type { AddressInfo } from 'node:net';
import express from 'express';
import {
  ConnectionException,
  DeadlockException,
  ForeignKeyConstraintViolationException,
  UniqueConstraintViolationException,
} from '@mikro-orm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemHandler } from '../../src/errors/problem-handler.ts';
import { createLogger } from '../../src/logger.ts';
import { requestId } from '../../src/middleware/request-id.ts';
import { notImplemented } from '../../src/routes/not-implemented.ts';

/** The translator on its own: errors thrown by handlers become the right problem, never a bare 500. */
describe('problemHandler', () => {
  const logged: string[] = [];
  const failures: Record<string, () => unknown> = {
    unique: () =>
      new UniqueConstraintViolationException(new Error('duplicate key value violates "x_unique"')),
    foreign: () => new ForeignKeyConstraintViolationException(new Error('violates foreign key')),
    deadlock: () => new DeadlockException(new Error('deadlock detected')),
    connection: () => new ConnectionException(new Error('Connection terminated')),
    refused: () => Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' }),
    bug: () => new TypeError("Cannot read properties of undefined (reading 'id') at /work/main/src/x.ts:1"),
    // What the placeholder of an operation whose capability has not landed throws (src/routes/not-implemented.ts).
    placeholder: () => {
      try {
        (notImplemented('rerunStepRun') as () => void)();
      } catch (error) {
        return error;
      }
      return new Error('the placeholder did not throw');
    },
  };
  let baseUrl: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const app = express();
    app.use(requestId());
    app.get('/fail/:kind', (req) => {
      throw (failures[req.params.kind] ?? failures['bug'])?.();
    });
    app.use(problemHandler(createLogger('error', (_level, line) => logged.push(line))));
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  });
  afterAll(async () => {
    await close?.();
  });

  it.each([
    ['unique', 409, 'conflict', null],
    ['foreign', 409, 'conflict', null],
    ['deadlock', 503, 'service_unavailable', '1'],
    ['connection', 503, 'service_unavailable', '5'],
    ['refused', 503, 'service_unavailable', '5'],
    ['bug', 500, 'internal_error', null],
  ])('%s → %i %s', async (kind, status, errorType, retryAfter) => {
    const response = await fetch(`${baseUrl}/fail/${kind}`);
    expect(response.status).toBe(status);
    expect(response.headers.get('retry-after')).toBe(retryAfter);
    const { instance, ...problem } = (await response.json()) as Record<string, unknown>;
    expect(instance).toBe(`/fail/${kind}`);
    expect(problem).toMatchObject({ status, error_type: errorType });
    // The database's or runtime's own message stays in the log.
    expect(JSON.stringify(problem)).not.toMatch(
      /duplicate key|foreign key|deadlock|ECONNREFUSED|Cannot read|\/work\//,
    );
    expect(logged.at(-1)).toContain(response.headers.get('x-request-id') ?? 'no request id');
  });

  it('answers 501 for an operation whose capability has not landed yet, naming it', async () => {
    const response = await fetch(`${baseUrl}/fail/placeholder`);
    expect(response.status).toBe(501);
    const problem = (await response.json()) as Record<string, unknown>;
    expect(problem).toMatchObject({ status: 501, error_type: 'not_implemented' });
    expect(problem['detail']).toContain('rerunStepRun');
  });
});
