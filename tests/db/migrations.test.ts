import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationNames } from '../../src/db/migrations-cli.ts';
import { closeOrm, createOrm, migrateToLatest, pendingMigrations, type Orm } from '../../src/db/orm.ts';
import { entitiesVsDatabaseSql, snapshotVsDatabaseSql } from '../../src/db/schema-check.ts';
import { applySoftDeleteFilter, includeDeleted } from '../../src/db/soft-delete.ts';
import {
  ApiKey,
  AuditLog,
  Process,
  ProcessRun,
  ProcessStep,
  ProcessStepRun,
} from '../../src/entities/index.ts';
import {
  TEST_DATABASE_PREFIX,
  createTestDatabase,
  testDialect,
  type TestDatabase,
} from '../support/database.ts';
import { skipWhereUnsupported } from '../support/dialect-gaps.ts';

const dialectName = testDialect();

/** SQL naming the database the connection uses (servers only). */
const CURRENT_DATABASE_SQL = {
  postgresql: 'select current_database() as name',
  mssql: 'select db_name() as name',
};

describe(`database schema and migrations (${dialectName})`, () => {
  let db: TestDatabase;
  let orm: Orm;

  beforeAll(async () => {
    db = await createTestDatabase();
    orm = await createOrm(db.url);
  });

  afterAll(async () => {
    if (orm) await closeOrm(orm);
    if (db) await db.dispose();
  });

  it('runs on a fresh database of its own', async () => {
    expect(db.dialect).toBe(dialectName);
    if (db.dialect === 'sqlite') {
      expect(db.url).toMatch(/[/\\]pd-test-[^/\\]+[/\\]test\.sqlite$/);
      return;
    }
    const [row] = await orm.em
      .fork()
      .getConnection()
      .execute<{ name: string }[]>(CURRENT_DATABASE_SQL[db.dialect]);
    expect(row?.name).toMatch(new RegExp(`^${TEST_DATABASE_PREFIX}[a-z0-9_]+$`));
    expect(db.url).toContain(`/${row?.name}`);
  });

  it('applies every migration of the dialect to an empty database', async () => {
    const files = migrationNames(db.dialect);
    expect(files.length).toBeGreaterThan(0);
    expect(await pendingMigrations(orm)).toEqual(files);

    const applied = await migrateToLatest(orm);

    expect(applied.map((m) => m.name)).toEqual(files);
    expect(await pendingMigrations(orm)).toEqual([]);
  });

  it('leaves no difference between the migrated database and the entities', async (ctx) => {
    await skipWhereUnsupported(ctx);
    expect(await entitiesVsDatabaseSql(orm)).toBe('');
  });

  it('has a snapshot that describes exactly what the migrations created', async (ctx) => {
    await skipWhereUnsupported(ctx);
    expect(await snapshotVsDatabaseSql(orm)).toBe('');
  });

  it('does nothing on a second migrateToLatest', async () => {
    expect(await migrateToLatest(orm)).toEqual([]);
    // A new ORM instance (as at the next server start) sees nothing pending either.
    const again = await createOrm(db.url, { poolMax: 1 });
    try {
      expect(await migrateToLatest(again)).toEqual([]);
    } finally {
      await closeOrm(again);
    }
  });

  it('round-trips Unicode JSON and millisecond UTC timestamps', async () => {
    const meta = {
      owner: 'Søren Ærø',
      city: 'Århus',
      emoji: '🚀✅👩‍💻',
      nested: { list: ['æ', 'ø', 'å', '€'], n: 1.5, ok: true, none: null },
    };
    const startedAt = new Date('2024-03-05T06:07:08.123Z');
    const finishedAt = new Date('2024-12-31T23:59:59.999Z');

    const em = orm.em.fork();
    const process = em.create(Process, {
      name: 'Fakturering – æøå 🚀',
      meta,
      neutralize_keep_keys: ['kunde_nr', 'ærinde'],
    });
    const run = em.create(ProcessRun, {
      process,
      entity_id: 'ENT-æøå-1',
      entity_name: 'Kunde 🧾',
      status: 'running',
      meta,
      started_at: startedAt,
      finished_at: finishedAt,
    });
    await em.flush();
    expect(process.created_at).toBeInstanceOf(Date);
    expect(process.updated_at).toBeInstanceOf(Date);

    const fresh = orm.em.fork();
    const loadedProcess = await fresh.findOneOrFail(Process, process.id);
    expect(loadedProcess.name).toBe('Fakturering – æøå 🚀');
    expect(loadedProcess.meta).toEqual(meta);
    expect(loadedProcess.neutralize_keep_keys).toEqual(['kunde_nr', 'ærinde']);
    expect(loadedProcess.retention_months).toBeNull();
    expect(loadedProcess.created_at).toBeInstanceOf(Date);
    expect(loadedProcess.created_at.getTime()).toBe(process.created_at.getTime());

    const loadedRun = await fresh.findOneOrFail(ProcessRun, run.id);
    expect(loadedRun.meta).toEqual(meta);
    expect(loadedRun.entity_id).toBe('ENT-æøå-1');
    expect(loadedRun.entity_name).toBe('Kunde 🧾');
    expect(loadedRun.started_at).toBeInstanceOf(Date);
    expect(loadedRun.started_at?.toISOString()).toBe('2024-03-05T06:07:08.123Z');
    expect(loadedRun.finished_at?.toISOString()).toBe('2024-12-31T23:59:59.999Z');
    expect(loadedRun.is_neutralized).toBe(false);
    expect(loadedRun.neutralized_at).toBeNull();

    // Filtering by a timestamp works with ms precision too.
    expect(await fresh.count(ProcessRun, { started_at: startedAt })).toBe(1);
    expect(
      await fresh.count(ProcessRun, {
        started_at: { $gt: new Date(startedAt.getTime() - 1), $lt: new Date(startedAt.getTime() + 1) },
      }),
    ).toBe(1);
    expect(await fresh.count(ProcessRun, { started_at: new Date(startedAt.getTime() + 1) })).toBe(0);
  });

  // Only PostgreSQL has a session time zone; on SQLite there is nothing to test, so the case does not exist.
  const itOnPostgres = dialectName === 'postgresql' ? it : undefined;
  itOnPostgres?.(
    "leaves a tenth of process_run's pages free, for reports' updates of their run (PostgreSQL)",
    async () => {
      const [row] = await orm.em
        .fork()
        .getConnection()
        .execute<{ reloptions: string[] | null }[]>(
          "select reloptions from pg_class where oid = 'process_run'::regclass",
        );
      expect(row?.reloptions).toEqual(['fillfactor=90']);
    },
  );

  itOnPostgres?.('keeps timestamps exact whatever the session time zone is (PostgreSQL)', async () => {
    const em = orm.em.fork();
    const process = em.create(Process, { name: 'tz' });
    const run = em.create(ProcessRun, {
      process,
      entity_id: 'TZ-1',
      status: 'pending',
      started_at: new Date('2024-06-30T22:30:00.456Z'),
    });
    await em.flush();

    const connection = orm.em.fork().getConnection();
    const [row] = await connection.execute<{ name: string }[]>('select current_database() as name');
    const name = row?.name ?? '';
    expect(name).toMatch(new RegExp(`^${TEST_DATABASE_PREFIX}`));
    await connection.execute(`alter database "${name}" set timezone to 'America/St_Johns'`);
    const other = await createOrm(db.url, { poolMax: 1 });
    try {
      const otherEm = other.em.fork();
      expect(await otherEm.getConnection().execute('show timezone')).toEqual([
        { TimeZone: 'America/St_Johns' },
      ]);
      expect((await otherEm.findOneOrFail(ProcessRun, run.id)).started_at?.toISOString()).toBe(
        '2024-06-30T22:30:00.456Z',
      );
      const written = otherEm.create(ProcessRun, {
        process: process.id,
        entity_id: 'TZ-2',
        status: 'pending',
        started_at: new Date('2024-01-01T00:00:00.001Z'),
      });
      await otherEm.flush();
      expect((await orm.em.fork().findOneOrFail(ProcessRun, written.id)).started_at?.toISOString()).toBe(
        '2024-01-01T00:00:00.001Z',
      );
    } finally {
      await closeOrm(other);
      await connection.execute(`alter database "${name}" reset timezone`);
    }
  });

  it('sets created_at on insert and moves updated_at on update', async () => {
    const em = orm.em.fork();
    const key = em.create(ApiKey, {
      name: 'ci',
      role: 'user',
      key_prefix: 'pd_abc123',
      key_hash: '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA',
    });
    await em.flush();
    expect(key.is_active).toBe(true);
    expect(key.usage_count).toBe(0);
    const createdAt = key.created_at.getTime();
    await new Promise((r) => setTimeout(r, 5));
    key.usage_count = 1;
    await em.flush();
    expect(key.created_at.getTime()).toBe(createdAt);
    expect(key.updated_at.getTime()).toBeGreaterThan(createdAt);

    const loaded = await orm.em.fork().findOneOrFail(ApiKey, { key_prefix: 'pd_abc123' });
    expect(loaded.usage_count).toBe(1);
    expect(loaded.updated_at.getTime()).toBe(key.updated_at.getTime());
  });

  it('hides soft-deleted rows from find and count unless the softDelete filter is disabled', async () => {
    const em = orm.em.fork();
    const process = em.create(Process, { name: 'soft-delete' });
    em.create(ProcessRun, {
      process,
      entity_id: 'SD-kept',
      status: 'completed',
      started_at: new Date(),
    });
    const deleted = em.create(ProcessRun, {
      process,
      entity_id: 'SD-deleted',
      status: 'failed',
      started_at: new Date(),
    });
    await em.flush();
    deleted.deleted_at = new Date();
    deleted.deletion_token = '7d0f5a3e-4c55-4a53-9a55-0c8c7c2f1a11';
    await em.flush();

    const fresh = orm.em.fork();
    const where = { process: process.id };
    expect((await fresh.find(ProcessRun, where)).map((r) => r.entity_id)).toEqual(['SD-kept']);
    expect(await fresh.count(ProcessRun, where)).toBe(1);
    expect(await fresh.findOne(ProcessRun, deleted.id)).toBeNull();

    const all = await fresh.find(ProcessRun, where, { ...includeDeleted, orderBy: { id: 'asc' } });
    expect(all.map((r) => r.entity_id)).toEqual(['SD-kept', 'SD-deleted']);
    expect(await fresh.count(ProcessRun, where, { filters: { softDelete: false } })).toBe(2);
    expect(
      (await fresh.findOneOrFail(ProcessRun, deleted.id, { filters: { softDelete: false } })).deletion_token,
    ).toBe('7d0f5a3e-4c55-4a53-9a55-0c8c7c2f1a11');

    // Loading a collection applies the filter as well.
    const loadedProcess = await fresh.findOneOrFail(Process, process.id, { populate: ['runs'] });
    expect(loadedProcess.runs.getItems().map((r) => r.entity_id)).toEqual(['SD-kept']);

    // A soft-deleted parent does not hide live children (no implicit join on relations with filters).
    const processGone = orm.em.fork();
    const p2 = processGone.create(Process, { name: 'deleted parent' });
    processGone.create(ProcessRun, {
      process: p2,
      entity_id: 'SD-orphan',
      status: 'completed',
      started_at: new Date(),
    });
    await processGone.flush();
    p2.deleted_at = new Date();
    await processGone.flush();
    expect(await orm.em.fork().count(Process, { id: p2.id })).toBe(0);
    expect(await orm.em.fork().count(ProcessRun, { entity_id: 'SD-orphan' })).toBe(1);

    // QueryBuilders ignore filters unless applied explicitly.
    const qbEm = orm.em.fork();
    const raw = await qbEm.createQueryBuilder(ProcessRun).where(where).getCount();
    expect(raw).toBe(2);
    const filtered = await applySoftDeleteFilter(qbEm.createQueryBuilder(ProcessRun).where(where));
    expect(await filtered.getCount()).toBe(1);
  });

  it('enforces a unique step index among live steps only (filtered unique index)', async () => {
    const em = orm.em.fork();
    const process = em.create(Process, { name: 'unique steps' });
    const first = em.create(ProcessStep, { process, index: 0, name: 'Hent data' });
    em.create(ProcessStep, { process, index: 1, name: 'Beregn' });
    await em.flush();
    expect(first.is_rerunnable).toBe(false);
    expect(first.rerun_config).toEqual({});

    // Two live steps with the same index: rejected by the database.
    const dupEm = orm.em.fork();
    dupEm.create(ProcessStep, { process: process.id, index: 1, name: 'Beregn igen' });
    await expect(dupEm.flush()).rejects.toThrow(/unique|duplicate/i);

    // After soft-deleting the old step, its index can be reused.
    first.deleted_at = new Date();
    first.deletion_token = 'b0d1c2e3-f405-4a6b-8c7d-9e0f1a2b3c4d';
    await em.flush();
    const reuseEm = orm.em.fork();
    const replacement = reuseEm.create(ProcessStep, { process: process.id, index: 0, name: 'Hent data v2' });
    await reuseEm.flush();
    expect(replacement.id).toBeGreaterThan(0);

    const steps = await orm.em
      .fork()
      .find(ProcessStep, { process: process.id }, { orderBy: { index: 'asc' } });
    expect(steps.map((s) => [s.index, s.name])).toEqual([
      [0, 'Hent data v2'],
      [1, 'Beregn'],
    ]);
    // ...and a second live one with that index is rejected again.
    const dup2 = orm.em.fork();
    dup2.create(ProcessStep, { process: process.id, index: 0, name: 'dup' });
    await expect(dup2.flush()).rejects.toThrow(/unique|duplicate/i);
  });

  it('rejects a negative step index and dangling foreign keys', async () => {
    const em = orm.em.fork();
    const process = em.create(Process, { name: 'constraints' });
    await em.flush();

    const negative = orm.em.fork();
    negative.create(ProcessStep, { process: process.id, index: -1, name: 'negative' });
    await expect(negative.flush()).rejects.toThrow(/check|constraint/i);

    const dangling = orm.em.fork();
    dangling.create(ProcessRun, {
      process: 999_999,
      entity_id: 'FK',
      status: 'pending',
      started_at: new Date(),
    });
    await expect(dangling.flush()).rejects.toThrow(/foreign key/i);
  });

  it('stores step runs with re-run links and audit logs without a key foreign key', async () => {
    const em = orm.em.fork();
    const process = em.create(Process, { name: 'step runs' });
    const step = em.create(ProcessStep, {
      process,
      index: 0,
      name: 'Send',
      is_rerunnable: true,
      rerun_config: { max: 2 },
    });
    const run = em.create(ProcessRun, {
      process,
      entity_id: 'SR-1',
      status: 'running',
      started_at: new Date(),
    });
    const original = em.create(ProcessStepRun, {
      run,
      step,
      step_index: 0,
      status: 'failed',
      started_at: new Date(),
      failure: { message: 'Tidsudløb ⏱' },
      can_rerun: true,
      max_reruns: 2,
    });
    await em.flush();
    const rerun = em.create(ProcessStepRun, {
      run,
      step,
      step_index: 0,
      status: 'success',
      started_at: new Date(),
      rerun_of: original,
      rerun_count: 1,
    });
    em.create(AuditLog, {
      api_key_id: 424242,
      api_key_name: 'deleted key',
      method: 'POST',
      path: '/api/v1/runs',
      status_code: 201,
      duration_ms: 12.5,
      changes: { før: 'æ', efter: 'ø' },
    });
    await em.flush();

    const fresh = orm.em.fork();
    const loaded = await fresh.findOneOrFail(ProcessStepRun, rerun.id, {
      populate: ['rerun_of', 'run', 'step'],
    });
    expect(loaded.rerun_of?.id).toBe(original.id);
    expect(loaded.rerun_of?.failure).toEqual({ message: 'Tidsudløb ⏱' });
    expect(loaded.rerun_config).toEqual({});
    expect(loaded.meta).toBeNull();
    expect(loaded.run.entity_id).toBe('SR-1');
    expect(loaded.step.rerun_config).toEqual({ max: 2 });
    const log = await fresh.findOneOrFail(AuditLog, { api_key_id: 424242 });
    expect(log.changes).toEqual({ før: 'æ', efter: 'ø' });
    expect(log.duration_ms).toBe(12.5);
    expect(log.created_at).toBeInstanceOf(Date);
  });
});
