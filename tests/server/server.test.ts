import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const serverEntry = join(import.meta.dirname, '../../src/server.ts');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

interface Started {
  child: ChildProcess;
  output: () => string;
}

/** Starts `node src/server.ts` in `cwd` (which holds a .env) and waits for its "listening" log line. */
async function startServer(cwd: string, env: Record<string, string> = {}): Promise<Started> {
  let output = '';
  const child = spawn(process.execPath, [serverEntry], {
    cwd,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000);
    const poll = setInterval(() => {
      if (output.includes('"message":"listening"')) {
        clearTimeout(timer);
        clearInterval(poll);
        resolve();
      }
    }, 50);
    child.once('exit', (code) => {
      clearTimeout(timer);
      clearInterval(poll);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  return { child, output: () => output };
}

async function stop(started: Started): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => started.child.once('exit', (code) => resolve(code)));
  started.child.kill('SIGTERM');
  return exited;
}

describe('node src/server.ts (what make run starts)', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'pd-server-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('reads .env, migrates an empty SQLite database, prints an admin key once, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    writeFileSync(
      join(cwd, '.env'),
      `API_PORT=${port}\nDATABASE_URL=sqlite:data/api.sqlite\nLOG_LEVEL=info\n`,
    );

    const first = await startServer(cwd);
    const key = /X-API-Key: (pd_[A-Za-z0-9_-]{43})/.exec(first.output())?.[1];
    expect(key).toBeDefined();
    const verify = await fetch(`http://127.0.0.1:${port}/api/v1/auth/verify`, {
      headers: { 'X-API-Key': key ?? '' },
    });
    expect(verify.status).toBe(200);
    expect(await stop(first)).toBe(0);
    expect(first.output()).toContain('"message":"stopped"');

    const second = await startServer(cwd);
    expect(second.output()).not.toContain('X-API-Key: pd_');
    expect(second.output()).not.toContain('applied migrations');
    const again = await fetch(`http://127.0.0.1:${port}/api/v1/auth/verify`, {
      headers: { 'X-API-Key': key ?? '' },
    });
    expect(again.status).toBe(200);
    expect(await stop(second)).toBe(0);
  });

  it('refuses to start with an invalid configuration, naming the variable', async () => {
    const child = spawn(process.execPath, [serverEntry], {
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
