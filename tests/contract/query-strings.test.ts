/**
 * Query strings as real clients write them: hand-typed curl and the seed's examples send reserved
 * characters unencoded (`meta_filter=department:Sales`), Python `requests`, `urlencode` and HTML forms
 * send a space as `+` and encode the rest. Every free-text query parameter of every operation must take
 * all of these spellings: the contract marks every query parameter `allowReserved`, and the server agrees.
 * Sent as raw request lines (the SDK would percent-encode everything and hide the problem).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundledSpec } from '../../src/contract.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import { rawRequest } from '../support/raw-http.ts';

type Node = Record<string, unknown>;
const spec = loadBundledSpec() as unknown as Node;
const resolve = (node: unknown): Node => {
  let current = node as Node;
  while (typeof current['$ref'] === 'string') {
    current = current['$ref']
      .slice(2)
      .split('/')
      .reduce<unknown>((parent, key) => (parent as Node)[key], spec) as Node;
  }
  return current;
};

interface QueryParameter {
  name: string;
  allowReserved?: boolean;
  schema: Node;
}

const operations = Object.entries(spec['paths'] as Record<string, Node>).flatMap(([path, item]) =>
  (['get', 'post', 'put', 'patch', 'delete'] as const).flatMap((method) => {
    const operation = item[method] as Node | undefined;
    if (operation === undefined) return [];
    const query = [
      ...((item['parameters'] as unknown[]) ?? []),
      ...((operation['parameters'] as unknown[]) ?? []),
    ]
      .map((parameter) => resolve(parameter))
      .filter((parameter) => parameter['in'] === 'query') as unknown as QueryParameter[];
    return [{ path, method, operationId: operation['operationId'] as string, query }];
  }),
);

/** Free text: a string (or array of strings) the contract does not restrict beyond "no NUL". */
function isFreeText(parameter: QueryParameter): boolean {
  const schema = resolve(parameter.schema);
  const item = schema['type'] === 'array' ? resolve(schema['items']) : schema;
  const types = Array.isArray(item['type']) ? (item['type'] as string[]) : [item['type']];
  return types.includes('string') && item['pattern'] === '^[^\\u0000]*$';
}

/**
 * Free-text parameters whose value has a documented shape get it in front of every spelling, so a 400 here
 * can only come from decoding: `meta_filter` is `field:value` (without `:` it is a documented 400).
 */
const FORMAT_PREFIX: Readonly<Record<string, string>> = { meta_filter: 'felt:' };

/** The spellings of one value, as different clients send it. */
const SPELLINGS = [
  'Jens+Hansen', // form encoding of "Jens Hansen"
  'department:Sales', // the seed's example, typed by hand
  'a,b/c@d:e;f=g$h!i*j(k)l~m', // reserved and unreserved characters unencoded
  'department%3ASales%2C+%C3%86blegard', // Python requests / urlencode (quote_plus)
  '%C3%86blegård%20%F0%9F%A4%96'.replace('å', '%C3%A5'), // a browser: UTF-8 percent-encoded, %20 for space
];

describe('query strings as clients write them', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers raw non-ASCII bytes in the request line (not valid HTTP) with a 400 problem saying what to do', async () => {
    const response = await rawRequest(server.baseUrl, {
      target: '/api/v1/runs?entity_name=Æblegård',
      headers: { 'X-API-Key': server.adminKey },
    });
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toBe('application/problem+json');
    const problem = JSON.parse(response.text) as { error_type: string; detail: string };
    expect(problem.error_type).toBe('bad_request');
    expect(problem.detail).toMatch(/percent-encode/);
  });

  it('keeps a parameter repeated many times a list (status 40 times, meta_filter 50 times, as the contract allows)', async () => {
    const statuses = Array.from({ length: 40 }, (_, i) => `status=${['failed', 'running'][i % 2]}`);
    const filters = Array.from({ length: 50 }, (_, i) => `meta_filter=felt${i}:v${i}`);
    for (const query of [statuses.join('&'), filters.join('&'), [...statuses, ...filters].join('&')]) {
      const response = await rawRequest(server.baseUrl, {
        target: `/api/v1/runs?${query}`,
        headers: { 'X-API-Key': server.adminKey },
      });
      expect(response.status, response.text).toBe(200);
    }
  });

  it('marks every query parameter of the contract allowReserved', () => {
    const missing = operations.flatMap(({ operationId, query }) =>
      query.filter((parameter) => parameter.allowReserved !== true).map((p) => `${operationId} ${p.name}`),
    );
    expect(missing).toEqual([]);
  });

  const withFreeText = operations.filter(({ query }) => query.some(isFreeText));
  it('has operations with free-text query parameters to check', () => {
    expect(withFreeText.map(({ operationId }) => operationId)).toEqual(
      expect.arrayContaining(['listRuns', 'searchRuns', 'listAuditLogs']),
    );
  });

  it.each(withFreeText.map((operation) => [operation.operationId, operation] as const))(
    '%s takes every spelling in every free-text parameter',
    async (_id, { path, method, query }) => {
      const target = path.replace(/\{[^}]+\}/g, '1');
      for (const parameter of query.filter(isFreeText)) {
        for (const spelling of SPELLINGS) {
          const value = `${FORMAT_PREFIX[parameter.name] ?? ''}${spelling}`;
          const response = await rawRequest(server.baseUrl, {
            method: method.toUpperCase(),
            target: `${target}?${parameter.name}=${value}`,
            headers: { 'X-API-Key': server.adminKey, 'Content-Type': 'application/json' },
            ...(['post', 'put', 'patch'].includes(method) ? { body: '{}' } : {}),
          });
          const problem = response.text.startsWith('{') ? (JSON.parse(response.text) as Node) : {};
          const queryErrors = ((problem['errors'] as Node[] | undefined) ?? []).filter(
            (error) => error['location'] === 'query',
          );
          expect(queryErrors, `${parameter.name}=${value} → ${response.status} ${response.text}`).toEqual([]);
          expect(response.status, `${parameter.name}=${value}`).not.toBe(400);
        }
      }
    },
  );
});
