import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createContainer, type Container } from '../../src/container.ts';
import { loadBundledSpec } from '../../src/contract.ts';
import { createLogger } from '../../src/logger.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

/**
 * VALIDATE_RESPONSES decides what happens to a response that breaks the contract — simulated with a spec
 * whose ServiceInfo and ApiKeyCreated demand a member the handlers do not send:
 * - `fail` (tests, and the default): it never reaches the client; a 500 problem, and a log entry;
 * - `log`: the client gets it; the log says which operation broke the contract and how, never the body
 *   (a drifting create-key response would otherwise put a plaintext key in the logs);
 * - `off`: nothing is checked or logged.
 */
describe.each(['fail', 'log', 'off'] as const)('response validation, VALIDATE_RESPONSES=%s', (mode) => {
  let database: TestDatabase;
  let container: Container;
  let baseUrl: string;
  let adminKey: string;
  let close: () => Promise<void>;
  const logged: string[] = [];
  const entries = () => logged.map((line) => JSON.parse(line) as Record<string, unknown>);

  beforeAll(async () => {
    database = await createTestDatabase();
    container = await createContainer(loadConfig({ DATABASE_URL: database.url, VALIDATE_RESPONSES: mode }), {
      logger: createLogger('error', (_level, line) => logged.push(line)),
    });
    adminKey = (await container.apiKeys.create(container.orm.em.fork(), { name: 'admin', role: 'admin' }))
      .plaintext;
    const spec = loadBundledSpec();
    const schemas = (
      spec['components'] as { schemas: Record<string, { required: string[]; properties: object }> }
    ).schemas;
    for (const name of ['ServiceInfo', 'ApiKeyCreated']) {
      const schema = schemas[name];
      if (schema === undefined) throw new Error(`${name} schema missing`);
      schema.required.push('uptime_budget');
      schema.properties = { ...schema.properties, uptime_budget: { type: 'integer' } };
    }
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

  it('handles a response that breaks the contract as configured', async () => {
    const response = await fetch(`${baseUrl}/`);
    if (mode === 'fail') {
      expect(response.status).toBe(500);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = (await response.json()) as { error_type: string; detail: string; request_id: string };
      expect(problem.error_type).toBe('internal_error');
      expect(problem.detail).not.toContain('uptime_budget');
      const entry = entries().find((e) => e['request_id'] === problem.request_id);
      expect(entry?.['message']).toBe('response broke the contract');
      expect(JSON.stringify(entry)).toContain('uptime_budget');
      return;
    }
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'healthy' });
    const entry = entries().find((e) => e['message'] === 'response broke the contract');
    if (mode === 'off') {
      expect(entry).toBeUndefined();
      return;
    }
    expect(entry).toMatchObject({ method: 'GET', path: '/', status: 200, operation: 'getServiceInfo' });
    expect(JSON.stringify(entry)).toContain('uptime_budget');
    expect(JSON.stringify(entry)).not.toContain('"healthy"');
  });

  it('never logs the body of a drifting response, not even a new key', async () => {
    const response = await fetch(`${baseUrl}/api/v1/api-keys`, {
      method: 'POST',
      headers: { 'X-API-Key': adminKey, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'drift' }),
    });
    expect(response.status).toBe(mode === 'fail' ? 500 : 201);
    if (mode !== 'fail') {
      const { key } = (await response.json()) as { key: string };
      expect(key).toMatch(/^pd_/);
      expect(logged.join('\n')).not.toContain(key);
      expect(logged.join('\n')).not.toContain(key.slice(8));
    }
    if (mode === 'log') {
      expect(entries().find((e) => e['operation'] === 'createApiKey')).toMatchObject({ status: 201 });
    }
  });
});
