/**
 * What a client sends — path and query parameters, request-body members at any depth — is bounded by the
 * contract, so the validator (and Prism, and Schemathesis) refuse it with 422 before a database does:
 * - every integer has a maximum (ids are 32-bit on PostgreSQL and SQL Server; SQLite refuses integers
 *   beyond 64 bits);
 * - every string has a pattern, enum, const or format that excludes U+0000, and every free-form object
 *   constrains its member names the same way (PostgreSQL cannot store NUL in text or jsonb).
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

const NUL_FREE = '^[^\\u0000]*$';

/** An anchored pattern that refuses NUL: the contract's NUL_FREE, or a stricter one (e.g. `order_by`'s). */
function excludesNul(pattern: unknown): boolean {
  if (typeof pattern !== 'string') return false;
  if (pattern === NUL_FREE) return true;
  return (
    pattern.startsWith('^') &&
    pattern.endsWith('$') &&
    !pattern.includes('\\u0000') &&
    !new RegExp(pattern, 'u').test('\u0000')
  );
}

/** Locations of unbounded integers and of text that may hold NUL, reachable from `schema`. */
function unbounded(schema: unknown, where: string, seen = new Set<Node>()): string[] {
  const node = resolve(schema);
  if (node === undefined || seen.has(node)) return [];
  seen.add(node);
  const types = Array.isArray(node['type']) ? (node['type'] as string[]) : [node['type']];
  const found =
    types.includes('integer') && node['maximum'] === undefined ? [`${where} (integer without maximum)`] : [];
  const textRule =
    excludesNul(node['pattern']) ||
    node['enum'] !== undefined ||
    node['const'] !== undefined ||
    node['format'] === 'date-time';
  if (types.includes('string') && !textRule) found.push(`${where} (string that may hold NUL)`);
  const names = node['propertyNames'] as Node | undefined;
  // Objects whose unknown members are dropped unread (x-unknown-members: ignored) store no unknown names.
  const closed = node['additionalProperties'] === false || node['x-unknown-members'] === 'ignored';
  if (types.includes('object') && !closed && names?.['pattern'] !== NUL_FREE) {
    found.push(`${where} (member names that may hold NUL)`);
  }
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

describe('the contract bounds every integer and keeps NUL out of every text a client sends', () => {
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
