/**
 * The usage recorder's flush against a real, throwaway database (SQLite, or PostgreSQL when
 * TEST_DATABASE_URL is set): failures of the write, and several instances flushing into one database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/entities/index.ts';
import { closeOrm, type Orm } from '../../src/db/orm.ts';
import type { Logger } from '../../src/logger.ts';
import { ApiKeyUsageRecorder } from '../../src/services/api-key-usage.ts';
import { ApiKeyService } from '../../src/services/api-key.service.ts';
import { createMigratedTestOrm, renameTableSql, type TestDatabase } from '../support/database.ts';
import { waitFor } from '../support/wait.ts';

/** A logger that keeps what is logged at error level. */
function capturingLogger(): Logger & {
  errors: Array<{ message: string; fields?: Record<string, unknown> }>;
} {
  const errors: Array<{ message: string; fields?: Record<string, unknown> }> = [];
  const ignore = () => undefined;
  return {
    errors,
    debug: ignore,
    info: ignore,
    warn: ignore,
    error: (message, fields) => errors.push({ message, fields }),
  };
}

/** Starts collecting unhandled promise rejections (Node ends the process on one); `stop` ends it. */
function watchUnhandledRejections(): { rejections: unknown[]; stop(): void } {
  const rejections: unknown[] = [];
  const listener = (reason: unknown) => rejections.push(reason);
  process.on('unhandledRejection', listener);
  return { rejections, stop: () => process.off('unhandledRejection', listener) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('API key usage flush', () => {
  let db: TestDatabase;
  let orm: Orm;
  const keys = new ApiKeyService({ cacheTtlSeconds: 0 });
  beforeAll(async () => {
    ({ db, orm } = await createMigratedTestOrm());
  });
  afterAll(async () => {
    if (orm) await closeOrm(orm);
    await db?.dispose();
  });

  const newKey = async (name: string) => (await keys.create(orm.em.fork(), { name })).apiKey.id;
  const stored = async (id: number) => {
    const key = await orm.em.fork().findOneOrFail(ApiKey, { id });
    return { count: key.usage_count, lastUsedAt: key.last_used_at };
  };
  const execute = (sql: string) => orm.em.fork().getConnection().execute(sql);

  it('survives a failing database write on the timer, keeps the counts and writes them once it recovers', async () => {
    const id = await newKey('Flush through an outage');
    const logger = capturingLogger();
    const recorder = new ApiKeyUsageRecorder({ em: () => orm.em.fork(), logger, flushIntervalMs: 10 });
    const watch = watchUnhandledRejections();
    const at = new Date('2026-02-01T08:00:00.250Z');
    try {
      await execute(renameTableSql(db.dialect, 'api_key', 'api_key_away'));
      try {
        for (let i = 0; i < 3; i++) recorder.record(id, at);
        // Several timed flushes failed.
        await waitFor(
          () => logger.errors.length,
          (errors) => errors >= 3,
          { timeoutMs: 5_000, intervalMs: 5, what: 'three failed flushes' },
        );
        expect(logger.errors[0]?.message).toMatch(/could not record API key usage/);
        await recorder.flush(); // the batch of a flush in flight is out of unflushed() until it fails
        expect(recorder.unflushed(id)).toEqual({ count: 3, lastUsedAt: at });
      } finally {
        await execute(renameTableSql(db.dialect, 'api_key_away', 'api_key'));
      }
      recorder.record(id, at);
      await recorder.flush();
      expect(await stored(id)).toEqual({ count: 4, lastUsedAt: at });
      expect(recorder.unflushed(id)).toEqual({ count: 0, lastUsedAt: null });
      await sleep(30);
      expect(watch.rejections).toEqual([]);
    } finally {
      watch.stop();
      await recorder.close();
    }
  });

  it('keeps the batch and recovers when the flush fails before any statement runs', async () => {
    const id = await newKey('Flush without an EntityManager');
    const logger = capturingLogger();
    let available = false;
    const recorder = new ApiKeyUsageRecorder({
      em: () => {
        if (!available) throw new Error('no database connection available');
        return orm.em.fork();
      },
      logger,
      flushIntervalMs: 10,
    });
    const watch = watchUnhandledRejections();
    const at = new Date('2026-02-01T09:00:00.000Z');
    try {
      recorder.record(id, at);
      recorder.record(id, at);
      await sleep(100); // several timed flushes fail
      expect(watch.rejections).toEqual([]);
      expect(logger.errors[0]?.message).toMatch(/could not record API key usage/);
      await recorder.flush(); // resolves: the failure is logged, not thrown at the caller
      expect(recorder.unflushed(id)).toEqual({ count: 2, lastUsedAt: at });
      available = true;
      await recorder.flush();
      expect(await stored(id)).toEqual({ count: 2, lastUsedAt: at });
      expect(recorder.unflushed(id)).toEqual({ count: 0, lastUsedAt: null });
      await sleep(30);
      expect(watch.rejections).toEqual([]);
    } finally {
      watch.stop();
      available = true;
      await recorder.close();
    }
  });

  it('never moves last_used_at backwards when an older time is flushed after a newer one', async () => {
    const id = await newKey('Two instances');
    const logger = capturingLogger();
    const first = new ApiKeyUsageRecorder({ em: () => orm.em.fork(), logger, flushIntervalMs: 0 });
    const second = new ApiKeyUsageRecorder({ em: () => orm.em.fork(), logger, flushIntervalMs: 0 });
    const older = new Date('2026-03-01T11:59:58.123Z');
    const newer = new Date('2026-03-01T12:00:00.456Z');
    const newest = new Date('2026-03-01T12:00:07.789Z');

    first.record(id, newer);
    second.record(id, older);
    await first.flush();
    expect(await stored(id)).toEqual({ count: 1, lastUsedAt: newer });
    await second.flush(); // an instance whose flush carries an older time lands last
    expect(await stored(id)).toEqual({ count: 2, lastUsedAt: newer });

    second.record(id, newest);
    await second.flush();
    expect(await stored(id)).toEqual({ count: 3, lastUsedAt: newest });
    expect(logger.errors).toEqual([]);
    await first.close();
    await second.close();
  });
});
