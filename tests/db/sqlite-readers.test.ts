/**
 * SQLite's read connections on worker threads (src/db/sqlite-readers.ts): inside `onReadConnections`, the
 * reads outside a transaction run on them, give what the main connection gives, and leave the event loop
 * free; everything else stays on the main connection.
 *
 * On a SQLite database file of its own (whatever TEST_DATABASE_URL says: only SQLite has them), through the
 * services, as the handlers of the lists, searches and dashboards call them.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeOrm, createOrm, migrateToLatest, type Orm } from '../../src/db/orm.ts';
import { onReadConnections, SqliteReadConnections, WAL_SIZE_LIMIT } from '../../src/db/sqlite-readers.ts';
import { readsMatches } from '../../src/routes/runs/runs.handlers.ts';
import type { BoundParameterSqliteConnection } from '../../src/db/sqlite-utc-text.ts';
import { DashboardService } from '../../src/services/dashboard.service.ts';
import { ProcessService } from '../../src/services/process.service.ts';
import { RunSearchService } from '../../src/services/run-search.service.ts';
import { RunService } from '../../src/services/run.service.ts';

const NOW = '2026-11-27 05:00:00.000000';
const NAMES = [
  'Jens Hansen',
  'HANSEN, Åse',
  'Åse Æbelø',
  'ÆBELØ ØSTERGÅRD',
  'İlker Ali',
  'Søren Kierkegaard',
];

describe('the read connections of SQLite', () => {
  let dir: string;
  let orm: Orm;
  const runs = new RunService({ dialect: 'sqlite' });
  const search = new RunSearchService({ dialect: 'sqlite' });
  const dashboards = new DashboardService({
    dialect: 'sqlite',
    processes: new ProcessService({ dialect: 'sqlite' }),
  });
  const em = () => orm.em.fork() as SqlEntityManager;
  const readers = () =>
    (orm.em.getConnection() as unknown as BoundParameterSqliteConnection).readConnections!;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pd-readers-'));
    orm = await createOrm(`sqlite:${join(dir, 'runs.sqlite')}`, { sqliteReadThreads: 2 });
    await migrateToLatest(orm);
    await em().execute(
      `insert into process (name, meta, created_at, updated_at) values ('P', '{"run_metadata_schema": {"kommune": {"type": "string"}}}', ?, ?)`,
      [NOW, NOW],
    );
    for (const [index, name] of NAMES.entries()) {
      const created = await runs.create(em(), {
        process_id: 1,
        entity_id: `ID-${index}`,
        entity_name: name,
        meta: { kommune: index % 2 === 0 ? 'Aarhus' : 'Ærøskøbing' },
      });
      expect(created.run.id).toBe(index + 1);
    }
  });

  afterAll(async () => {
    await closeOrm(orm);
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the lists, searches and dashboards as the main connection does, Unicode folding and trigram index included', async () => {
    const calls: [string, () => Promise<unknown>][] = [
      [
        'list entity_name=æbelø',
        () =>
          runs.list(em(), {
            filters: { entity_name: 'æbelø' },
            order: { column: 'created_at' },
            direction: 'desc',
            offset: 0,
            limit: 50,
          }),
      ],
      [
        'list meta_filter',
        () =>
          runs.list(em(), {
            filters: { process_id: 1, meta: new Map([['kommune', ['Ærøskøbing']]]) },
            order: { column: 'created_at' },
            direction: 'asc',
            offset: 0,
            limit: 2,
          }),
      ],
      ['search hansen', () => search.search(em(), { q: 'hansen', offset: 0, limit: 50 })],
      ['search in process', () => search.search(em(), { q: 'ærø', process_id: 1, offset: 0, limit: 50 })],
      ['dashboard', () => dashboards.dashboard(em(), 1, 1000)],
      ['overview', () => dashboards.overview(em(), 1, 1000)],
    ];
    for (const [name, call] of calls) {
      const onMain = await call();
      const before = readers().served;
      const onReaders = await onReadConnections(call);
      expect(readers().served, name).toBeGreaterThan(before);
      // As the handlers' mappers see them (a dashboard holds the process entity).
      expect(JSON.stringify(onReaders), name).toBe(JSON.stringify(onMain));
    }
    const found = (await onReadConnections(() =>
      search.search(em(), { q: 'hansen', offset: 0, limit: 50 }),
    )) as { total: number; items: { run: { entity_name: string | null } }[] };
    expect(found.total).toBe(2);
    expect(found.items.map((item) => item.run.entity_name).sort()).toEqual(['HANSEN, Åse', 'Jens Hansen']);
  });

  it("keeps a transaction's statements on the main connection, where its own writes are", async () => {
    const before = readers().served;
    const seen = await onReadConnections(() =>
      em().transactional(async (tx) => {
        await tx.execute("update process_run set entity_name = 'Midlertidig' where id = 1");
        const [row] = await tx.execute<{ entity_name: string }[]>(
          'select entity_name from process_run where id = 1',
        );
        throw Object.assign(new Error('roll back'), { seen: row?.entity_name });
      }),
    ).catch((error: { seen?: string }) => error.seen);
    expect(seen).toBe('Midlertidig');
    expect(readers().served).toBe(before);
    const [row] = await onReadConnections(() =>
      em().execute<{ entity_name: string }[]>('select entity_name from process_run where id = 1'),
    );
    expect(row?.entity_name).toBe('Jens Hansen');
    expect(readers().served).toBe(before + 1);
  });

  it('sends a statement that would write back to the main connection', async () => {
    const before = readers().served;
    const inserted = await onReadConnections(() =>
      em().execute<{ id: number }[]>(
        "with v(name) as (select 'Skrevet') insert into process_run (process_id, entity_id, entity_name, status, meta, is_neutralized, created_at, updated_at) " +
          "select 1, 'ID-W', name, 'PENDING', '{}', 0, ?, ? from v returning id",
        [NOW, NOW],
      ),
    );
    expect(inserted).toHaveLength(1);
    // Asked on a read connection first, which sent it back.
    expect(readers().served).toBe(before + 1);
    const [row] = await em().execute<{ entity_name: string }[]>(
      'select entity_name from process_run where id = ?',
      [inserted[0].id],
    );
    expect(row?.entity_name).toBe('Skrevet');
    await em().execute('delete from process_run where id = ?', [inserted[0].id]);
  });

  it('fails a bad statement with the error the main connection gives', async () => {
    const sql = 'select * from no_such_table where id = ?';
    const onMain = await em()
      .execute(sql, [1])
      .catch((error: Error) => error);
    const before = readers().served;
    const onReaders = await onReadConnections(() => em().execute(sql, [1])).catch((error: Error) => error);
    expect(readers().served).toBe(before + 1);
    expect(onMain).toBeInstanceOf(Error);
    expect(onReaders).toBeInstanceOf(onMain.constructor);
    expect((onReaders as Error).message).toBe((onMain as Error).message);
    expect((onReaders as Error).message).toContain('no such table: no_such_table');
  });

  it('leaves the event loop free while a read connection works', async () => {
    // A read that takes a while on any machine: counting to five million in a recursive CTE.
    const slow = onReadConnections(() =>
      em().execute<{ n: number }[]>(
        'with recursive c(x) as (select 1 union all select x + 1 from c where x < ?) select count(*) as n from c',
        [5_000_000],
      ),
    );
    const order: string[] = [];
    void slow.then(() => order.push('slow read'));
    const [quick] = await em().execute<{ one: number }[]>('select 1 as one');
    order.push('main connection');
    expect(quick?.one).toBe(1);
    const [counted] = await slow;
    expect(Number(counted?.n)).toBe(5_000_000);
    expect(order).toEqual(['main connection', 'slow read']);
  });

  it('keeps the WAL bounded while reads run all the time: past its bound they pause for a checkpoint', async () => {
    const file = join(dir, 'runs.sqlite');
    const main = (await (
      orm.em.getConnection() as unknown as BoundParameterSqliteConnection
    ).getNativeClient()) as { inTransaction: boolean; pragma(sql: string): unknown };
    const checkpoint = () => {
      if (main.inTransaction) return false;
      main.pragma('wal_checkpoint(TRUNCATE)');
      return true;
    };
    const walSize = () => (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);
    /** Writes for `ms` while `readers` read without a break; the WAL's largest size seen. */
    const load = async (readers: SqliteReadConnections, ms: number) => {
      let reading = true;
      const reads = [0, 1].map(async () => {
        while (reading) {
          await readers.read(
            'with recursive c(x) as (select 1 union all select x + 1 from c where x < 20000) select count(*) as n, (select count(*) from process_run) as runs from c',
            [],
          );
        }
      });
      let largest = 0;
      const until = performance.now() + ms;
      while (performance.now() < until) {
        await em().execute(
          "insert into process_run (process_id, entity_id, entity_name, status, meta, is_neutralized, created_at, updated_at) values (1, 'WAL', 'Wal Walsen', 'PENDING', '{}', 0, ?, ?)",
          [NOW, NOW],
        );
        largest = Math.max(largest, walSize());
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      reading = false;
      await Promise.all(reads);
      return largest;
    };
    // The service's proportions (WAL_SIZE_LIMIT, WAL_PAUSE_BYTES), smaller.
    await em().execute(`pragma journal_size_limit = ${256 * 1024}`);
    const bound = 1024 * 1024;
    await em().execute('pragma wal_checkpoint(TRUNCATE)');
    const unpaused = new SqliteReadConnections(file, {
      count: 2,
      busyTimeoutMs: 5000,
      checkpoint,
      walPauseBytes: Infinity,
    });
    const grown = await load(unpaused, 3000).finally(() => unpaused.close());
    // Without the pause the WAL outgrows the bound many times over: the reads never leave it a moment.
    expect(grown).toBeGreaterThan(8 * bound);
    expect(unpaused.checkpoints).toBe(0);

    // The same start as the run above: the WAL emptied.
    await em().execute('pragma wal_checkpoint(TRUNCATE)');
    expect(walSize()).toBe(0);
    const paused = new SqliteReadConnections(file, {
      count: 2,
      busyTimeoutMs: 5000,
      checkpoint,
      walPauseBytes: bound,
    });
    try {
      const largest = await load(paused, 2000);
      expect(paused.checkpoints).toBeGreaterThan(0);
      expect(largest).toBeLessThan(8 * bound);
      // The reads still see every write.
      const [row] = (await paused.read(
        "select count(*) as n from process_run where entity_id = 'WAL'",
        [],
      ))! as {
        n: number;
      }[];
      const [main] = await em().execute<{ n: number }[]>(
        "select count(*) as n from process_run where entity_id = 'WAL'",
      );
      expect(row?.n).toBe(main?.n);
    } finally {
      await paused.close();
      await em().execute(`pragma journal_size_limit = ${WAL_SIZE_LIMIT}`);
      await em().execute("delete from process_run where entity_id = 'WAL'");
    }
  });

  it('has none for an in-memory database, whose reads stay on its one connection', async () => {
    const memory = await createOrm('sqlite::memory:', { sqliteReadThreads: 2 });
    try {
      const connection = memory.em.getConnection() as unknown as BoundParameterSqliteConnection;
      expect(connection.readConnections).toBeUndefined();
      const [row] = await onReadConnections(() =>
        memory.em.fork().execute<{ one: number }[]>('select 1 as one'),
      );
      expect(row?.one).toBe(1);
    } finally {
      await closeOrm(memory);
    }
  });
});

describe('which lists go to the read connections (readsMatches)', () => {
  const byDate = { column: 'created_at' } as const;

  it('sends the lists that read their matches: any filter but process and status, or a sort by a meta field', () => {
    expect(readsMatches({ filters: { entity_name: 'hansen' }, order: byDate })).toBe(true);
    expect(
      readsMatches({ filters: { process_id: 1, meta: new Map([['kommune', ['Aarhus']]]) }, order: byDate }),
    ).toBe(true);
    expect(
      readsMatches({ filters: { created_after: new Date('2026-01-01T00:00:00Z') }, order: byDate }),
    ).toBe(true);
    expect(readsMatches({ filters: { failed_at: 3 }, order: byDate })).toBe(true);
    expect(readsMatches({ filters: { process_id: 1 }, order: { metaField: 'sagsnummer' } })).toBe(true);
  });

  it('keeps the lists whose totals the run counts keep on the main connection', () => {
    expect(readsMatches({ filters: {}, order: byDate })).toBe(false);
    expect(
      readsMatches({
        filters: { process_id: 1, statuses: ['failed'], entity_name: undefined },
        order: byDate,
      }),
    ).toBe(false);
  });
});
