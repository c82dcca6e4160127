/**
 * Values bound as parameters on SQLite instead of written into the SQL text.
 *
 * MikroORM writes every value into the SQL it sends (`Platform.formatQuery`: `… where id = 4711`), so the
 * text of a query differs with each id and date, SQLite parses and plans each one anew, and the statements
 * kept by sqlite-statement-cache.ts are found again only for queries whose values repeat. Here the text
 * keeps its `?` placeholders and the values go beside it: one statement per kind of query, prepared once.
 *
 * A value is bound as the SQL literal MikroORM would have written says: a safe integer or a boolean as an
 * INTEGER (a JavaScript number binds as REAL in better-sqlite3, and `cast(? as text)` would then read
 * `2.0`), another number as REAL, a string as TEXT, a Date as the stored UTC text (sqlite-utc-text.ts),
 * null as NULL. Anything else (arrays expanded into `in (…)` lists, objects, buffers, raw fragments, a
 * `??` identifier, a `?` inside a quoted string or a comment) keeps MikroORM's own path.
 *
 * The connection that uses it: `BoundParameterSqliteConnection` in sqlite-utc-text.ts.
 */
import { placeholderOffsets } from './bound-connection.ts';

export type Bound = string | number | bigint | null;

/** `value` as the parameter standing for the literal MikroORM would write; undefined when there is none. */
function boundValue(value: unknown, dateText: (date: Date) => string): Bound | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      if (Number.isSafeInteger(value)) return BigInt(value);
      return Number.isFinite(value) ? value : undefined;
    case 'bigint':
      // Beyond SQLite's 64-bit integers a literal reads as REAL, a bound bigint is refused.
      return BigInt.asIntN(64, value) === value ? value : undefined;
    case 'boolean':
      return value ? 1n : 0n;
    case 'undefined':
      return null;
    case 'object':
      if (value === null) return null;
      if (value instanceof Date && !Number.isNaN(value.getTime())) return dateText(value);
      return undefined;
    default:
      return undefined;
  }
}

/**
 * The parameters of `sql` for `params`, or undefined when the query must keep MikroORM's path: the
 * placeholders are every `?` outside quotes, each one alone, one per value, and no comment in the text.
 */
export function boundParameters(
  sql: string,
  params: readonly unknown[],
  dateText: (date: Date) => string,
): Bound[] | undefined {
  if (placeholderOffsets(sql)?.length !== params.length) return undefined;
  const bound: Bound[] = [];
  for (const param of params) {
    const value = boundValue(param, dateText);
    if (value === undefined) return undefined;
    bound.push(value);
  }
  return bound;
}
