import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
