/**
 * Row locks by an UPDATE that changes nothing: a write lock on every database (PostgreSQL and SQL Server:
 * the row's, held to commit; SQLite: the database's), so the caller's next read sees the row as the last
 * writer committed it, and a concurrent writer of that row waits. Locking hints are not used (Babelfish
 * ignores them), nor row counts (Babelfish reports them wrongly).
 */
import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';

/**
 * The column each lockable table's UPDATE sets to its own value (not `id`: SQL Server refuses to update an
 * identity column).
 */
const TOUCHED_COLUMN = {
  process: 'deleted_at',
  process_run: 'deleted_at',
  rerun_job: 'lease_owner',
} as const;

/** Locks row `id` of `table` for the rest of the transaction of `em`. */
export async function lockRow(
  em: EntityManager,
  table: keyof typeof TOUCHED_COLUMN,
  id: number,
): Promise<void> {
  const column = TOUCHED_COLUMN[table];
  await (em as SqlEntityManager).execute(
    `update ${table} set ${column} = ${column} where id = ?`,
    [id],
    'run',
  );
}
