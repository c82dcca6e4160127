/**
 * Every integer a client sends — path and query parameters, request-body members at any depth — has a
 * maximum in the contract, so an out-of-range number is a 422 from the validator, never a database error
 * (ids are 32-bit on PostgreSQL and SQL Server; SQLite refuses integers beyond 64 bits).
 */
import { describe, expect, it } from 'vitest';
import { loadBundledSpec } from '../../src/contract.ts';

type Node = Record<string, unknown> & { $ref?: string };
const spec = loadBundledSpec() as unknown as Node;

function resolve(node: unknown): Node | undefined {
  let current = node as Node | undefined;
  while (current?.$ref !== undefined) {
    current = current.$ref
      .slice(2)
      .split('/')
      .reduce<unknown>(
        (parent, key) => (parent as Node)[key.replaceAll('~1', '/').replaceAll('~0', '~')],
        spec,
      ) as Node;
  }
  return current;
}

/** Locations of integer schemas without a maximum, reachable from `schema`. */
function unbounded(schema: unknown, where: string, seen = new Set<Node>()): string[] {
  const node = resolve(schema);
  if (node === undefined || seen.has(node)) return [];
  seen.add(node);
  const types = Array.isArray(node['type']) ? (node['type'] as string[]) : [node['type']];
  const found = types.includes('integer') && node['maximum'] === undefined ? [where] : [];
  for (const [name, child] of Object.entries(
    (node['properties'] as Record<string, unknown> | undefined) ?? {},
  )) {
    found.push(...unbounded(child, `${where}.${name}`, seen));
  }
  if (node['items'] !== undefined) found.push(...unbounded(node['items'], `${where}[]`, seen));
  for (const combinator of ['allOf', 'anyOf', 'oneOf']) {
    for (const member of (node[combinator] as unknown[] | undefined) ?? [])
      found.push(...unbounded(member, where, seen));
  }
  if (typeof node['additionalProperties'] === 'object') {
    found.push(...unbounded(node['additionalProperties'], `${where}.*`, seen));
  }
  return found;
}

describe('the contract bounds every integer a client sends', () => {
  const operations = Object.entries(spec['paths'] as Record<string, Node>).flatMap(([, item]) =>
    (['get', 'post', 'put', 'patch', 'delete'] as const).flatMap((method) => {
      const operation = item[method] as Node | undefined;
      return operation === undefined ? [] : [{ item, operation }];
    }),
  );

  it('has operations to check', () => {
    expect(operations.length).toBeGreaterThanOrEqual(48);
  });

  it.each(
    operations.map(({ item, operation }) => [operation['operationId'] as string, item, operation] as const),
  )('%s', (operationId, item, operation) => {
    const parameters = [
      ...((item['parameters'] as unknown[]) ?? []),
      ...((operation['parameters'] as unknown[]) ?? []),
    ];
    const found = parameters.flatMap((parameter) => {
      const resolved = resolve(parameter);
      return unbounded(
        resolved?.['schema'],
        `${operationId} ${String(resolved?.['in'])}:${String(resolved?.['name'])}`,
      );
    });
    const body = resolve(operation['requestBody']);
    const content = body?.['content'] as Record<string, Node> | undefined;
    for (const [mediaType, media] of Object.entries(content ?? {})) {
      found.push(...unbounded(media['schema'], `${operationId} body(${mediaType})`));
    }
    expect(found).toEqual([]);
  });
});
