/**
 * The migration lock (src/db/migration-lock.ts) between two ORMs on one database, in this process.
 * tests/db/concurrent-start.test.ts covers the real thing: several server processes at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationNames } from '../../src/db/migrations-cli.ts';
import { acquireMigrationLock } from '../../src/db/migration-lock.ts';
import {
  closeOrm,
  createOrm,
  migrateToLatest,
  ormDialect,
  pendingMigrations,
  withMigrationLock,
  withStartupLock,
  type Orm,
} from '../../src/db/orm.ts';
import { createTestDatabase, testDialect, type TestDatabase } from '../support/database.ts';

describe(`migration lock (${testDialect()})`, () => {
  let db: TestDatabase;
  let first: Orm;
  let second: Orm;

  beforeAll(async () => {
    db = await createTestDatabase();
    first = await createOrm(db.url, { poolMax: 2 });
    second = await createOrm(db.url, { poolMax: 2 });
  });

  afterAll(async () => {
    if (first) await closeOrm(first);
    if (second) await closeOrm(second);
    if (db) await db.dispose();
  });

  it('makes a second migrator give up with a clear error while the lock is held, after its timeout', async () => {
    // On SQLite the wait blocks this process (better-sqlite3 is synchronous), which is why the timeout is short.
    await withMigrationLock(first, async () => {
      const connection = second.em.getConnection();
      const started = Date.now();
      await expect(
        connection.transactional((trx) => acquireMigrationLock(connection, trx, ormDialect(second), 300)),
      ).rejects.toThrow(/could not take the migration lock within 300 ms/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    });
    // Released with the transaction: free again.
    await expect(withMigrationLock(second, () => Promise.resolve('taken'))).resolves.toBe('taken');
  });

  // On SQLite the waiting instance would block this very process (synchronous busy wait) and with it the
  // instance holding the lock: only separate processes can show the wait there (concurrent-start.test.ts),
  // so the case does not exist on SQLite.
  const itOnServers = testDialect() === 'sqlite' ? undefined : it;
  itOnServers?.(
    'makes a second instance wait until the first has migrated; it then applies nothing',
    async () => {
      const files = migrationNames(db.dialect);
      expect(await pendingMigrations(first)).toEqual(files);
      let secondDone = false;
      let secondRun: Promise<string[]> | undefined;
      const applied = await withMigrationLock(first, async (trx) => {
        secondRun = migrateToLatest(second).then((result) => {
          secondDone = true;
          return result.map((m) => m.name);
        });
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect(secondDone).toBe(false);
        // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- MikroORM's `Transaction` is `any`
        return first.migrator.up({ transaction: trx });
      });
      expect(applied.map((m) => m.name)).toEqual(files);
      expect(await secondRun).toEqual([]);
      expect(await pendingMigrations(second)).toEqual([]);
    },
  );

  itOnServers?.('runs start-up work of instances starting at once one after the other', async () => {
    const events: string[] = [];
    const work = (name: string) => async () => {
      events.push(`${name} starts`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      events.push(`${name} ends`);
    };
    await Promise.all([withStartupLock(first, work('first')), withStartupLock(second, work('second'))]);
    const order = events[0]?.startsWith('first') ? ['first', 'second'] : ['second', 'first'];
    expect(events).toEqual(order.flatMap((name) => [`${name} starts`, `${name} ends`]));
  });
});
