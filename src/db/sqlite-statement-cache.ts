/**
 * Prepared statements kept for reuse on SQLite. Kysely's SQLite driver (under MikroORM) prepares every
 * query anew (`db.prepare(sql)`) and drops the statement after one run; SQLite then parses and plans the
 * same SQL text again for each request. A profile of `POST /api/v1/runs` under load showed `prepare` at
 * 12 % of the server's CPU. The SQL text is the same for every request of a kind (values are bound
 * parameters), so the statement prepared for a text is kept and run again.
 *
 * - At most `limit` statements, the least recently used dropped first (better-sqlite3 frees a statement
 *   when it is collected); a text with a varying number of placeholders (`in (?, ?, …)`) takes one entry
 *   per count.
 * - A statement still iterating (`busy`: a streamed select) is not handed out twice; the caller gets a
 *   new, uncached one.
 * - A schema change does not make a kept statement wrong: SQLite prepares it again by itself when the
 *   schema it was prepared against has changed (`sqlite3_prepare_v3`).
 */

/** The part of better-sqlite3's `Database` this uses. */
export interface PreparingDatabase {
  prepare(sql: string): { readonly busy: boolean };
}

/** Statements kept per database connection; a few hundred SQL texts cover every query the service sends. */
export const STATEMENT_CACHE_SIZE = 500;

/** Makes `database.prepare` hand out kept statements (see above). Returns the cache's counters. */
export function cachePreparedStatements(
  database: PreparingDatabase,
  limit = STATEMENT_CACHE_SIZE,
): { size(): number; prepared(): number } {
  const prepare = database.prepare.bind(database);
  const kept = new Map<string, ReturnType<PreparingDatabase['prepare']>>();
  let prepared = 0;
  database.prepare = (sql: string) => {
    const statement = kept.get(sql);
    if (statement !== undefined && !statement.busy) {
      // Most recently used last: Map keeps insertion order.
      kept.delete(sql);
      kept.set(sql, statement);
      return statement;
    }
    const fresh = prepare(sql);
    prepared += 1;
    if (statement === undefined) {
      kept.set(sql, fresh);
      if (kept.size > limit) kept.delete(kept.keys().next().value as string);
    }
    return fresh;
  };
  return { size: () => kept.size, prepared: () => prepared };
}
