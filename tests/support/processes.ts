/**
 * Real processes for tests, the bench and the SDK smoke test: a free TCP port, and the API server started
 * with `npm start`'s command (node flags and src/start.js, what `make run` starts), waited for until it answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SERVER_ENTRY = join(import.meta.dirname, '../../src/start.js');

/**
 * The node flags of `npm start` (package.json is their one home), so spawned servers — the bench's
 * among them — run exactly as `make run` and the Dockerfile start them.
 */
export const SERVER_NODE_FLAGS: readonly string[] = (() => {
  const packageJson = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const [command, ...args] = packageJson.scripts.start.split(/\s+/);
  if (command !== 'node' || args.at(-1) !== 'src/start.js') {
    throw new Error(`unexpected start script: ${packageJson.scripts.start}`);
  }
  return args.slice(0, -1);
})();

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface SpawnedServer {
  child: ChildProcess;
  baseUrl: string;
  /** Everything the server wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the first match of `pattern` in the output (rejects after `timeoutMs`). */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts the server in `cwd` with only PATH and `env` in its environment (a `.env` in `cwd` is read by
 * the server itself) and resolves once `GET /health` on `port` answers.
 */
export async function spawnServer(options: {
  cwd: string;
  port: number;
  env?: Record<string, string>;
}): Promise<SpawnedServer> {
  let output = '';
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, SERVER_ENTRY], {
    cwd: options.cwd,
    env: { PATH: process.env['PATH'] ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const baseUrl = `http://127.0.0.1:${options.port}`;

  const waitForOutput = (pattern: RegExp, timeoutMs = 30_000) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const started = Date.now();
      const poll = setInterval(() => {
        const match = pattern.exec(output);
        if (match !== null) {
          clearInterval(poll);
          resolve(match);
        } else if (child.exitCode !== null || Date.now() - started > timeoutMs) {
          clearInterval(poll);
          reject(new Error(`no ${String(pattern)} in the server output:\n${output}`));
        }
      }, 25);
    });

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`server did not answer on ${baseUrl}:\n${output}`);
    const answered = await fetch(`${baseUrl}/health`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (answered) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    child,
    baseUrl,
    output: () => output,
    waitForOutput,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** The admin key a server prints on its first start on an empty database. */
export const BOOTSTRAP_KEY_PATTERN = /X-API-Key: (pd_[A-Za-z0-9_-]{43})/;
