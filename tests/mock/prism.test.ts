import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Configuration,
  MetaApi,
  ProcessesApi,
  RunsApi,
  ResponseError,
} from '../../generated/sdk/src/index.ts';
import { freePort } from '../support/processes.ts';

const root = join(import.meta.dirname, '../..');

/** `make mock` serves the bundled spec with Prism; front-end teams call it through the same SDK. */
describe('the Prism mock of the bundled spec', () => {
  let prism: ChildProcess;
  let baseUrl: string;
  beforeAll(async () => {
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    prism = spawn(
      join(root, 'node_modules/.bin/prism'),
      ['mock', '--host', '127.0.0.1', '--port', String(port), join(root, 'generated/openapi.json')],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`Prism did not start:\n${output}`)), 45_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Prism is listening')) {
          clearTimeout(timer);
          resolve();
        }
      };
      prism.stdout?.on('data', onData);
      prism.stderr?.on('data', onData);
      prism.once('exit', (code) => reject(new Error(`Prism exited with ${code}:\n${output}`)));
    });
  }, 60_000);
  afterAll(() => {
    prism?.kill('SIGTERM');
  });

  it('serves the example service info without a key', async () => {
    const info = await new MetaApi(new Configuration({ basePath: baseUrl })).getServiceInfo();
    expect(info.name).toBe('Process Dashboard API');
    expect(info.status).toBe('healthy');
  });

  it('serves a realistic page of processes to a caller with a key', async () => {
    const page = await new ProcessesApi(
      new Configuration({ basePath: baseUrl, apiKey: 'pd_mock' }),
    ).listProcesses({ page: 1, size: 50 });
    expect(page.items.length).toBeGreaterThan(0);
    expect(page.items[0]?.name).toMatch(/\S/);
    expect(page.total).toBeGreaterThanOrEqual(page.items.length);
  });

  it('serves a run with its step runs', async () => {
    const run = await new RunsApi(new Configuration({ basePath: baseUrl, apiKey: 'pd_mock' })).getRun({
      run_id: 42,
    });
    expect(run.steps.length).toBeGreaterThan(0);
    expect(['pending', 'running', 'completed', 'failed', 'cancelled']).toContain(run.status);
  });

  it('rejects a call without a key as the real API does', async () => {
    const error = await new ProcessesApi(new Configuration({ basePath: baseUrl }))
      .listProcesses()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ResponseError);
    expect((error as ResponseError).response.status).toBe(401);
  });
});
