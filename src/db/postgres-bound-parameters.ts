/**
 * PostgreSQL: values bound as parameters, and the statements of the robots' calls prepared once per
 * connection.
 *
 * MikroORM writes every value into the SQL it sends (`… where id = 4711`), so PostgreSQL parses, analyses
 * and plans every statement anew: a new run is about ten statements, and that work was most of the
 * server's CPU per call (`pgbench` on this machine, a step-run lookup at a million runs: 10,500 per second
 * as literal text, 10,800 with bound values, 24,500 as a prepared statement). Here the text keeps its
 * placeholders (`$1`, `$2`, … for MikroORM's `?`) and the values go beside it, as the text of the literal
 * MikroORM would have written; PostgreSQL infers their types from where they stand, as it does for a quoted
 * literal. What cannot be bound that way (lists expanded into `in (…)`, objects, buffers, a `??`
 * identifier, a `?` in a string or a comment, a text with `$` parameters, a backslash or a comment) keeps
 * MikroORM's path.
 *
 * A bound statement is then prepared on its connection under a name of its text (`pg`'s named
 * statements: parsed once per connection, and after five runs PostgreSQL may keep a generic plan), unless
 * its plan may depend on its values: pages, counts and aggregates (`limit`, `offset`, `fetch`, `count(`,
 * `group by`) and text matches (`like`) are planned at every call, as before. At most
 * `MAX_PREPARED_TEXTS` texts get a name; the rest run unnamed. A prepared `select *` fails once its table
 * gains or loses a column ("cached plan must not change result type"): after a migration, restart every
 * server on the database (each server migrates when it starts, before it serves).
 */
import type { Configuration } from '@mikro-orm/core';
import {
  AbstractSqlDriver,
  MikroORM as PostgreSqlMikroORM,
  PostgreSqlConnection,
  PostgreSqlPlatform,
} from '@mikro-orm/postgresql';
import { placeholderOffsets, withBoundParameters } from './bound-connection.ts';

/** How many distinct statement texts are prepared under a name (per server process). */
export const MAX_PREPARED_TEXTS = 500;

/** Statements whose plan may depend on their values: planned at every call. */
const PLANNED_EACH_TIME = /\b(?:limit|offset|fetch|group\s+by|like|ilike)\b|\bcount\s*\(/i;

/** A bound value: its text, and the cast that gives it the type PostgreSQL gives the literal. */
interface BoundText {
  text: string | null;
  cast: string;
}

const INT4 = 2 ** 31;
const INT8 = 2n ** 63n;

/** The type PostgreSQL gives an integer literal: integer, else bigint, else numeric. */
function integerCast(value: bigint): string {
  if (value >= -INT4 && value < INT4) return '::int4';
  return value >= -INT8 && value < INT8 ? '::int8' : '::numeric';
}

/**
 * `value` as the literal MikroORM would write, or undefined when there is none. A quoted literal (a string,
 * a time) and `null` are of unknown type, typed by where they stand, and so is a parameter without a cast;
 * a number or a boolean literal has its own type (an integer is `integer` when it fits, else `bigint`, a
 * fraction `numeric`), which the cast keeps: `duration_ms_sum + 16700075288` stays a bigint sum.
 */
function boundText(value: unknown, formatDate: (date: Date) => string): BoundText | undefined {
  switch (typeof value) {
    case 'string':
      return { text: value, cast: '' };
    case 'number':
      if (!Number.isFinite(value)) return undefined;
      return Number.isSafeInteger(value)
        ? { text: String(value), cast: integerCast(BigInt(value)) }
        : { text: String(value), cast: '::numeric' };
    case 'bigint':
      return { text: value.toString(), cast: integerCast(value) };
    case 'boolean':
      return { text: value ? 'true' : 'false', cast: '::boolean' };
    case 'undefined':
      return { text: null, cast: '' };
    case 'object':
      if (value === null) return { text: null, cast: '' };
      if (value instanceof Date && !Number.isNaN(value.getTime()))
        return { text: formatDate(value), cast: '' };
      return undefined;
    default:
      return undefined;
  }
}

/**
 * `sql` with `$1`, `$2`, … for its `?` placeholders and the values to bind, or undefined when the query
 * must keep MikroORM's path (see above).
 */
export function numberedParameters(
  sql: string,
  params: readonly unknown[],
  formatDate: (date: Date) => string,
): { sql: string; values: (string | null)[] } | undefined {
  if (/\$|\\/.test(sql)) return undefined;
  const offsets = placeholderOffsets(sql);
  if (offsets === undefined || offsets.length !== params.length) return undefined;
  const bound: BoundText[] = [];
  for (const param of params) {
    const value = boundText(param, formatDate);
    if (value === undefined) return undefined;
    bound.push(value);
  }
  let numbered = '';
  let from = 0;
  offsets.forEach((offset, index) => {
    numbered += `${sql.slice(from, offset)}$${index + 1}${bound[index]!.cast}`;
    from = offset + 1;
  });
  const values = bound.map((value) => value.text);
  return { sql: numbered + sql.slice(from), values };
}

const names = new Map<string, string>();

/** The name `text` is prepared under, or undefined when it runs unnamed (see above). */
export function preparedName(text: string): string | undefined {
  const known = names.get(text);
  if (known !== undefined) return known;
  if (names.size >= MAX_PREPARED_TEXTS || PLANNED_EACH_TIME.test(text)) return undefined;
  const name = `pd_${names.size + 1}`;
  names.set(text, name);
  return name;
}

/** What this file needs of a `pg` client and pool. */
interface PgClient {
  query(config: unknown, values?: unknown, callback?: unknown): unknown;
}
interface PgPool {
  on(event: 'connect', listener: (client: PgClient) => void): unknown;
}

/**
 * Has every connection of `pool` run a query with bound values as a named statement where `preparedName`
 * gives one (`pg` parses it on the connection the first time, then only binds and executes it).
 */
export function prepareNamedStatements(pool: PgPool): void {
  pool.on('connect', (client) => {
    const query = client.query.bind(client);
    client.query = (config: unknown, values?: unknown, callback?: unknown) => {
      if (typeof config === 'string' && Array.isArray(values) && values.length > 0) {
        const name = preparedName(config);
        if (name !== undefined) return query({ name, text: config, values }, callback);
      }
      return query(config, values, callback);
    };
  });
}

/** MikroORM's PostgreSQL connection, binding values where it can (see above). */
export class BoundParameterPostgreSqlConnection extends withBoundParameters(
  PostgreSqlConnection,
  (sql, params, platform) =>
    numberedParameters(sql, params, (date) => (platform as PostgreSqlPlatform).formatDate(date)),
) {}

/** MikroORM's PostgreSQL driver (`pg`) with the connection above. */
export class BoundParameterPostgreSqlDriver extends AbstractSqlDriver<
  BoundParameterPostgreSqlConnection,
  PostgreSqlPlatform
> {
  constructor(config: Configuration) {
    super(config, new PostgreSqlPlatform(), BoundParameterPostgreSqlConnection, ['kysely', 'pg']);
  }

  override getORMClass(): typeof PostgreSqlMikroORM {
    return PostgreSqlMikroORM;
  }
}
