/**
 * Several instances starting at once on an EMPTY database (a deployment scaling out, or a restart of all
 * replicas): each applies pending migrations on start, under the migration lock (src/db/migration-lock.ts).
 * Real server processes (`node src/server.ts`), so the instances really are separate connections / pools
 * / processes; on SQLite they share one database file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationNames } from '../../src/db/migrations-cli.ts';
import { MIGRATIONS_TABLE } from '../../src/db/orm-config.ts';
import { closeOrm, createOrm, pendingMigrations } from '../../src/db/orm.ts';
import { createTestDatabase, testDialect, type TestDatabase } from '../support/database.ts';
import { freePort, spawnServer, type SpawnedServer } from '../support/processes.ts';

const INSTANCES = 4;

describe(`${INSTANCES} server instances starting at once on an empty ${testDialect()} database`, () => {
  let db: TestDatabase;
  let cwd: string;
  const servers: SpawnedServer[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    cwd = mkdtempSync(join(tmpdir(), 'pd-concurrent-'));
  });

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await db?.dispose();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  it('all start and serve, one applies the migrations, the others wait and apply nothing', async () => {
    const ports = new Set<number>();
    while (ports.size < INSTANCES) ports.add(await freePort());

    const started = await Promise.allSettled(
      [...ports].map((port) =>
        spawnServer({
          cwd,
          port,
          env: { DATABASE_URL: db.url, API_PORT: String(port), LOG_LEVEL: 'info' },
        }),
      ),
    );
    for (const result of started) if (result.status === 'fulfilled') servers.push(result.value);
    const failures = started.flatMap((result) =>
      result.status === 'rejected' ? [String((result.reason as Error).message ?? result.reason)] : [],
    );
    expect(failures, failures.join('\n\n')).toEqual([]);

    for (const server of servers) {
      const response = await fetch(`${server.baseUrl}/health`);
      expect(response.status).toBe(200);
    }
    const migrators = servers.filter((server) => server.output().includes('applied migrations'));
    expect(migrators).toHaveLength(1);

    const orm = await createOrm(db.url, { poolMax: 1 });
    try {
      const rows = await orm.em
        .fork()
        .getConnection()
        .execute<Array<{ name: string }>>(`select name from ${MIGRATIONS_TABLE} order by id`);
      expect(rows.map((row) => row.name)).toEqual(migrationNames(db.dialect));
      expect(await pendingMigrations(orm)).toEqual([]);
    } finally {
      await closeOrm(orm);
    }
  }, 120_000);
});
