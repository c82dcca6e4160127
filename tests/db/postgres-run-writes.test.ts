/**
 * PostgreSQL's two statements of a new run and of a step-run report (src/db/postgres-run-writes.ts): that
 * the write refuses a row that is no longer the version read, that a call which had to wait for another
 * writer derives from what that writer committed (the locking transaction it falls back to), a process with
 * more steps than one statement takes, and the order in which the count rows are locked. The outcomes of
 * both calls under load are the other suites' (runs, step-runs, lifecycle: `concurrent-reports.test.ts`
 * mostly falls back); every test server also checks on closing that the counts and the field rows followed
 * every change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { ProcessStep, ProcessStepRun } from '../../src/entities/index.ts';
import { lockRow } from '../../src/db/row-lock.ts';
import { adjustRunCountsSql } from '../../src/db/run-counts.ts';
import {
  insertNewRun,
  MAX_STEP_RUNS_PER_STATEMENT,
  readProcessWithSteps,
  readRunOfStepRunWithSteps,
  writeReport,
} from '../../src/db/postgres-run-writes.ts';
import { lockRun } from '../../src/services/run.service.ts';
import type { Schemas } from '../../src/contract.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import { testDialect } from '../support/database.ts';
import { someQueryWaitsForALock } from '../support/lock-waits.ts';

type RunBody = Schemas['ProcessRun'];

describe('the UPDATE of the count rows (run-counts.ts)', () => {
  const move = {
    pending: { runs: -1, timed: 0, durationMs: 0 },
    running: { runs: 1, timed: 0, durationMs: 0 },
  };

  it('locks the rows in status order first on PostgreSQL', () => {
    expect(adjustRunCountsSql('postgresql', 7, move)).toEqual({
      sql:
        "update process_run_count c set run_count = c.run_count + (case c.status when 'PENDING' then ? " +
        "when 'RUNNING' then ? else 0 end) from (select l.process_id, l.status from process_run_count l " +
        "where l.process_id = ? and l.status in ('PENDING', 'RUNNING') order by l.status for update) l " +
        'where c.process_id = l.process_id and c.status = l.status',
      params: [-1, 1, 7],
    });
  });

  it('updates the rows it seeks on SQL Server and SQLite', () => {
    for (const dialect of ['mssql', 'sqlite'] as const) {
      expect(adjustRunCountsSql(dialect, 7, move)).toEqual({
        sql:
          "update process_run_count set run_count = run_count + (case status when 'PENDING' then ? " +
          "when 'RUNNING' then ? else 0 end) where process_id = ? and status in ('PENDING', 'RUNNING')",
        params: [-1, 1, 7],
      });
    }
    expect(
      adjustRunCountsSql('postgresql', 7, { failed: { runs: 0, timed: 0, durationMs: 0 } }),
    ).toBeUndefined();
  });
});

if (testDialect() === 'postgresql') {
  describe('PostgreSQL: a new run and a report in two statements (postgres-run-writes.ts)', () => {
    let server: TestServer;
    let processId: number;

    beforeAll(async () => {
      server = await startTestServer();
      processId = (await server.json<{ id: number }>('POST', '/api/v1/processes', { name: 'Låste rækker' }))
        .id;
      for (const index of [0, 1]) {
        await server.json('POST', '/api/v1/steps', { process_id: processId, index, name: `Trin ${index}` });
      }
    });
    afterAll(async () => {
      await server?.close();
    });

    /** Resolves once a query of the server's database waits for a lock. */
    const someoneWaits = () => someQueryWaitsForALock(server.container.orm.em.fork());

    it('writes nothing when the process or the run is no longer the version read', async () => {
      const em = server.container.orm.em.fork() as SqlEntityManager;
      const read = (await readProcessWithSteps(em, processId))!;
      const runs = async () =>
        Number((await em.execute<{ n: string }[]>('select count(*) as n from process_run'))[0].n);
      const before = await runs();
      await em.execute('update process set name = name where id = ?', [processId]); // a new version
      const now = new Date();
      const run = {
        process: processId,
        entity_id: 'z',
        status: 'pending' as const,
        meta: {},
        is_neutralized: false,
        created_at: now,
        updated_at: now,
      };
      expect(await insertNewRun(em, run, [], [], read.version)).toBeUndefined();
      expect(await runs()).toBe(before);
      const fresh = (await readProcessWithSteps(em, processId))!;
      expect(fresh.version.version).not.toBe(read.version.version);

      const created = await server.json<RunBody>('POST', '/api/v1/runs', {
        process_id: processId,
        entity_id: 'y',
      });
      const stepRunId = created.steps[0].id;
      const reported = (await readRunOfStepRunWithSteps(em, stepRunId))!;
      await em.execute('update process_run set updated_at = updated_at where id = ?', [created.id]);
      const report = { id: stepRunId, changes: { status: 'running', updated_at: now } };
      const runChanges = { id: created.id, changes: { updated_at: now }, counts: undefined };
      expect(await writeReport(em, report, { ...runChanges, version: reported.version })).toBeUndefined();
      const unchanged = await server.json<RunBody>('GET', `/api/v1/runs/${created.id}`);
      expect(unchanged.steps[0].status).toBe('pending');
      const current = (await readRunOfStepRunWithSteps(em, stepRunId))!;
      const version = await writeReport(em, report, { ...runChanges, version: current.version });
      const written = await server.json<RunBody>('GET', `/api/v1/runs/${created.id}`);
      expect(written.steps[0].status).toBe('running');
      expect(written.updated_at).toBe(now.toISOString());
      // The version it answers is the run's as written: the next report may write on it.
      expect(version).not.toBe(current.version);
      expect(version).toBe((await readRunOfStepRunWithSteps(em, stepRunId))!.version);
    });

    it('starts a run of a process with more steps than one statement takes, and reports on it', async () => {
      const many = (await server.json<{ id: number }>('POST', '/api/v1/processes', { name: 'Mange trin' }))
        .id;
      const steps = MAX_STEP_RUNS_PER_STATEMENT + 1;
      for (let index = 0; index < steps; index++) {
        await server.json('POST', '/api/v1/steps', { process_id: many, index, name: `Trin ${index}` });
      }
      const run = await server.json<RunBody>('POST', '/api/v1/runs', { process_id: many, entity_id: 'm' });
      expect(run.steps.map((step) => step.step_index)).toEqual([...Array(steps).keys()]);
      expect((await server.json<RunBody>('GET', `/api/v1/runs/${run.id}`)).steps).toEqual(run.steps);
      await server.json('PATCH', `/api/v1/step-runs/${run.steps[steps - 1].id}`, { status: 'failed' });
      expect((await server.json<RunBody>('GET', `/api/v1/runs/${run.id}`)).status).toBe('failed');
    });

    it('a report that waited for its run derives the status from the step runs as the holder committed them', async () => {
      const run = await server.json<RunBody>('POST', '/api/v1/runs', {
        process_id: processId,
        entity_id: 'a',
      });
      const [first, second] = run.steps.map((step) => step.id);
      let report: Promise<RunBody['steps'][number]> | undefined;
      await server.container.orm.em.fork().transactional(async (tx) => {
        // What every writer of a run's step runs does: lock the run (a write of its row), then write.
        await lockRun(tx, run.id);
        await tx.nativeUpdate(ProcessStepRun, { id: first }, { status: 'failed' });
        report = server.json('PATCH', `/api/v1/step-runs/${second}`, { status: 'success' });
        await someoneWaits();
      });
      expect((await report!).status).toBe('success');
      // Read before the holder committed, the first step run was pending: the run would be `running`.
      const after = await server.json<RunBody>('GET', `/api/v1/runs/${run.id}`);
      expect(after.steps.map((step) => step.status)).toEqual(['failed', 'success']);
      expect(after.status).toBe('failed');
      expect(after.finished_at).not.toBeNull();
    });

    it('a new run that waited for its process copies the steps as the holder committed them', async () => {
      let created: Promise<RunBody> | undefined;
      await server.container.orm.em.fork().transactional(async (tx) => {
        // A writer of the process's row (as a delete or a restore is) that adds a step.
        await lockRow(tx, 'process', processId);
        tx.create(ProcessStep, { process: processId, index: 2, name: 'Trin 2', rerun_config: {} });
        await tx.flush();
        created = server.json<RunBody>('POST', '/api/v1/runs', { process_id: processId, entity_id: 'b' });
        await someoneWaits();
      });
      const run = await created!;
      expect(run.steps.map((step) => step.step_index)).toEqual([0, 1, 2]);
      const read = await server.json<RunBody>('GET', `/api/v1/runs/${run.id}`);
      expect(read.steps).toEqual(run.steps);
    });

    it('a report locks the count rows it moves a run between in status order', async () => {
      const run = await server.json<RunBody>('POST', '/api/v1/runs', {
        process_id: processId,
        entity_id: 'c',
      });
      const em = server.container.orm.em.fork() as SqlEntityManager;
      // With statistics, as a database in use has them, PostgreSQL reads this small table in physical order.
      await em.execute('analyze process_run_count');
      // New versions of the PENDING row until it comes after RUNNING's in the table's physical order, the
      // order of a scan: locking as scanned would take RUNNING's row first.
      for (let attempt = 0; ; attempt++) {
        const [order] = await em.execute<{ after: boolean }[]>(
          'select (select ctid from process_run_count where process_id = ? and status = ?) > ' +
            '(select ctid from process_run_count where process_id = ? and status = ?) as after',
          [processId, 'PENDING', processId, 'RUNNING'],
        );
        if (order?.after === true) break;
        if (attempt === 100) throw new Error("PENDING's row never came after RUNNING's");
        await em.execute(
          "update process_run_count set run_count = run_count where process_id = ? and status = 'PENDING'",
          [processId],
        );
      }
      let report: Promise<unknown> | undefined;
      let runningFree: boolean | undefined;
      await server.container.orm.em.fork().transactional(async (tx) => {
        const holder = tx as SqlEntityManager;
        await holder.execute(
          "select 1 from process_run_count where process_id = ? and status = 'PENDING' for update",
          [processId],
        );
        // pending → running: the report moves the run from PENDING's row to RUNNING's.
        report = server.json('PATCH', `/api/v1/step-runs/${run.steps[0].id}`, { status: 'running' });
        await someoneWaits();
        // Waiting for PENDING's row, the report holds none after it: RUNNING's row is free.
        const free = await holder.execute<unknown[]>(
          "select 1 from process_run_count where process_id = ? and status = 'RUNNING' for update skip locked",
          [processId],
        );
        runningFree = free.length === 1;
      });
      await report;
      expect(runningFree).toBe(true);
      expect((await server.json<RunBody>('GET', `/api/v1/runs/${run.id}`)).status).toBe('running');
    });
  });
}
