import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOperations, loadBundledSpec, matchOperation, type OperationRoute } from '../../src/contract.ts';
import { createHandlers } from '../../src/routes/index.ts';
import { startTestServer, type TestServer } from '../support/app.ts';

const spec = loadBundledSpec();
const operations = listOperations(spec);

/** A concrete URL for an operation: every path parameter set to an id that does not exist. */
function urlOf(operation: OperationRoute, trailingSlash = false): string {
  const path = operation.path.replace(/\{[^}]+\}/g, '987654');
  return trailingSlash && path !== '/' ? `${path}/` : path;
}

/** The bodies the router answers when nothing is routed (validator 404/405, app fallback 404). */
function isUnrouted(status: number, body: { detail?: string }): boolean {
  return status === 405 || (status === 404 && /^No (such endpoint|route for)/.test(body.detail ?? ''));
}

describe('the contract and the router', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('resolves every concrete path to its own operation (the role check relies on it)', () => {
    for (const operation of operations) {
      const resolved = matchOperation(operations, operation.method.toUpperCase(), urlOf(operation));
      expect(
        resolved.kind === 'operation' ? resolved.route.operationId : resolved.kind,
        urlOf(operation),
      ).toBe(operation.operationId);
    }
  });

  it('has one handler per spec operation and no handler without an operation', () => {
    const handlerIds = Object.keys(createHandlers(server.container)).sort();
    expect(handlerIds).toEqual(operations.map((operation) => operation.operationId).sort());
    expect(operations.length).toBeGreaterThanOrEqual(48);
  });

  it.each(
    operations.map(
      (operation) => [`${operation.method.toUpperCase()} ${operation.path}`, operation] as const,
    ),
  )('routes %s, with and without a trailing slash', async (_name, operation) => {
    for (const trailingSlash of [false, true]) {
      const response = await server.request(urlOf(operation, trailingSlash), {
        method: operation.method.toUpperCase(),
        ...(['post', 'put', 'patch'].includes(operation.method)
          ? { body: '{}', headers: { 'Content-Type': 'application/json' } }
          : {}),
      });
      const text = await response.text();
      const body = text === '' ? {} : (JSON.parse(text) as { detail?: string });
      expect(isUnrouted(response.status, body), `${response.status} ${text}`).toBe(false);
      // A placeholder names its operation: proves the request reached this operation's handler.
      if (response.status === 501) expect(body.detail).toContain(operation.operationId);
      if (response.status >= 400) {
        expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      }
    }
  });

  it('ignores query parameters the contract does not declare, as the original did (include_deleted=false)', async () => {
    const response = await server.request('/api/v1/auth/verify/?include_deleted=false&foo=bar');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'valid' });
  });

  it('still validates the declared query parameters next to unknown ones', async () => {
    const response = await server.request('/api/v1/processes?include_deleted=false&size=0');
    expect(response.status).toBe(422);
  });

  it('answers HEAD like GET, without a body', async () => {
    const health = await fetch(`${server.baseUrl}/health`, { method: 'HEAD' });
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('');
    const verify = await server.request('/api/v1/auth/verify', { method: 'HEAD' });
    expect(verify.status).toBe(200);
    expect(verify.headers.get('content-type')).toMatch(/^application\/json/);
    const anonymous = await fetch(`${server.baseUrl}/api/v1/auth/verify`, { method: 'HEAD' });
    expect(anonymous.status).toBe(401);
  });

  it('answers an undocumented path with a 404 problem', async () => {
    const response = await server.request('/api/v1/no-such-thing');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(isUnrouted(response.status, (await response.json()) as { detail?: string })).toBe(true);
  });

  it('answers an undocumented method on a documented path with 405', async () => {
    const response = await server.request('/api/v1/processes', { method: 'PUT' });
    expect(response.status).toBe(405);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('takes a concrete path for its own resource, not for a template it also fits (/runs/search is not /runs/{id})', async () => {
    const routes = listOperations(loadBundledSpec());
    expect(matchOperation(routes, 'delete', '/api/v1/runs/search')).toEqual({
      kind: 'method_not_allowed',
      allowed: ['GET'],
    });
    for (const method of ['DELETE', 'OPTIONS', 'PATCH']) {
      const response = await server.request('/api/v1/runs/search?q=x', { method });
      expect(response.status, method).toBe(405);
      expect(response.headers.get('allow'), method).toBe('GET');
    }
    const run = matchOperation(routes, 'delete', '/api/v1/runs/42');
    expect(run.kind === 'operation' ? run.route.operationId : run.kind).toBe('deleteRun');
  });
});
