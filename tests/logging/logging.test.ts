import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express, { type Express } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createContainer, type Container } from '../../src/container.ts';
import { REDACTED, createLogger, flushLogger, runWithRequestContext, type Logger } from '../../src/logger.ts';
import { accessLog } from '../../src/middleware/access-log.ts';
import { requestId } from '../../src/middleware/request-id.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { ACCESS_LOG_MEMBERS } from '../support/log-lines.ts';

type Entry = Record<string, unknown>;
const parse = (lines: string[]): Entry[] => lines.map((line) => JSON.parse(line) as Entry);

async function listen(app: Express): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The access line of a request is written when its response has finished: wait for it. */
async function waitFor(lines: string[], predicate: (entry: Entry) => boolean): Promise<Entry> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const found = parse(lines).find(predicate);
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no such log line in:\n${lines.join('\n')}`);
}

describe('logging through the real app', () => {
  const lines: string[] = [];
  let database: TestDatabase;
  let container: Container;
  let server: { baseUrl: string; close(): Promise<void> };
  let adminKey: string;
  let robotKey: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    container = await createContainer(loadConfig({ DATABASE_URL: database.url, LOG_LEVEL: 'info' }), {
      logger: createLogger('debug', (_level, line) => lines.push(line)),
    });
    const em = container.orm.em.fork();
    adminKey = (await container.apiKeys.create(em, { name: 'Logged admin', role: 'admin' })).plaintext;
    robotKey = (await container.apiKeys.create(em, { name: 'Logged robot', role: 'user' })).plaintext;
    server = await listen(createApp(container));
  });
  afterAll(async () => {
    await server?.close();
    await container?.close();
    await database?.dispose();
  });

  it('never writes an X-API-Key or Authorization value, valid or not, nor a created key', async () => {
    const wrongKey = 'pd_' + 'W'.repeat(43);
    const wrongBearer = 'pd_' + 'B'.repeat(43);
    const calls: [string, RequestInit, number][] = [
      ['/api/v1/auth/verify', { headers: { 'X-API-Key': adminKey, 'X-Request-ID': 'secret-1' } }, 200],
      [
        '/api/v1/auth/verify',
        { headers: { Authorization: `Bearer ${robotKey}`, 'X-Request-ID': 'secret-2' } },
        200,
      ],
      ['/api/v1/auth/verify', { headers: { 'X-API-Key': wrongKey, 'X-Request-ID': 'secret-3' } }, 401],
      [
        '/api/v1/auth/verify',
        { headers: { Authorization: `Bearer ${wrongBearer}`, 'X-Request-ID': 'secret-4' } },
        401,
      ],
      [
        '/api/v1/api-keys',
        {
          method: 'POST',
          headers: { 'X-API-Key': adminKey, 'Content-Type': 'application/json', 'X-Request-ID': 'secret-5' },
          body: JSON.stringify({ name: 'Created while logging', role: 'user' }),
        },
        201,
      ],
    ];
    let createdKey = '';
    for (const [path, init, status] of calls) {
      const response = await fetch(server.baseUrl + path, init);
      expect(response.status, path).toBe(status);
      const body = (await response.json()) as { key?: string };
      if (body.key !== undefined) createdKey = body.key;
    }
    expect(createdKey).toMatch(/^pd_/);
    for (let n = 1; n <= calls.length; n++) {
      await waitFor(
        lines,
        (entry) => entry['message'] === 'request' && entry['request_id'] === `secret-${n}`,
      );
    }
    const log = lines.join('\n');
    for (const secret of [adminKey, robotKey, wrongKey, wrongBearer, createdKey]) {
      expect(log).not.toContain(secret);
      // Not even the part after the `pd_` prefix (a key prefix of 8 characters may be logged).
      expect(log).not.toContain(secret.slice(8));
    }
    expect(log).not.toMatch(/Bearer/i);
    // The authentication failures were logged, with their request id.
    const failures = parse(lines).filter((entry) => entry['level'] === 'warn');
    expect(failures.map((entry) => entry['request_id'])).toEqual(
      expect.arrayContaining(['secret-3', 'secret-4']),
    );
  });

  it('gives every line of a request its request id, the warning of a keyless call among them', async () => {
    const response = await fetch(`${server.baseUrl}/api/v1/auth/verify?entity_name=Jens`);
    expect(response.status).toBe(401);
    const id = response.headers.get('x-request-id');
    expect(id).toBeTruthy();
    const access = await waitFor(lines, (e) => e['message'] === 'request' && e['request_id'] === id);
    expect(access).toMatchObject({ level: 'info', method: 'GET', path: '/api/v1/auth/verify', status: 401 });
    expect(access).not.toHaveProperty('api_key_id');
    const warning = parse(lines).find((e) => e['level'] === 'warn' && e['request_id'] === id);
    expect(warning?.['message']).toMatch(/authentication failed/);
    expect(lines.join('\n')).not.toContain('Jens');
  });
});

describe('request context', () => {
  it('puts the request id on any line logged while a request is handled, across awaits and bodies', async () => {
    const lines: string[] = [];
    const logger = createLogger('info', (_level, line) => lines.push(line));
    const app = express();
    app.use(requestId());
    app.use(accessLog(logger));
    app.use(express.json());
    app.post('/work', async (req, res) => {
      await new Promise((resolve) => setTimeout(resolve, (req.body as { wait: number }).wait));
      // No request_id passed: the logger finds it itself.
      logger.warn('slow work', { wait: (req.body as { wait: number }).wait });
      res.json({ done: true });
    });
    const server = await listen(app);
    try {
      // Two requests in flight at once, finishing in the opposite order of their start.
      const post = (id: string, wait: number) =>
        fetch(`${server.baseUrl}/work`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Request-ID': id },
          body: JSON.stringify({ wait }),
        });
      const responses = await Promise.all([post('ctx-slow', 80), post('ctx-fast', 5)]);
      expect(responses.map((response) => response.status)).toEqual([200, 200]);
      await waitFor(lines, (e) => e['message'] === 'request' && e['request_id'] === 'ctx-slow');
      const warnings = parse(lines).filter((e) => e['message'] === 'slow work');
      expect(warnings).toEqual([
        expect.objectContaining({ level: 'warn', request_id: 'ctx-fast', wait: 5 }),
        expect.objectContaining({ level: 'warn', request_id: 'ctx-slow', wait: 80 }),
      ]);
    } finally {
      await server.close();
    }
    // Outside a request there is no request id.
    logger.warn('idle');
    expect(parse(lines).at(-1)).not.toHaveProperty('request_id');
  });

  it('keeps a request id the caller logs explicitly as one key', () => {
    const lines: string[] = [];
    const logger = createLogger('info', (_level, line) => lines.push(line));
    runWithRequestContext({ requestId: 'r-1' }, () => logger.error('failed', { request_id: 'r-1', n: 1 }));
    expect(lines[0]?.match(/"request_id"/g)).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ request_id: 'r-1', n: 1, message: 'failed' });
  });
});

describe('createLogger', () => {
  it('writes one JSON object per line with time, level and message', () => {
    const written: [string, string][] = [];
    const logger = createLogger('debug', (level, line) => written.push([level, line]));
    logger.debug('d');
    logger.info('100% of %s', { count: 3 });
    logger.warn('w');
    logger.error('e', { error: { name: 'TypeError', message: 'boom' } });
    expect(written.map(([level]) => level)).toEqual(['debug', 'info', 'warn', 'error']);
    const entries = parse(written.map(([, line]) => line));
    const { time, ...rest } = entries[1] ?? {};
    expect(rest).toEqual({ level: 'info', message: '100% of %s', count: 3 });
    expect(new Date(time as string).toISOString()).toBe(time);
    expect(entries[3]).toMatchObject({ level: 'error', message: 'e', error: { message: 'boom' } });
    for (const [, line] of written) expect(line).not.toContain('\n');
  });

  it.each([
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
    ['silent', []],
  ] as const)('at %s writes only %j', (level, expected) => {
    const written: string[] = [];
    const logger = createLogger(level, (at) => written.push(at));
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(written).toEqual(expected);
  });

  it('redacts credentials in headers, and keys, plaintexts and key hashes', () => {
    const lines: string[] = [];
    const logger = createLogger('info', (_level, line) => lines.push(line));
    logger.info('everything secret', {
      req: { headers: { 'x-api-key': 'h1', authorization: 'Bearer h2', cookie: 'h3', accept: '*/*' } },
      headers: { 'x-api-key': 'h4', authorization: 'Bearer h5', cookie: 'h6' },
      key: 'k1',
      plaintext: 'k2',
      key_hash: 'k3',
      body: { id: 7, key: 'k4', plaintext: 'k5', key_hash: 'k6', name: 'robot' },
    });
    const entry = parse(lines)[0];
    expect(entry).toMatchObject({
      req: { headers: { 'x-api-key': REDACTED, authorization: REDACTED, cookie: REDACTED, accept: '*/*' } },
      headers: { 'x-api-key': REDACTED, authorization: REDACTED, cookie: REDACTED },
      key: REDACTED,
      plaintext: REDACTED,
      key_hash: REDACTED,
      body: { id: 7, key: REDACTED, plaintext: REDACTED, key_hash: REDACTED, name: 'robot' },
    });
    expect(lines[0]).not.toMatch(/h[1-6]|k[1-6]/);
  });

  it('writes stdout asynchronously and loses nothing on flush or exit', async () => {
    const loggerPath = join(import.meta.dirname, '../../src/logger.ts');
    const script = `
      import fs from 'node:fs';
      const { createLogger, flushLogger } = await import(${JSON.stringify(loggerPath)});
      let syncWrites = 0;
      const writeSync = fs.writeSync;
      fs.writeSync = (...args) => { syncWrites++; return writeSync(...args); };
      const logger = createLogger('info');
      for (let i = 0; i < 1000; i++) logger.info('line', { i });
      const duringLogging = syncWrites;
      await flushLogger(logger);
      process.stderr.write(JSON.stringify({ duringLogging }));
      for (let i = 1000; i < 2000; i++) logger.info('line', { i });
      process.exit(0);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stderr)).toEqual({ duringLogging: 0 });
    const numbers = stdout
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { i: number }).i);
    expect(numbers).toEqual(Array.from({ length: 2000 }, (_, i) => i));
  });

  it('flushLogger resolves for a logger it did not make', async () => {
    const foreign: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
    await expect(flushLogger(foreign)).resolves.toBeUndefined();
  });
});

describe('accessLog', () => {
  async function call(logger: Logger, path: string, headers: Record<string, string> = {}): Promise<string> {
    const app = express();
    app.use(requestId());
    app.use(accessLog(logger));
    app.get('/thing', (_req, res) => {
      res.locals['principal'] = { keyId: 42, role: 'user' };
      res.json({ ok: true });
    });
    app.get('/boom', () => {
      throw new Error('boom');
    });
    const server = await listen(app);
    try {
      const response = await fetch(server.baseUrl + path, { headers });
      await response.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, 30));
      return response.headers.get('x-request-id') ?? '';
    } finally {
      await server.close();
    }
  }

  it('writes method, path without query, status, duration, request id and key id, and no headers', async () => {
    const lines: string[] = [];
    const id = await call(
      createLogger('info', (_l, line) => lines.push(line)),
      '/thing?email=a@b.dk',
      {
        'X-API-Key': 'pd_secret_value',
        Cookie: 'session=secret',
        'User-Agent': 'agent-under-test',
      },
    );
    expect(lines).toHaveLength(1);
    const entry = parse(lines)[0] ?? {};
    expect(Object.keys(entry).sort()).toEqual(ACCESS_LOG_MEMBERS);
    expect(entry).toMatchObject({
      level: 'info',
      message: 'request',
      method: 'GET',
      path: '/thing',
      status: 200,
      request_id: id,
      api_key_id: 42,
    });
    expect(entry['duration_ms']).toBeGreaterThanOrEqual(0);
    expect(lines[0]).not.toMatch(/secret|a@b|agent-under-test/);
  });

  it('logs a 500 at info like any other request, without the error (the problem handler logs that)', async () => {
    const lines: string[] = [];
    await call(
      createLogger('info', (_l, line) => lines.push(line)),
      '/boom',
    );
    const entry = parse(lines).find((e) => e['message'] === 'request');
    expect(entry).toMatchObject({ level: 'info', path: '/boom', status: 500 });
    expect(entry).not.toHaveProperty('err');
    expect(entry).not.toHaveProperty('error');
  });

  it('is quiet at LOG_LEVEL above info', async () => {
    const lines: string[] = [];
    await call(
      createLogger('warn', (_l, line) => lines.push(line)),
      '/thing',
    );
    expect(lines).toEqual([]);
  });

  it('works with a Logger that createLogger did not make', async () => {
    const received: [string, Record<string, unknown> | undefined][] = [];
    const foreign: Logger = {
      debug: () => {},
      info: (message, fields) => received.push([message, fields]),
      warn: () => {},
      error: () => {},
    };
    const id = await call(foreign, '/thing?x=1');
    expect(received).toEqual([
      ['request', expect.objectContaining({ request_id: id, method: 'GET', path: '/thing', status: 200 })],
    ]);
  });
});
