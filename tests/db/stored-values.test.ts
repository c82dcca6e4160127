/**
 * Values are stored as the original service stored them where a reader of the tables could see the
 * difference (issue "take over a running installation"): statuses as the upper-case names of its enum
 * members. A report's `WHERE status = 'FAILED'` counts what the API calls failed. Times as UTC: on SQLite
 * the original's text `YYYY-MM-DD HH:MM:SS.ffffff`, on the server databases their own UTC types.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeOrm, createOrm, migrateToLatest, migrateUpTo } from '../../src/db/orm.ts';
import { Process, ProcessRun } from '../../src/entities/index.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import { createTestDatabase, testDialect } from '../support/database.ts';
import { utcTextSql } from '../support/stored.ts';

describe('statuses as the original stored them', () => {
  let server: TestServer;
  const send = (method: string, path: string, body?: unknown) =>
    server.json<Record<string, unknown> & { id: number }>(method, path, body);
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
    const post = (path: string, body: unknown) =>
      server.json<{ id: number; steps: { id: number; step_id: number }[] }>('POST', path, body, 201);
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

describe('times as the original stored them', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('stores UTC (on SQLite the original’s text), and a reader’s SQL range agrees with the API', async () => {
    const post = (path: string, body: unknown) =>
      server.json<{ id: number; created_at: string }>('POST', path, body, 201);
    const process = await post('/api/v1/processes', { name: 'Tider' });
    await post('/api/v1/steps', { process_id: process.id, index: 0, name: 'Trin' });
    const run = (await post('/api/v1/runs', { process_id: process.id, entity_id: 'tid' })) as unknown as {
      id: number;
      created_at: string;
      steps: { id: number }[];
    };
    const report = await server.request(`/api/v1/step-runs/${run.steps[0].id}`, {
      method: 'PATCH',
      body: JSON.stringify({ status: 'running', started_at: '2026-01-05T10:15:00.123456+02:00' }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(report.status).toBe(200);
    const stepRun = (await report.json()) as { id: number; started_at: string; created_at: string };
    expect(stepRun.started_at).toBe('2026-01-05T08:15:00.123Z');
    const connection = server.container.orm.em.fork().getConnection();
    const [row] = await connection.execute<{ started: string; created: string }[]>(
      `select ${utcTextSql('started_at')} as started, ${utcTextSql('created_at')} as created from process_step_run where id = ?`,
      [stepRun.id],
    );
    expect(row).toEqual({
      started: '2026-01-05 08:15:00.123',
      created: stepRun.created_at.replace('T', ' ').slice(0, 23),
    });
    if (testDialect() === 'sqlite') {
      const [raw] = await connection.execute<{ started_at: unknown; kind: string }[]>(
        'select started_at, typeof(started_at) as kind from process_step_run where id = ?',
        [stepRun.id],
      );
      expect(raw).toEqual({ started_at: '2026-01-05 08:15:00.123000', kind: 'text' });
    }
    // A report selecting runs by a range of text bounds, as it would have against the original, counts
    // what the API's created_after/created_before count.
    const from = new Date(Date.parse(run.created_at) - 1000).toISOString();
    const to = new Date(Date.parse(run.created_at) + 1000).toISOString();
    const [counted] = await connection.execute<{ n: number | string }[]>(
      `select count(*) as n from process_run where process_id = ? and ${utcTextSql('created_at')} >= ? and ${utcTextSql('created_at')} < ?`,
      [process.id, from.replace('T', ' ').slice(0, 23), to.replace('T', ' ').slice(0, 23)],
    );
    const page = await server.request(
      `/api/v1/runs?process_id=${process.id}&created_after=${from}&created_before=${to}`,
    );
    expect(page.status).toBe(200);
    expect(Number(counted.n)).toBe(((await page.json()) as { total: number }).total);
    expect(Number(counted.n)).toBe(1);
  });

  it('a flush writes only what changed: times read earlier do not overwrite newer ones', async () => {
    const process = await server.json<{ id: number }>('POST', '/api/v1/processes', { name: 'Flush' }, 201);
    const created = await server.json<{ id: number }>(
      'POST',
      '/api/v1/runs',
      { process_id: process.id, entity_id: 'flush' },
      201,
    );
    const setStartedAt = (iso: string) =>
      server.container.orm.em
        .fork()
        .nativeUpdate(ProcessRun, { id: created.id }, { started_at: new Date(iso) });
    await setStartedAt('2026-01-01T08:00:00.000Z');
    const em = server.container.orm.em.fork();
    const run = await em.findOneOrFail(ProcessRun, { id: created.id });
    // Another writer changes the run's start after this unit of work read it.
    await setStartedAt('2026-02-01T08:00:00.000Z');
    run.entity_name = 'Kun navnet ændres';
    await em.flush();
    const after = await server.json<{ entity_name: string; started_at: string }>(
      'GET',
      `/api/v1/runs/${created.id}`,
    );
    expect(after).toMatchObject({ entity_name: 'Kun navnet ændres', started_at: '2026-02-01T08:00:00.000Z' });
  });
});

describe('JSON as the original stored it', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('stores JSON text that a reader can parse and LIKE, and serves the keys in the order written', async () => {
    const post = (path: string, body: unknown) =>
      server.json<{ id: number; meta: Record<string, unknown> }>('POST', path, body, 201);
    const process = await post('/api/v1/processes', { name: 'JSON-tekst' });
    const meta = { sagsbehandler: 'Jens Hansen', alpha: { ø: 'Æblegård' }, nr: [3, 1, 2] };
    const run = await post('/api/v1/runs', { process_id: process.id, entity_id: 'json', meta });
    expect(Object.keys(run.meta)).toEqual(['sagsbehandler', 'alpha', 'nr']);
    const fetched = (await (await server.request(`/api/v1/runs/${run.id}`)).json()) as typeof run;
    expect(Object.keys(fetched.meta)).toEqual(['sagsbehandler', 'alpha', 'nr']);
    const connection = server.container.orm.em.fork().getConnection();
    const rows = await connection.execute<{ meta: unknown }[]>(
      'select meta from process_run where id = ? and meta like ?',
      [run.id, '%Æblegård%'],
    );
    expect(rows).toHaveLength(1);
    expect(typeof rows[0].meta).toBe('string');
    expect(JSON.parse(rows[0].meta as string)).toEqual(meta);
  });
});

describe('the migration to the original’s value storage keeps every value', () => {
  it('SQLite: epoch milliseconds become the original’s UTC text; PostgreSQL: jsonb becomes the JSON text', async () => {
    const db = await createTestDatabase();
    const orm = await createOrm(db.url);
    try {
      await migrateUpTo(orm, 'Migration20261126075000_original_table_names');
      const connection = orm.em.fork().getConnection();
      const epoch = Date.UTC(2026, 0, 31, 23, 59, 59, 7); // 2026-01-31T23:59:59.007Z
      const meta = { kommune: 'Århus', sag: { nr: 7, emner: ['flytning', '🏠'] } };
      const dialect = testDialect();
      // Rows as the previous schema stored them: times as epoch numbers on SQLite, JSON as jsonb on PostgreSQL.
      const time = dialect === 'sqlite' ? epoch : new Date(epoch);
      await connection.execute(
        'insert into process (name, meta, created_at, updated_at, deleted_at) values (?, ?, ?, ?, null)',
        ['Gammel', JSON.stringify(meta), time, dialect === 'sqlite' ? epoch + 1 : new Date(epoch + 1)],
      );
      await migrateToLatest(orm);
      const process = await orm.em.fork().findOneOrFail(Process, { name: 'Gammel' });
      expect(process.created_at.toISOString()).toBe('2026-01-31T23:59:59.007Z');
      expect(process.updated_at.toISOString()).toBe('2026-01-31T23:59:59.008Z');
      expect(process.meta).toEqual(meta);
      if (dialect === 'sqlite') {
        expect(
          await connection.execute(
            'select created_at, updated_at, deleted_at, typeof(created_at) as kind from process',
          ),
        ).toEqual([
          {
            created_at: '2026-01-31 23:59:59.007000',
            updated_at: '2026-01-31 23:59:59.008000',
            deleted_at: null,
            kind: 'text',
          },
        ]);
      }
      if (dialect === 'postgresql') {
        const columns = await connection.execute<
          { table_name: string; column_name: string; data_type: string }[]
        >(
          `select table_name, column_name, data_type from information_schema.columns
           where table_schema = current_schema() and data_type in ('json', 'jsonb')`,
        );
        expect(columns).toEqual([]);
        // jsonb had already normalised the document; the text keeps what jsonb gave back.
        const [row] = await connection.execute<{ meta: string }[]>('select meta from process');
        expect(typeof row.meta).toBe('string');
        expect(JSON.parse(row.meta)).toEqual(meta);
      }
    } finally {
      await closeOrm(orm);
      await db.dispose();
    }
  });
});
