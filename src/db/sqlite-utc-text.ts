/**
 * SQLite: times stored as the original service stored them — UTC text `YYYY-MM-DD HH:MM:SS.ffffff`
 * (SQLAlchemy's SQLite DATETIME format) — instead of MikroORM's default epoch milliseconds.
 *
 * A report or robot reading an SQLite database with SQL sees the same values before and after the
 * switch, `make adopt` copies the original's times unchanged, and the fixed-width text sorts and compares
 * in time order, so range filters and ORDER BY work on it as they did on numbers.
 *
 * MikroORM 7 turns a Date into its SQLite value in three places of the platform, all overridden here:
 * `processDateProperty` (values written by the unit of work), `quoteValue` and `escape` (query
 * parameters, which MikroORM inlines into the SQL text). Reading needs nothing: MikroORM parses the text as UTC because
 * `forceUtcTimezone` is on (orm-config.ts), and epoch numbers written before the switch still read.
 */
import type { Configuration } from '@mikro-orm/core';
import { AbstractSqlDriver, SqlitePlatform } from '@mikro-orm/sql';
import { MikroORM as SqliteMikroORM, SqliteConnection } from '@mikro-orm/sqlite';

/** A Date as the original stored it on SQLite: `2026-01-05 10:15:00.123000` (UTC, microseconds). */
export function sqliteUtcText(date: Date): string {
  const text = date.toISOString(); // 2026-01-05T10:15:00.123Z
  return `${text.slice(0, 10)} ${text.slice(11, 23)}000`;
}

export class UtcTextSqlitePlatform extends SqlitePlatform {
  override processDateProperty(value: unknown): string | number | Date {
    return value instanceof Date ? sqliteUtcText(value) : (value as string | number | Date);
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

/** MikroORM's SQLite driver (better-sqlite3) with the platform above. */
export class UtcTextSqliteDriver extends AbstractSqlDriver<SqliteConnection, UtcTextSqlitePlatform> {
  constructor(config: Configuration) {
    super(config, new UtcTextSqlitePlatform(), SqliteConnection, ['kysely', 'better-sqlite3']);
  }

  override getORMClass(): typeof SqliteMikroORM {
    return SqliteMikroORM;
  }
}
