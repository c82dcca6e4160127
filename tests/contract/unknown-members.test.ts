/**
 * Bodies with members the contract does not name are accepted and those members ignored (REQUIREMENTS
 * §1): older and newer clients keep working, and server-owned members sent in a body — ids, hashes,
 * counters, timestamps — never take effect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundledSpec } from '../../src/contract.ts';
import { startTestServer, type TestServer } from '../support/app.ts';

type Node = Record<string, unknown>;
const spec = loadBundledSpec() as unknown as Node;

interface ShownKey {
  id: number;
  name: string;
  key_prefix: string;
  usage_count: number;
  created_at: string;
  role: string;
}

describe('unknown body members', () => {
  let server: TestServer;
  const send = (method: string, path: string, body: unknown) =>
    server.request(path, {
      method,
      body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json' },
    });
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('marks every request-body object schema as ignoring unknown members, none as refusing them', () => {
    const schemas = (spec['components'] as { schemas: Record<string, Node> }).schemas;
    const bodies = Object.values(spec['paths'] as Record<string, Node>).flatMap((item) =>
      (['post', 'put', 'patch'] as const).flatMap((method) => {
        const body = (item[method] as Node | undefined)?.['requestBody'] as Node | undefined;
        const content = body?.['content'] as Record<string, { schema: { $ref?: string } }> | undefined;
        const ref = content?.['application/json']?.schema.$ref;
        return ref === undefined ? [] : [ref.split('/').pop() ?? ''];
      }),
    );
    expect(bodies.length).toBeGreaterThanOrEqual(11);
    for (const name of bodies) {
      expect(schemas[name]?.['x-unknown-members'], name).toBe('ignored');
      expect(schemas[name]?.['additionalProperties'], name).toBeUndefined();
    }
  });

  it('creates a key from a body with unknown and server-owned members, ignoring them', async () => {
    const response = await send('POST', '/api/v1/api-keys', {
      name: 'Robot with extras',
      client_version: '2.4.1',
      id: 999_999,
      key: 'pd_' + 'x'.repeat(43),
      key_hash: 'not-a-hash',
      key_prefix: 'pd_hack1',
      usage_count: 42,
      created_at: '2000-01-01T00:00:00Z',
    });
    expect(response.status).toBe(201);
    const created = (await response.json()) as ShownKey & { key: string };
    expect(created).toMatchObject({ name: 'Robot with extras', usage_count: 0 });
    expect(created.id).not.toBe(999_999);
    expect(created.key).not.toBe('pd_' + 'x'.repeat(43));
    expect(created.key_prefix).toBe(created.key.slice(0, 8));
    expect(new Date(created.created_at).getFullYear()).toBeGreaterThan(2020);
    expect(created).not.toHaveProperty('client_version');
    // The key works: its stored hash is the real one.
    const verify = await fetch(`${server.baseUrl}/api/v1/auth/verify`, {
      headers: { 'X-API-Key': created.key },
    });
    expect(verify.status).toBe(200);
  });

  it('updates only the named members; server-owned ones in the body change nothing', async () => {
    const created = (await (
      await send('POST', '/api/v1/api-keys', { name: 'Before' })
    ).json()) as ShownKey & {
      key: string;
    };
    const response = await send('PATCH', `/api/v1/api-keys/${created.id}`, {
      name: 'After',
      id: 1,
      key_hash: 'x',
      key_prefix: 'pd_hack2',
      usage_count: 1000,
      created_at: '2000-01-01T00:00:00Z',
      updated_by: 'someone',
    });
    expect(response.status).toBe(200);
    const shown = (await (await server.request(`/api/v1/api-keys/${created.id}`)).json()) as ShownKey;
    expect(shown).toMatchObject({
      id: created.id,
      name: 'After',
      key_prefix: created.key_prefix,
      usage_count: 0,
      created_at: created.created_at,
    });
    const verify = await fetch(`${server.baseUrl}/api/v1/auth/verify`, {
      headers: { 'X-API-Key': created.key },
    });
    expect(verify.status).toBe(200);
  });

  it('still validates the members it names', async () => {
    const response = await send('POST', '/api/v1/api-keys', { name: 'x', role: 'superuser', extra: true });
    expect(response.status).toBe(422);
  });
});
