/**
 * The scheduled retention cleanup (src/services/retention-cleanup.ts) with its database lease: several
 * instances on one database, a crashed holder, and the scheduler's own timer. Two instances are two
 * containers (two ORMs, two connection pools) on the same database, as two API processes would be.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { createContainer, type Container } from '../../src/container.ts';
import { JobLease, ProcessRun } from '../../src/entities/index.ts';
import { createLogger } from '../../src/logger.ts';
import { RETENTION_CLEANUP_LEASE, RetentionCleanup } from '../../src/services/retention-cleanup.ts';
import { JobLeases } from '../../src/services/job-lease.ts';
import { startTestServer, type TestServer } from '../support/app.ts';

const MONTH_MS = 31 * 86_400_000;

describe('retention cleanup scheduler', () => {
  let server: TestServer;
  let second: Container;
  const send = (method: string, path: string, body?: unknown) =>
    server.json<Record<string, unknown> & { id: number }>(method, path, body);
  const sql = <T>(query: string, params: unknown[] = []) =>
    server.container.orm.em.fork().getConnection().execute<T[]>(query, params);

  /** A cleanup of `container` with its own holder name (as another instance would have). */
  const cleanupOf = (container: Container, batchSize: number, holder: string, leaseMs = 60_000) =>
    new RetentionCleanup({
      em: () => container.orm.em.fork(),
      lifecycle: container.lifecycle,
      leases: new JobLeases(() => container.orm.em.fork()),
      logger: createLogger('silent'),
      batchSize,
      leaseMs,
      holder,
    });

  /** A process with one-month retention and `count` runs holding personal data; their ids. */
  async function dueRuns(count: number): Promise<number[]> {
    const process = await send('POST', '/api/v1/processes', { name: 'Flytning', retention_months: 1 });
    await send('POST', '/api/v1/steps', { process_id: process.id, index: 0, name: 'CPR-opslag' });
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      const run = await send('POST', '/api/v1/runs', {
        process_id: process.id,
        entity_id: `0101900${String(i).padStart(3, '0')}`,
        entity_name: `Jens Hansen ${i}`,
        meta: { adresse: 'Åboulevarden 1', department: 'Borgerservice' },
      });
      ids.push(run.id);
    }
    return ids;
  }

  const neutralizedIds = async (ids: number[]) =>
    (
      await sql<{ id: number; is_neutralized: unknown }>(
        `select id, is_neutralized from process_run where id in (${ids.map(() => '?').join(',')}) order by id`,
        ids,
      )
    )
      .filter((row) => Boolean(row.is_neutralized))
      .map((row) => row.id);

  beforeAll(async () => {
    server = await startTestServer();
    // A second instance on the same database (already migrated by the first).
    second = await createContainer(
      loadConfig({ DATABASE_URL: server.container.config.databaseUrl, LOG_LEVEL: 'silent' }),
      { logger: createLogger('silent'), migrate: false },
    );
  });
  afterAll(async () => {
    await second?.close();
    await server?.close();
  });

  it('four instances started together: one works every batch, the others are refused the lease, no run twice', async () => {
    const ids = await dueRuns(23);
    const later = new Date(Date.now() + 2 * MONTH_MS);
    const instances = [
      cleanupOf(server.container, 5, 'instance-a'),
      cleanupOf(second, 5, 'instance-b'),
      cleanupOf(server.container, 5, 'instance-c'),
      cleanupOf(second, 5, 'instance-d'),
    ];
    const ticks = await Promise.all(instances.map((instance) => instance.runOnce(later)));

    const all = ticks.flatMap((tick) => tick.neutralized);
    expect(new Set(all).size).toBe(all.length); // no run neutralised twice
    expect(all.toSorted((x, y) => x - y)).toEqual(ids);
    expect(ticks.flatMap((tick) => tick.failed)).toEqual([]);
    // Only one tick neutralised anything: the lease kept the others out (or they found nothing left).
    const working = ticks.filter((tick) => tick.neutralized.length > 0);
    expect(working).toHaveLength(1);
    expect(working[0].batches).toBe(5); // 23 runs in batches of 5
    expect(ticks.some((tick) => !tick.acquired)).toBe(true);
    expect(await neutralizedIds(ids)).toEqual(ids);
    // Released after the tick: the lease is free again at once.
    expect(
      await new JobLeases(() => second.orm.em.fork()).acquire(RETENTION_CLEANUP_LEASE, 'other', 1000),
    ).toBe(true);
    await new JobLeases(() => second.orm.em.fork()).release(RETENTION_CLEANUP_LEASE, 'other');
  });

  it('one instance runs one tick at a time: a second call meanwhile does nothing', async () => {
    const ids = await dueRuns(4);
    const later = new Date(Date.now() + 2 * MONTH_MS);
    const a = cleanupOf(server.container, 2, 'instance-a');
    const [first, overlapping] = await Promise.all([a.runOnce(later), a.runOnce(later)]);
    expect(first.neutralized).toEqual(ids);
    expect(overlapping).toEqual({ acquired: false, batches: 0, neutralized: [], failed: [] });
  });

  it('a crashed holder keeps others out until its lease expires, then another instance takes over', async () => {
    const ids = await dueRuns(3);
    const later = new Date(Date.now() + 2 * MONTH_MS);
    const em = server.container.orm.em.fork();
    await em.nativeUpdate(
      JobLease,
      { name: RETENTION_CLEANUP_LEASE },
      { holder: 'crashed-instance', expires_at: new Date(Date.now() + 60_000) },
    );

    const refused = await cleanupOf(second, 10, 'instance-b').runOnce(later);
    expect(refused).toEqual({ acquired: false, batches: 0, neutralized: [], failed: [] });
    expect(await neutralizedIds(ids)).toEqual([]);

    await em.nativeUpdate(
      JobLease,
      { name: RETENTION_CLEANUP_LEASE },
      { expires_at: new Date(Date.now() - 1) },
    );
    const takenOver = await cleanupOf(second, 10, 'instance-b').runOnce(later);
    expect(takenOver.acquired).toBe(true);
    expect(takenOver.neutralized).toEqual(ids);
    const [lease] = await sql<{ holder: string }>('select holder from job_lease where name = ?', [
      RETENTION_CLEANUP_LEASE,
    ]);
    expect(lease.holder).toBe('instance-b');
  });

  it('leaves runs that are not due, deleted or neutralised already alone', async () => {
    const ids = await dueRuns(3);
    const now = new Date();
    // Not due yet: one month of retention from now.
    const early = await cleanupOf(server.container, 10, 'instance-a').runOnce(now);
    expect(early.neutralized.filter((id) => ids.includes(id))).toEqual([]);

    expect((await server.request(`/api/v1/runs/${ids[0]}`, { method: 'DELETE' })).status).toBe(204);
    expect((await server.request(`/api/v1/runs/${ids[0]}`)).status).toBe(404);
    const tick = await cleanupOf(server.container, 10, 'instance-a').runOnce(
      new Date(Date.now() + 2 * MONTH_MS),
    );
    expect(tick.neutralized).toEqual([ids[1], ids[2]]);
    expect(await neutralizedIds(ids)).toEqual([ids[1], ids[2]]);
    const again = await cleanupOf(server.container, 10, 'instance-a').runOnce(
      new Date(Date.now() + 2 * MONTH_MS),
    );
    expect(again.neutralized).toEqual([]);
  });

  it('runs on its own timer when started, and stops', async () => {
    // Due now: scheduled a month after a creation time two months ago.
    const ids = await dueRuns(2);
    const placeholders = ids.map(() => '?').join(',');
    await server.container.orm.em
      .fork()
      .nativeUpdate(ProcessRun, { id: { $in: ids } }, { scheduled_deletion_at: new Date(Date.now() - 1000) });
    const cleanup = cleanupOf(server.container, 10, 'timer');
    cleanup.start(1000);
    try {
      const deadline = Date.now() + 15_000;
      while ((await neutralizedIds(ids)).length < ids.length && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      await cleanup.stop();
    }
    expect(await neutralizedIds(ids)).toEqual(ids);
    const rows = await sql<{ entity_id: string; entity_name: string | null }>(
      `select entity_id, entity_name from process_run where id in (${placeholders}) order by id`,
      ids,
    );
    expect(rows).toEqual(ids.map((id) => ({ entity_id: `NEUTRALIZED_${id}`, entity_name: null })));
  });
});
