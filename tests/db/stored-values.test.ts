/**
 * Values are stored as the original service stored them where a reader of the tables could see the
 * difference (issue "take over a running installation"): statuses as the upper-case names of its enum
 * members. A report's `WHERE status = 'FAILED'` counts what the API calls failed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeOrm, createOrm, migrateToLatest, migrateUpTo } from '../../src/db/orm.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import { createTestDatabase } from '../support/database.ts';

describe('statuses as the original stored them', () => {
  let server: TestServer;
  const send = async (method: string, path: string, body?: unknown) => {
    const response = await server.request(path, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(response.status).toBeLessThan(300);
    return (await response.json()) as Record<string, unknown> & { id: number };
  };
  const sql = <T>(query: string, params: unknown[] = []) =>
    server.container.orm.em.fork().getConnection().execute<T[]>(query, params);

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('stores upper-case enum names, serves lower case, and a report’s WHERE status = ’FAILED’ agrees with the API', async () => {
    const process = await send('POST', '/api/v1/processes', { name: 'Rapport' });
    for (const index of [0, 1])
      await send('POST', '/api/v1/steps', { process_id: process.id, index, name: `Trin ${index}` });
    const runs: { id: number; steps: { id: number }[] }[] = [];
    for (const entity of ['a', 'b', 'c']) {
      const run = await send('POST', '/api/v1/runs', { process_id: process.id, entity_id: entity });
      runs.push(run as unknown as { id: number; steps: { id: number }[] });
    }
    await send('PATCH', `/api/v1/step-runs/${runs[0].steps[0].id}`, { status: 'failed' });
    await send('PATCH', `/api/v1/step-runs/${runs[1].steps[0].id}`, { status: 'success' });
    await send('PATCH', `/api/v1/step-runs/${runs[1].steps[1].id}`, { status: 'optional' });

    const stored = await sql<{ id: number; status: string }>(
      'select id, status from process_run where process_id = ? order by id',
      [process.id],
    );
    expect(stored.map((row) => row.status)).toEqual(['FAILED', 'COMPLETED', 'PENDING']);
    const stepStatuses = await sql<{ status: string }>(
      'select status from process_step_run where run_id = ? order by step_index',
      [runs[1].id],
    );
    expect(stepStatuses.map((row) => row.status)).toEqual(['SUCCESS', 'OPTIONAL']);

    const [report] = await sql<{ failed: number | string }>(
      "select count(*) as failed from process_run where status = 'FAILED' and process_id = ?",
      [process.id],
    );
    const page = await send('GET', `/api/v1/runs?status=failed&process_id=${process.id}`);
    expect(Number(report.failed)).toBe(page['total']);
    expect((await send('GET', `/api/v1/runs/${runs[0].id}`))['status']).toBe('failed');
  });
});

describe("the robots' direct SQL (reference/original-schema.md)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('runs unchanged against our tables and finds what the API created', async () => {
    const post = async (path: string, body: unknown) => {
      const response = await server.request(path, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'Content-Type': 'application/json' },
      });
      expect(response.status).toBe(201);
      return (await response.json()) as { id: number; steps: { id: number; step_id: number }[] };
    };
    const process = await post('/api/v1/processes', { name: 'Flytning – Århus' });
    await post('/api/v1/steps', { process_id: process.id, index: 0, name: 'Opret sag' });
    const step = await post('/api/v1/steps', { process_id: process.id, index: 1, name: 'Send brev' });
    const run = await post('/api/v1/runs', { process_id: process.id, entity_id: '0101901234' });
    // The robot's statements, with only the database-qualified prefix left out on SQLite and PostgreSQL
    // (where [ProcessVisualization].[dbo]. means nothing); on SQL Server they keep [dbo].
    const mssql = server.container.config.databaseUrl.startsWith('mssql');
    const table = (name: string) => (mssql ? `[dbo].[${name}]` : name);
    const connection = server.container.orm.em.fork().getConnection();
    const processes = await connection.execute<{ id: number; name: string }[]>(
      `SELECT created_at, updated_at, name, meta, id, retention_months, deleted_at FROM ${table('process')} WHERE name = ?`,
      ['Flytning – Århus'],
    );
    expect(processes.map((row) => row.id)).toEqual([process.id]);
    const stepRuns = await connection.execute<{ step_run_id: number; status: string; step_index: number }[]>(
      `SELECT step_run.created_at, step_run.updated_at, step_run.status, step_run.started_at,
              step_run.finished_at, step_run.failure, step_run.run_id, step_run.step_id, step_run.step_index,
              step_run.id AS step_run_id, step_run.can_rerun, step_run.rerun_config, step_run.rerun_count,
              step_run.max_reruns, step_run.deleted_at
       FROM ${table('process_step_run')} AS step_run
       JOIN ${table('process_step')} AS step ON step.id = step_run.step_id
       JOIN ${table('process_run')} AS run ON run.id = step_run.run_id
       JOIN ${table('process')} AS p ON p.id = step.process_id AND p.id = run.process_id
       WHERE p.name = ? AND step.name = ? AND run.entity_id = ? AND step_run.deleted_at IS NULL`,
      ['Flytning – Århus', 'Send brev', '0101901234'],
    );
    const expected = run.steps.find((stepRun) => stepRun.step_id === step.id);
    expect(stepRuns.map((row) => [row.step_run_id, row.status, row.step_index])).toEqual([
      [expected?.id, 'PENDING', 1],
    ]);
    // The robot then reports with only a status.
    const response = await server.request(`/api/v1/step-runs/${stepRuns[0]?.step_run_id}`, {
      method: 'PATCH',
      body: JSON.stringify({ status: 'running' }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(response.status).toBe(200);
  });
});

describe('the migration to enum names', () => {
  it('turns the lower-case statuses of existing rows into upper-case names', async () => {
    const db = await createTestDatabase();
    const orm = await createOrm(db.url);
    try {
      await migrateUpTo(orm, 'Migration20261125124437_initial');
      const connection = orm.em.fork().getConnection();
      const now = new Date();
      await connection.execute(
        'insert into processes (name, meta, created_at, updated_at) values (?, ?, ?, ?)',
        ['Gammel', '{}', now, now],
      );
      const [process] = await connection.execute<{ id: number }[]>('select id from processes');
      await connection.execute(
        'insert into process_steps (process_id, "index", name, is_rerunnable, rerun_config, created_at, updated_at) values (?, 0, ?, ?, ?, ?, ?)',
        [process.id, 'Trin', false, '{}', now, now],
      );
      const [step] = await connection.execute<{ id: number }[]>('select id from process_steps');
      await connection.execute(
        'insert into process_runs (process_id, entity_id, status, meta, is_neutralized, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?)',
        [process.id, 'x', 'failed', '{}', false, now, now],
      );
      const [run] = await connection.execute<{ id: number }[]>('select id from process_runs');
      await connection.execute(
        'insert into process_step_runs (run_id, step_id, step_index, status, can_rerun, rerun_config, rerun_count, max_reruns, created_at, updated_at) values (?, ?, 0, ?, ?, ?, 0, 0, ?, ?)',
        [run.id, step.id, 'failed', false, '{}', now, now],
      );
      await migrateToLatest(orm);
      expect(await connection.execute('select status from process_run')).toEqual([{ status: 'FAILED' }]);
      expect(await connection.execute('select status from process_step_run')).toEqual([{ status: 'FAILED' }]);
    } finally {
      await closeOrm(orm);
      await db.dispose();
    }
  });
});
