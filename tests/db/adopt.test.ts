/**
 * `make adopt`: a database the original service created — its DDL (tests/fixtures/original-schema.ts),
 * filled as it filled it — is converted in place, then served by this service as before: runs, step runs,
 * statuses, failures, soft-deleted rows, legacy keys, the robots' SQL.
 */
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createContainer, type Container } from '../../src/container.ts';
import { AdoptionRefused, adoptionPlan, applyAdoption, PRE_ADOPTION_SUFFIX } from '../../src/db/adopt.ts';
import { adoptionConnection, closeOrm, createOrm, migrateToLatest, type Orm } from '../../src/db/orm.ts';
import { createLogger } from '../../src/logger.ts';
import { generateApiKey } from '../../src/services/api-key.service.ts';
import { originalSchemaDdl } from '../fixtures/original-schema.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const FAILURE = {
  error_code: 'CPR_TIMEOUT',
  message: 'CPR-registret svarede ikke – prøv igen',
  details: { forsøg: 2 },
};
const legacyKey = generateApiKey();

describe('adopting a database the original service created', () => {
  let db: TestDatabase;
  let orm: Orm;
  const ids: Record<string, number> = {};
  const execute = <T>(sql: string, params: unknown[] = []) =>
    orm.em.fork().getConnection().execute<T[]>(sql, params);
  const q = (name: string) => (db.dialect === 'mssql' ? `[${name}]` : `"${name}"`);
  /** Inserts a row as the original did and returns its id (the newest id of the table). */
  const insert = async (table: string, row: Record<string, unknown>) => {
    const names = Object.keys(row);
    await execute(
      `insert into ${q(table)} (${names.map(q).join(', ')}) values (${names.map(() => '?').join(', ')})`,
      Object.values(row),
    );
    const [last] = await execute<{ id: number }>(`select max(id) as id from ${q(table)}`);
    return Number(last.id);
  };
  const stamp = (minute: number) => `2026-01-05 10:${String(minute).padStart(2, '0')}:00.123000`;
  const times = (minute: number) => ({ created_at: stamp(minute), updated_at: stamp(minute) });
  const migrate = async () => {
    await migrateToLatest(orm, { adopting: true });
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    orm = await createOrm(db.url);
    for (const statement of originalSchemaDdl(db.dialect)) await execute(statement);
    const t = db.dialect === 'postgresql' ? true : 1;
    const f = db.dialect === 'postgresql' ? false : 0;
    ids['p1'] = await insert('process', {
      ...times(0),
      name: 'Flytning – Århus',
      meta: JSON.stringify({ kommune: 'Aarhus', run_metadata_schema: { cpr: 'string' } }),
      retention_months: 12,
    });
    ids['p2'] = await insert('process', { ...times(0), name: 'Nedlagt', meta: '{}', deleted_at: stamp(40) });
    // The original's process delete marked the process and its steps, not its runs.
    ids['p2s0'] = await insert('process_step', {
      ...times(0),
      process_id: ids['p2'],
      index: 0,
      name: 'Arkivér',
      is_rerunnable: f,
      deleted_at: stamp(40),
    });
    for (const index of [0, 1, 2]) {
      ids[`s${index}`] = await insert('process_step', {
        ...times(0),
        process_id: ids['p1'],
        index,
        name: ['Opret sag', 'Slå op i CPR', 'Send brev'][index],
        is_rerunnable: index === 1 ? t : f,
        rerun_config: index === 1 ? JSON.stringify({ max_retries: 2, workitem_id: 98765 }) : null,
      });
    }
    const run = async (key: string, status: string, extra: Record<string, unknown> = {}) => {
      ids[key] = await insert('process_run', {
        ...times(2),
        process_id: ids['p1'],
        entity_id: `010190${key}`,
        entity_name: 'Søren Ærø Østergård',
        status,
        meta: JSON.stringify({ cpr: `010190${key}`, afdeling: 'Borgerservice' }),
        is_neutralized: f,
        started_at: stamp(3),
        finished_at: status === 'RUNNING' ? null : stamp(9),
        ...extra,
      });
    };
    await run('r1', 'COMPLETED');
    await run('r2', 'FAILED');
    await run('r3', 'COMPLETED', { deleted_at: stamp(20) });
    await run('r4', 'RUNNING', { meta: null });
    // Of the deleted process: a run left live by the original's delete, and one deleted on its own before.
    await run('r5', 'COMPLETED', { process_id: ids['p2'] });
    await run('r6', 'CANCELLED', { process_id: ids['p2'], deleted_at: stamp(30) });
    const stepRun = (runKey: string, index: number, status: string, extra: Record<string, unknown> = {}) =>
      insert('process_step_run', {
        ...times(4),
        run_id: ids[runKey],
        step_id: ids[`s${index}`],
        step_index: index,
        status,
        started_at: stamp(4),
        finished_at: status === 'RUNNING' ? null : stamp(5),
        can_rerun: index === 1 ? t : f,
        rerun_count: 0,
        max_reruns: index === 1 ? 2 : 0,
        last_modified_by: 'robot-flytning-01',
        ...extra,
      });
    for (const index of [0, 1, 2]) await stepRun('r1', index, 'SUCCESS');
    await stepRun('r2', 0, 'SUCCESS');
    ids['sr_failed'] = await stepRun('r2', 1, 'FAILED', { failure: JSON.stringify(FAILURE), rerun_count: 1 });
    await stepRun('r2', 2, 'PENDING');
    ids['sr_noindex'] = await stepRun('r4', 2, 'RUNNING', { step_index: null });
    ids['sr_r5'] = await stepRun('r5', 0, 'SUCCESS', { step_id: ids['p2s0'] });
    ids['sr_r6'] = await stepRun('r6', 0, 'CANCELLED', { step_id: ids['p2s0'], deleted_at: stamp(30) });
    ids['key'] = await insert('api_key', {
      ...times(0),
      name: 'RPA robot – Borgerservice',
      is_active: t,
      role: 'admin',
      key_hash: createHash('sha256').update(legacyKey).digest('hex'),
      key_prefix: legacyKey.slice(0, 8),
      last_used_at: stamp(30),
      usage_count: 42,
    });
    await insert('audit_log', {
      ...times(31),
      method: 'PATCH',
      path: '/api/v1/step-runs/5',
      status_code: 200,
      duration_ms: 12.5,
      api_key_id: ids['key'],
      user_email: 'mette@aarhus.dk',
    });
    await insert('audit_log', { ...times(32), method: 'GET', path: '/api/v1/runs', api_key_id: ids['key'] });
  });
  afterAll(async () => {
    if (orm !== undefined) await closeOrm(orm);
    await db?.dispose();
  });

  it('prints a plan with what it found and changes nothing', async () => {
    const before = await execute<{ n: number }>('select count(*) as n from process_run');
    const plan = (await adoptionPlan(adoptionConnection(orm))).lines;
    expect(plan.join('\n')).toMatch(/process_run: 6 rows/);
    expect(plan.join('\n')).toMatch(/With --apply, in three steps/);
    if (db.dialect === 'mssql') expect(plan.join('\n')).toMatch(/non-Unicode, becomes Unicode: .*entity_id/);
    expect(await execute('select count(*) as n from process_run')).toEqual(before);
    // The server still refuses the database.
    const config = loadConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'silent', APP_ENV: 'test' });
    await expect(createContainer(config, { logger: createLogger('silent') })).rejects.toThrow(/make adopt/);
  });

  it('adopts it with --apply, keeping the original tables aside; again is a no-op', async () => {
    const log: string[] = [];
    await applyAdoption(
      adoptionConnection(orm),
      await adoptionPlan(adoptionConnection(orm)),
      migrate,
      (line) => log.push(line),
    );
    expect(log).toEqual([
      expect.stringMatching(/^Step 1 of 3 done/),
      expect.stringMatching(/^Step 2 of 3 done/),
      expect.stringMatching(/^Step 3 of 3 done/),
    ]);
    const again: string[] = [];
    await applyAdoption(
      adoptionConnection(orm),
      await adoptionPlan(adoptionConnection(orm)),
      migrate,
      (line) => again.push(line),
    );
    expect(again).toEqual(['Nothing to do: the database is already ours.']);
    const aside = await execute<{ n: number | string }>(
      `select count(*) as n from ${q(`process_run${PRE_ADOPTION_SUFFIX}`)}`,
    );
    expect(Number(aside[0].n)).toBe(6);
  });

  describe('then served as before', () => {
    let container: Container;
    let baseUrl: string;
    let close: () => Promise<void>;
    const get = async (path: string, key = legacyKey) => {
      const response = await fetch(baseUrl + path, { headers: { 'X-API-Key': key } });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    beforeAll(async () => {
      container = await createContainer(
        loadConfig({
          DATABASE_URL: db.url,
          LOG_LEVEL: 'silent',
          APP_ENV: 'test',
          VALIDATE_RESPONSES: 'fail',
        }),
        { logger: createLogger('silent') },
      );
      const server = createApp(container).listen(0, '127.0.0.1');
      await new Promise<void>((resolve) => server.once('listening', () => resolve()));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      close = async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await container.close();
      };
    });
    afterAll(async () => {
      await close?.();
    });

    it('accepts the legacy key', async () => {
      expect((await get('/api/v1/auth/verify')).status).toBe(200);
    });

    it('serves every run and step run with its status, times, meta and failure', async () => {
      const r1 = (await get(`/api/v1/runs/${ids['r1']}`)).body as {
        status: string;
        steps: { status: string }[];
        started_at: string;
        meta: unknown;
      };
      expect(r1.status).toBe('completed');
      expect(r1.steps.map((s) => s.status)).toEqual(['success', 'success', 'success']);
      expect(r1.started_at).toBe('2026-01-05T10:03:00.123Z');
      expect(r1.meta).toEqual({ cpr: '010190r1', afdeling: 'Borgerservice' });
      const r2 = (await get(`/api/v1/runs/${ids['r2']}`)).body as {
        status: string;
        steps: { id: number; failure: unknown; rerun_count: number }[];
      };
      expect(r2.status).toBe('failed');
      const failed = r2.steps.find((s) => s.id === ids['sr_failed']);
      expect(failed).toMatchObject({ failure: FAILURE, rerun_count: 1 });
      expect((await get(`/api/v1/runs/${ids['r3']}`)).status).toBe(404);
      const r4 = (await get(`/api/v1/runs/${ids['r4']}`)).body as {
        meta: unknown;
        steps: { step_index: number }[];
      };
      expect(r4.meta).toEqual({});
      expect(r4.steps.map((s) => s.step_index)).toEqual([2]);
      const failedRuns = (await get('/api/v1/runs?status=failed')).body as { total: number };
      expect(failedRuns.total).toBe(1);
      const p1 = (await get(`/api/v1/processes/${ids['p1']}`)).body as {
        name: string;
        steps: { is_rerunnable: boolean; rerun_config: unknown }[];
      };
      expect(p1.name).toBe('Flytning – Århus');
      expect(p1.steps.map((s) => [s.is_rerunnable, s.rerun_config])).toEqual([
        [false, {}],
        [true, { max_retries: 2, workitem_id: 98765 }],
        [false, {}],
      ]);
      expect((await get(`/api/v1/processes/${ids['p2']}`)).status).toBe(404);
    });

    it('shows the adopted process on both dashboards with the figures its runs imply', async () => {
      // r1 completed (3 of 3 step runs succeeded, 6 minutes), r2 failed (1 of 3), r4 running (0 of 1);
      // r3 is soft-deleted. All were created at the same time: newest first is id descending.
      const run = (key: string, status: string, success_rate: number) => ({
        id: ids[key],
        entity_id: `010190${key}`,
        entity_name: 'Søren Ærø Østergård',
        status,
        success_rate,
        created_at: '2026-01-05T10:02:00.123Z',
      });
      const dashboard = await get(`/api/v1/dashboard/process/${ids['p1']}`);
      expect(dashboard.status).toBe(200);
      expect(dashboard.body).toEqual({
        process: { id: ids['p1'], name: 'Flytning – Århus', total_steps: 3 },
        runs: [run('r4', 'running', 0), run('r2', 'failed', 33.33), run('r1', 'completed', 100)],
        statistics: {
          total_runs: 3,
          completed_runs: 1,
          failed_runs: 1,
          running_runs: 1,
          pending_runs: 0,
          cancelled_runs: 0,
          average_completion_time: '00:06:00',
          success_rate: 33.33,
        },
      });
      const overview = await get(`/api/v1/dashboard/overview/${ids['p1']}`);
      expect(overview.status).toBe(200);
      const runs = [];
      for (const key of ['r4', 'r2', 'r1']) runs.push((await get(`/api/v1/runs/${ids[key]}`)).body);
      expect(overview.body).toEqual({
        process: (await get(`/api/v1/processes/${ids['p1']}`)).body,
        runs,
        total_runs: 3,
        completed_runs: 1,
        failed_runs: 1,
        running_runs: 1,
        cancelled_runs: 0,
        pending_runs: 0,
      });
      expect((await get(`/api/v1/dashboard/process/${ids['p2']}`)).status).toBe(404);
      expect((await get(`/api/v1/dashboard/overview/${ids['p2']}`)).status).toBe(404);
    });

    it('creates new rows after the adopted ones, and the robots’ SQL still answers', async () => {
      const response = await fetch(`${baseUrl}/api/v1/runs`, {
        method: 'POST',
        headers: { 'X-API-Key': legacyKey, 'Content-Type': 'application/json' },
        body: JSON.stringify({ process_id: ids['p1'], entity_id: '0202020202' }),
      });
      expect(response.status).toBe(201);
      expect(((await response.json()) as { id: number }).id).toBeGreaterThan(ids['r4']);
      const [failed] = await execute<{ n: number | string }>(
        "select count(*) as n from process_run where status = 'FAILED'",
      );
      expect(Number(failed.n)).toBe(1);
    });

    it('hides the runs of a process the original deleted, and a restore brings back exactly what that delete hid', async () => {
      const post = async (path: string) => {
        const response = await fetch(baseUrl + path, { method: 'POST', headers: { 'X-API-Key': legacyKey } });
        return { status: response.status, body: (await response.json()) as Record<string, unknown> };
      };
      // The original left r5 and its step run visible; here they went with their process.
      expect((await get(`/api/v1/runs/${ids['r5']}`)).status).toBe(404);
      expect((await get(`/api/v1/step-runs/${ids['sr_r5']}`)).status).toBe(404);
      expect((await get(`/api/v1/runs?process_id=${ids['p2']}`)).body).toMatchObject({ total: 0, items: [] });
      expect((await post(`/api/v1/runs/${ids['r5']}/restore`)).status).toBe(409);

      const restored = await post(`/api/v1/processes/${ids['p2']}/restore`);
      expect(restored.status).toBe(200);
      expect((restored.body['steps'] as { id: number }[]).map((step) => step.id)).toEqual([ids['p2s0']]);
      const r5 = await get(`/api/v1/runs/${ids['r5']}`);
      expect(r5.status).toBe(200);
      expect((r5.body['steps'] as { id: number }[]).map((step) => step.id)).toEqual([ids['sr_r5']]);
      // r6 was deleted on its own before: it stays deleted until restored itself, with its step run.
      expect((await get(`/api/v1/runs/${ids['r6']}`)).status).toBe(404);
      const r6 = await post(`/api/v1/runs/${ids['r6']}/restore`);
      expect(r6.status).toBe(200);
      expect((r6.body['steps'] as { id: number }[]).map((step) => step.id)).toEqual([ids['sr_r6']]);
      expect((await get(`/api/v1/runs?process_id=${ids['p2']}`)).body).toMatchObject({ total: 2 });
    });
  });
});

describe('a database adoption does not recognise', () => {
  it('is refused with a clear message and left as it was', async () => {
    const db = await createTestDatabase();
    const orm = await createOrm(db.url);
    try {
      await orm.em
        .fork()
        .getConnection()
        .execute('create table kunder (id int not null primary key, navn varchar(50))');
      await expect(adoptionPlan(adoptionConnection(orm))).rejects.toThrow(AdoptionRefused);
      await expect(adoptionPlan(adoptionConnection(orm))).rejects.toThrow(
        /not the original service's six tables/,
      );
    } finally {
      await closeOrm(orm);
      await db.dispose();
    }
  });
});
