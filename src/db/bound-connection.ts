/**
 * A MikroORM SQL connection that sends the values of a query beside its text instead of written into it
 * (MikroORM's `Platform.formatQuery` writes every value into the SQL, so no two texts of a kind are alike
 * and the database parses and plans each anew). Each dialect says how it binds: SQLite in
 * sqlite-bound-parameters.ts, PostgreSQL in postgres-bound-parameters.ts. What a dialect cannot bind keeps
 * MikroORM's own path, and so does a query with an abort signal (MikroORM's abort handling is on that path).
 */
import type { Platform, Transaction } from '@mikro-orm/core';
import type { AbstractSqlConnection } from '@mikro-orm/sql';
import { CompiledQuery } from 'kysely';

/**
 * The offsets of the `?` placeholders of `sql`, or undefined when the text must keep MikroORM's path (every
 * dialect's binder asks it): the placeholders are every `?` outside quotes, each one alone, and no comment
 * in the text.
 */
export function placeholderOffsets(sql: string): number[] | undefined {
  const offsets: number[] = [];
  let quote: string | undefined;
  for (let i = 0; i < sql.length; i++) {
    const char = sql[i]!;
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else if (char === '?') return undefined;
      continue;
    }
    if (char === "'" || char === '"' || char === '`') quote = char;
    else if (char === '?') {
      if (sql[i + 1] === '?' || /[0-9:@$a-z]/i.test(sql[i + 1] ?? '') || sql[i - 1] === '\\')
        return undefined;
      offsets.push(i);
    } else if ((char === '-' && sql[i + 1] === '-') || (char === '/' && sql[i + 1] === '*')) return undefined;
  }
  return quote === undefined ? offsets : undefined;
}

/** A query's text and values as the database is to get them, or undefined for MikroORM's path. */
export type Binder = (
  sql: string,
  params: readonly unknown[],
  platform: Platform,
) => { sql: string; values: unknown[] } | undefined;

// A mixin's base must be a constructor of any arguments (TS2545).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ConnectionClass = abstract new (...args: any[]) => AbstractSqlConnection;

/**
 * Whether a query may leave MikroORM's own path: a text with its values in an array, and no abort signal
 * or in-flight abort strategy (MikroORM's abort handling is on its path).
 */
export function leavesMikroOrmPath(
  query: unknown,
  params: unknown,
  loggerContext: Record<string, unknown> | undefined,
): query is string {
  return (
    typeof query === 'string' &&
    Array.isArray(params) &&
    loggerContext?.['signal'] == null &&
    loggerContext?.['inflightQueryAbortStrategy'] == null
  );
}

/** `Base` (a MikroORM connection class) executing the queries `bind` can bind with bound values. */
export function withBoundParameters<TBase extends ConnectionClass>(Base: TBase, bind: Binder) {
  abstract class BoundParameterConnection extends Base {
    override async execute<T>(
      query: unknown,
      params: unknown = [],
      method: 'all' | 'get' | 'run' = 'all',
      ctx?: Transaction,
      loggerContext?: Record<string, unknown>,
    ): Promise<T> {
      const bound =
        leavesMikroOrmPath(query, params, loggerContext) && (params as unknown[]).length > 0
          ? bind(query, params as unknown[], this.platform)
          : undefined;
      if (bound === undefined) {
        return super.execute(query as string, params as unknown[], method, ctx, loggerContext) as Promise<T>;
      }
      await this.ensureConnection();
      return this.executeLogged(query as string, params as unknown[], loggerContext, async () => {
        const client = (ctx ?? this.getClient()) as {
          executeQuery(query: CompiledQuery): Promise<unknown>;
        };
        return this.transformRawResult<T>(
          await client.executeQuery(CompiledQuery.raw(bound.sql, bound.values)),
          method,
        );
      });
    }

    /**
     * `run` in MikroORM's query log and timing as `sql` with `params`: the text with its values written in
     * only where the query log shows values (LOG_LEVEL=debug).
     */
    protected executeLogged<T>(
      sql: string,
      params: unknown[],
      loggerContext: Record<string, unknown> | undefined,
      run: () => Promise<T>,
    ): Promise<T> {
      const logged = this.config.getLogger().isEnabled('query', loggerContext)
        ? this.getSql(sql, this.platform.formatQuery(sql, params), loggerContext)
        : sql;
      return this.executeQuery(logged, run, { query: sql, params, ...loggerContext });
    }
  }
  return BoundParameterConnection;
}
