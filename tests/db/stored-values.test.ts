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
      'select id, status from process_runs where process_id = ? order by id',
      [process.id],
    );
    expect(stored.map((row) => row.status)).toEqual(['FAILED', 'COMPLETED', 'PENDING']);
    const stepStatuses = await sql<{ status: string }>(
      'select status from process_step_runs where run_id = ? order by step_index',
      [runs[1].id],
    );
    expect(stepStatuses.map((row) => row.status)).toEqual(['SUCCESS', 'OPTIONAL']);

    const [report] = await sql<{ failed: number | string }>(
      "select count(*) as failed from process_runs where status = 'FAILED' and process_id = ?",
      [process.id],
    );
    const page = await send('GET', `/api/v1/runs?status=failed&process_id=${process.id}`);
    expect(Number(report.failed)).toBe(page['total']);
    expect((await send('GET', `/api/v1/runs/${runs[0].id}`))['status']).toBe('failed');
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
      expect(await connection.execute('select status from process_runs')).toEqual([{ status: 'FAILED' }]);
      expect(await connection.execute('select status from process_step_runs')).toEqual([
        { status: 'FAILED' },
      ]);
    } finally {
      await closeOrm(orm);
      await db.dispose();
    }
  });
});
