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
import { leavesMikroOrmPath, withBoundParameters } from './bound-connection.ts';
import { boundParameters } from './sqlite-bound-parameters.ts';
import { isReadStatement, readsOffloaded, type SqliteReadConnections } from './sqlite-readers.ts';
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

const BoundSqliteConnection = withBoundParameters(SqliteConnection, (sql, params) => {
  const values = boundParameters(sql, params, sqliteUtcText);
  return values === undefined ? undefined : { sql, values };
});

/**
 * MikroORM's better-sqlite3 connection, binding values where it can (sqlite-bound-parameters.ts), and
 * sending the heavy reads to read connections of their own when it has them (sqlite-readers.ts).
 */
export class BoundParameterSqliteConnection extends BoundSqliteConnection {
  /** The read connections of the heavy reads; set by `createOrm` for a database file. */
  readConnections: SqliteReadConnections | undefined;

  override async execute<T>(
    query: unknown,
    params: unknown = [],
    method: 'all' | 'get' | 'run' = 'all',
    ctx?: Transaction,
    loggerContext?: Record<string, unknown>,
  ): Promise<T> {
    const readers = this.readConnections;
    if (
      readers === undefined ||
      method === 'run' ||
      ctx !== undefined ||
      !leavesMikroOrmPath(query, params, loggerContext) ||
      !readsOffloaded() ||
      !isReadStatement(query)
    ) {
      return super.execute(query, params, method, ctx, loggerContext);
    }
    const all = params as unknown[];
    const values = all.length === 0 ? [] : boundParameters(query, all, sqliteUtcText);
    // What cannot be bound goes with its values written in, as MikroORM sends it.
    const sent =
      values === undefined
        ? { sql: this.platform.formatQuery(query, all), values: [] }
        : { sql: query, values };
    const rows = await this.executeLogged(query, all, loggerContext, () =>
      readers.read(sent.sql, sent.values),
    );
    // A statement that would write is the main connection's.
    if (rows === undefined) return super.execute(query, params, method, ctx, loggerContext);
    return this.transformRawResult<T>({ rows }, method);
  }

  override async close(force?: boolean): Promise<void> {
    const readers = this.readConnections;
    this.readConnections = undefined;
    await readers?.close();
    await super.close(force);
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
