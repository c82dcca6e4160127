/**
 * SQLite: times stored as the original service stored them — UTC text `YYYY-MM-DD HH:MM:SS.ffffff`
 * (SQLAlchemy's SQLite DATETIME format) — instead of MikroORM's default epoch milliseconds.
 *
 * A report or robot reading an SQLite database with SQL sees the same values before and after the
 * switch, `make adopt` copies the original's times unchanged, and the fixed-width text sorts and compares
 * in time order, so range filters and ORDER BY work on it as they did on numbers.
 *
 * MikroORM 7 inlines every parameter into the SQL text, so a Date reaches SQLite through the platform's
 * `quoteValue` and `escape`, both overridden here, or, where the connection binds values instead
 * (sqlite-bound-parameters.ts), as the same text; `processDateProperty` (the unit of work's snapshots)
 * keeps Dates, as on the other platforms. Reading needs nothing: MikroORM parses the text as UTC because
 * `forceUtcTimezone` is on (orm-config.ts), and epoch numbers written before the switch still read.
 */
import type { Configuration, Transaction } from '@mikro-orm/core';
import { CompiledQuery } from 'kysely';
import { boundParameters } from './sqlite-bound-parameters.ts';
import { AbstractSqlDriver, SqlitePlatform } from '@mikro-orm/sql';
import { MikroORM as SqliteMikroORM, SqliteConnection } from '@mikro-orm/sqlite';

/** A Date as the original stored it on SQLite: `2026-01-05 10:15:00.123000` (UTC, microseconds). */
export function sqliteUtcText(date: Date): string {
  const text = date.toISOString(); // 2026-01-05T10:15:00.123Z
  return `${text.slice(0, 10)} ${text.slice(11, 23)}000`;
}

export class UtcTextSqlitePlatform extends SqlitePlatform {
  /**
   * Dates stay Dates in the unit of work's snapshots, as on the other platforms: the snapshot of a loaded
   * entity holds the Dates hydration parsed, so a text here made every loaded date look changed, and a
   * flush rewrote them with the values it had read (overwriting a concurrent change). They become text
   * where they reach SQL, in `escape` and `quoteValue`.
   */
  override processDateProperty(value: unknown): string | number | Date {
    return value as string | number | Date;
  }

  override escape(value: unknown): string {
    return super.escape(value instanceof Date ? sqliteUtcText(value) : value);
  }

  override quoteValue(value: unknown): string {
    return super.quoteValue(value instanceof Date ? sqliteUtcText(value) : value);
  }

  override getCurrentTimestampSQL(): string {
    return `(strftime('%Y-%m-%d %H:%M:%f', 'now') || '000')`;
  }
}

/** MikroORM's better-sqlite3 connection, binding values where it can (sqlite-bound-parameters.ts). */
export class BoundParameterSqliteConnection extends SqliteConnection {
  override async execute<T>(
    query: unknown,
    params: unknown = [],
    method: 'all' | 'get' | 'run' = 'all',
    ctx?: Transaction,
    loggerContext?: Record<string, unknown>,
  ): Promise<T> {
    const bound =
      typeof query === 'string' &&
      Array.isArray(params) &&
      params.length > 0 &&
      loggerContext?.['signal'] == null &&
      loggerContext?.['inflightQueryAbortStrategy'] == null
        ? boundParameters(query, params, sqliteUtcText)
        : undefined;
    if (bound === undefined) {
      return super.execute(query as string, params as unknown[], method, ctx, loggerContext) as Promise<T>;
    }
    await this.ensureConnection();
    const sql = query as string;
    // The text with its values written in only where the query log shows values (LOG_LEVEL=debug).
    const logged = this.config.getLogger().isEnabled('query', loggerContext)
      ? this.getSql(sql, this.platform.formatQuery(sql, params as unknown[]), loggerContext)
      : sql;
    return this.executeQuery(
      logged,
      async () => {
        const client = (ctx ?? this.getClient()) as { executeQuery(query: CompiledQuery): Promise<unknown> };
        return this.transformRawResult<T>(await client.executeQuery(CompiledQuery.raw(sql, bound)), method);
      },
      { query: sql, params: params as unknown[], ...loggerContext },
    );
  }
}

/** MikroORM's SQLite driver (better-sqlite3) with the platform and the connection above. */
export class UtcTextSqliteDriver extends AbstractSqlDriver<SqliteConnection, UtcTextSqlitePlatform> {
  constructor(config: Configuration) {
    super(config, new UtcTextSqlitePlatform(), BoundParameterSqliteConnection, ['kysely', 'better-sqlite3']);
  }

  override getORMClass(): typeof SqliteMikroORM {
    return SqliteMikroORM;
  }
}
