/**
 * What every SQLite connection of the service reads with — the main one (orm.ts) and the read connections
 * on worker threads (sqlite-reader-worker.ts), so the same SQL finds the same rows on each:
 * - SQLite's built-in lower() folds ASCII only ('Æ' stays 'Æ'), while PostgreSQL's and SQL Server's fold
 *   Unicode. Queries use lower() for case-insensitive matching (e.g. `entity_name`), so the connection gets
 *   lower() as JavaScript's Unicode toLowerCase: the same SQL then finds the same rows on every database.
 * - Its prepared statements are kept for reuse (sqlite-statement-cache.ts).
 */
import { cachePreparedStatements, type PreparingDatabase } from './sqlite-statement-cache.ts';

/** The part of better-sqlite3's `Database` this uses. */
export interface SqliteReadingDatabase extends PreparingDatabase {
  function(name: string, options: object, fn: (value: unknown) => unknown): void;
}

/** Gives `database` the Unicode lower() and the statement cache (see above). */
export function prepareSqliteReading(database: SqliteReadingDatabase): void {
  database.function('lower', { deterministic: true }, (value) =>
    typeof value === 'string' ? value.toLowerCase() : value,
  );
  cachePreparedStatements(database);
}
