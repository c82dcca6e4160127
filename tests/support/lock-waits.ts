import { setTimeout as sleep } from 'node:timers/promises';
import type { SqlEntityManager } from '@mikro-orm/sql';

/**
 * PostgreSQL: resolves once a query in `em`'s database waits for a lock (`pg_stat_activity`), polling every
 * 25 ms for up to 5 s; throws when none did.
 */
export async function someQueryWaitsForALock(em: SqlEntityManager): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const [row] = await em.execute<{ waiting: number | string }[]>(
      "select count(*) as waiting from pg_stat_activity where wait_event_type = 'Lock' " +
        'and datname = current_database()',
    );
    if (Number(row?.waiting) > 0) return;
    await sleep(25);
  }
  throw new Error('no query waited for a lock');
}
