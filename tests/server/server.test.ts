import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../support/app.ts';
import { testDialect } from '../support/database.ts';
import { someQueryWaitsForALock } from '../support/lock-waits.ts';
import { BOOTSTRAP_KEY_PATTERN, SERVER_ENTRY, freePort, spawnServer } from '../support/processes.ts';

describe('node src/server.ts (what make run starts)', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'pd-server-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('reads .env, migrates an empty SQLite database, prints an admin key once, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    writeFileSync(
      join(cwd, '.env'),
      `API_PORT=${port}\nDATABASE_URL=sqlite:data/api.sqlite\nLOG_LEVEL=info\n`,
    );

    const first = await spawnServer({ cwd, port });
    const [, key = ''] = await first.waitForOutput(BOOTSTRAP_KEY_PATTERN);
    expect(first.output()).toContain('applied migrations');
    const verify = await fetch(`${first.baseUrl}/api/v1/auth/verify`, { headers: { 'X-API-Key': key } });
    expect(verify.status).toBe(200);
    expect(await first.stop()).toBe(0);
    expect(first.output()).toContain('"message":"stopped"');

    const second = await spawnServer({ cwd, port });
    await second.waitForOutput(/"message":"listening"/);
    expect(second.output()).not.toMatch(BOOTSTRAP_KEY_PATTERN);
    expect(second.output()).not.toContain('applied migrations');
    const again = await fetch(`${second.baseUrl}/api/v1/auth/verify`, { headers: { 'X-API-Key': key } });
    expect(again.status).toBe(200);
    expect(await second.stop()).toBe(0);
    // Two real starts (migrations, an argon2 hash, the first after a source change strips TypeScript
    // again) alongside the rest of the suite on two cores: more than the default 30 s once.
  }, 90_000);

  it('refuses to start with an invalid configuration, naming the variable', async () => {
    const child = spawn(process.execPath, [SERVER_ENTRY], {
      cwd,
      env: { PATH: process.env['PATH'] ?? '', API_PORT: 'eighty', DATABASE_URL: 'sqlite::memory:' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/API_PORT must be an integer/);
  });
});

if (testDialect() === 'postgresql') {
  describe('node src/server.ts on PostgreSQL: SIGTERM', () => {
    it('lets a request whose client has gone finish before it closes the database', async () => {
      // A second server on the test server's database; a row lock held here keeps its request waiting.
      const setup = await startTestServer();
      const cwd = mkdtempSync(join(tmpdir(), 'pd-shutdown-'));
      try {
        const { id: processId } = await setup.json<{ id: number }>('POST', '/api/v1/processes', {
          name: 'Lukning',
        });
        await setup.json('POST', '/api/v1/steps', { process_id: processId, index: 0, name: 'Trin 0' });
        const port = await freePort();
        const server = await spawnServer({
          cwd,
          port,
          env: {
            API_PORT: String(port),
            DATABASE_URL: setup.container.config.databaseUrl,
            LOG_LEVEL: 'info',
            RATE_LIMITS: 'off',
            SHUTDOWN_TIMEOUT_MS: '20000',
          },
        });
        const em = setup.container.orm.em.fork() as SqlEntityManager;
        // A request answered before the signal: the shutdown must not wait for it.
        expect((await fetch(`${server.baseUrl}/health`)).status).toBe(200);
        let stopped: Promise<number | null> | undefined;
        await setup.container.orm.em.fork().transactional(async (tx) => {
          await (tx as SqlEntityManager).execute('update process set name = name where id = ?', [processId]);
          const body = JSON.stringify({ process_id: processId, entity_id: 'farvel' });
          const client = connect(port, '127.0.0.1');
          await once(client, 'connect');
          client.write(
            `POST /api/v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${setup.adminKey}\r\n` +
              `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
          );
          await someQueryWaitsForALock(em);
          // The client goes (a reset, not a polite close): its request waits on.
          client.resetAndDestroy();
          await once(client, 'close');
          stopped = server.stop();
          await sleep(500);
          expect(server.child.exitCode, 'exited while a request was running').toBeNull();
        });
        const released = Date.now();
        expect(await stopped).toBe(0);
        // Well before SHUTDOWN_TIMEOUT_MS (20 s): it waited for the request, not for the deadline.
        expect(Date.now() - released).toBeLessThan(10_000);
        expect(server.output()).toContain('"message":"stopped"');
        expect(server.output()).not.toContain('unhandled error');
        const [row] = await em.execute<{ runs: number | string }[]>(
          'select count(*) as runs from process_run where process_id = ?',
          [processId],
        );
        expect(Number(row?.runs)).toBe(1);
      } finally {
        rmSync(cwd, { recursive: true, force: true });
        await setup.close();
      }
    }, 90_000);
  });
}
