/**
 * Fail closed: every spelling of every operation's path that a client or an attacker could send —
 * upper/mixed case, doubled and trailing slashes, percent-encoded letters and slashes, dot segments,
 * the absolute form, HEAD — is either refused by the router or reaches the operation with the role it
 * demands. Requests are written raw (node:http sends the path as given; fetch would normalise it first).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  listOperations,
  loadBundledSpec,
  type OperationRoute,
  type RequiredRole,
} from '../../src/contract.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import { rawRequest as sendRaw } from '../support/raw-http.ts';

const operations = listOperations(loadBundledSpec());

interface RawResponse {
  status: number;
  body: { detail?: string; error_type?: string };
}

/** One request with the request target exactly as given, its problem body parsed. */
async function rawRequest(
  baseUrl: string,
  method: string,
  target: string,
  key: string | undefined,
  body?: string,
): Promise<RawResponse> {
  const response = await sendRaw(baseUrl, {
    method,
    target,
    headers: {
      ...(key === undefined ? {} : { 'X-API-Key': key }),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body }),
  });
  return {
    status: response.status,
    body: response.text === '' ? {} : (JSON.parse(response.text) as RawResponse['body']),
  };
}

const pct = (char: string) => '%' + char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0');

/** Every spelling of `path` (a concrete path, ids filled in) worth trying. */
function variants(path: string, origin: string): string[] {
  const segments = path.split('/').slice(1);
  const literalAt = segments.flatMap((segment, i) => (/^[a-z]/i.test(segment) ? [i] : []));
  const withSegment = (i: number, replace: (segment: string) => string) =>
    '/' + segments.map((segment, j) => (j === i ? replace(segment) : segment)).join('/');
  const found = new Set<string>([
    path.toUpperCase(),
    '/' + segments.map((s) => s.charAt(0).toUpperCase() + s.slice(1)).join('/'),
    `${path}/`,
    `${path}//`,
    `/${path}`,
    `${path}/.`,
    `${path}/..`,
    path.replace(/\/$/, '') + '?x=1',
    `${origin}${path}`,
  ]);
  for (const i of literalAt) {
    found.add(withSegment(i, (s) => s.toUpperCase()));
    found.add(withSegment(i, (s) => pct(s.charAt(0)) + s.slice(1)));
    found.add(withSegment(i, (s) => pct(s.charAt(0)).toLowerCase() + s.slice(1)));
    found.add(withSegment(i, (s) => `./${s}`));
    found.add(withSegment(i, (s) => `x/../${s}`));
    found.add(withSegment(i, (s) => `%2e%2e/${s}`));
    found.add(withSegment(i, (s) => `/${s}`));
  }
  for (let i = 1; i < segments.length; i++) {
    const before = '/' + segments.slice(0, i).join('/');
    const after = segments.slice(i).join('/');
    found.add(`${before}%2F${after}`);
    found.add(`${before}%2f${after}`);
  }
  return [...found];
}

const RANK: Record<RequiredRole | 'anonymous' | 'user', number> = {
  none: 0,
  anonymous: 0,
  any: 1,
  user: 1,
  admin: 2,
};

/** A refusal before any handler ran: the key check, or the router finding no operation. */
function refusedBeforeHandler(response: RawResponse): boolean {
  const { status, body } = response;
  if (status === 401 || status === 403 || status === 405) return true;
  if (status === 404) return /^No route for /.test(body.detail ?? '');
  if (status === 400) return /percent-encoding/.test(body.detail ?? '');
  return false;
}

describe('every path spelling of every operation is refused or needs the operation’s role', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  const protectedOperations = operations.filter((operation) => operation.requiredRole !== 'none');

  it.each(protectedOperations.map((operation) => [operation.operationId, operation] as const))(
    '%s',
    async (_id, operation: OperationRoute) => {
      const path = operation.path.replace(/\{[^}]+\}/g, '1');
      const method = operation.method.toUpperCase();
      const body = ['post', 'put', 'patch'].includes(operation.method)
        ? '{"name":"x","role":"admin"}'
        : undefined;
      const spellings = variants(path, server.baseUrl);
      const methods = method === 'GET' ? ['GET', 'HEAD'] : [method];
      const callers = [
        ['anonymous', undefined],
        ['user', server.userKey],
      ] as const;
      let checked = 0;
      for (const [caller, key] of callers) {
        if (RANK[caller] >= RANK[operation.requiredRole]) continue;
        for (const verb of methods) {
          for (const target of spellings) {
            const response = await rawRequest(
              server.baseUrl,
              verb,
              target,
              key,
              verb === 'HEAD' ? undefined : body,
            );
            // HEAD responses have no body to read the detail from: only the key check may answer them.
            const refused =
              verb === 'HEAD'
                ? [401, 403, 404, 405].includes(response.status)
                : refusedBeforeHandler(response);
            expect(
              refused,
              `${caller} ${verb} ${target} → ${response.status} ${JSON.stringify(response.body)}`,
            ).toBe(true);
            checked++;
          }
        }
      }
      expect(checked).toBeGreaterThan(10);

      // Not vacuous: the spellings that do route reach the key check of this very operation.
      for (const target of [path, `${path}/`, `${path}//`, `${server.baseUrl}${path}`]) {
        const anonymous = await rawRequest(server.baseUrl, method, target, undefined, body);
        expect(anonymous.status, `anonymous ${method} ${target}`).toBe(401);
        if (operation.requiredRole === 'admin') {
          const asUser = await rawRequest(server.baseUrl, method, target, server.userKey, body);
          expect(asUser.status, `user ${method} ${target}`).toBe(403);
        }
      }
    },
  );

  it('mints no key without one: the reported attack and its spellings', async () => {
    const body = JSON.stringify({ name: 'x', role: 'admin' });
    for (const target of ['/API/v1/api-keys', '/Api/v1/api-keys', '/api/v1/API-keys', '/api/V1/api-keys']) {
      expect((await rawRequest(server.baseUrl, 'POST', target, undefined, body)).status, target).toBe(404);
      expect((await rawRequest(server.baseUrl, 'GET', target, server.userKey)).status, target).toBe(404);
    }
    expect((await rawRequest(server.baseUrl, 'POST', '/api/v1/api-keys/', undefined, body)).status).toBe(401);
    const listed = await server.request('/api/v1/api-keys?size=100');
    const names = ((await listed.json()) as { items: { name: string }[] }).items.map((key) => key.name);
    expect(names).toEqual(['Test admin', 'Test robot']);
  });
});
