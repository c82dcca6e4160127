import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createContainer, type Container } from '../../src/container.ts';
import { loadBundledSpec } from '../../src/contract.ts';
import { createLogger } from '../../src/logger.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

/**
 * With VALIDATE_RESPONSES=fail (tests, and the default) a response that breaks the contract never reaches
 * the client: it becomes a 500 problem and is logged. Simulated with a spec whose ServiceInfo demands a
 * member the handler does not send.
 */
describe('response validation', () => {
  let database: TestDatabase;
  let container: Container;
  let baseUrl: string;
  let close: () => Promise<void>;
  const logged: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    container = await createContainer(
      loadConfig({ DATABASE_URL: database.url, VALIDATE_RESPONSES: 'fail' }),
      {
        logger: createLogger('error', (_level, line) => logged.push(line)),
      },
    );
    const spec = loadBundledSpec();
    const schemas = (
      spec['components'] as { schemas: Record<string, { required: string[]; properties: object }> }
    ).schemas;
    const serviceInfo = schemas['ServiceInfo'];
    if (serviceInfo === undefined) throw new Error('ServiceInfo schema missing');
    serviceInfo.required.push('uptime_budget');
    serviceInfo.properties = { ...serviceInfo.properties, uptime_budget: { type: 'integer' } };
    const server = createApp(container, spec).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  });
  afterAll(async () => {
    await close?.();
    await container?.close();
    await database?.dispose();
  });

  it('turns a response that breaks the contract into a 500 problem and logs it', async () => {
    const response = await fetch(`${baseUrl}/`);
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await response.json()) as { error_type: string; detail: string; request_id: string };
    expect(problem.error_type).toBe('internal_error');
    expect(problem.detail).not.toContain('uptime_budget');
    const entry = logged
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((e) => e['request_id'] === problem.request_id);
    expect(entry?.['message']).toBe('response broke the contract');
    expect(JSON.stringify(entry)).toContain('uptime_budget');
  });
});
