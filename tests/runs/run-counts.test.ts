/**
 * `process_run_count` (src/db/run-counts.ts): `total` of a run list filtered by nothing but process and
 * status, and the dashboards' counts, come from it; they must equal what counting the runs gives, after
 * every way runs change — created and reported at the same time, rerun, deleted and restored on their
 * own or with their process — and for runs the service never counted (written by another program, or
 * there before the migration that created the table).
 *
 * The comparison goes over the wire: the same list with `created_after=1970-01-01` added (a filter that
 * keeps every run and makes the service count the runs themselves) must answer the same `total`.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Schemas } from '../../src/contract.ts';
import { RUN_STATUSES, type RunStatus } from '../../src/entities/index.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import { afterMigrationOver, storedTime, testDialect } from '../support/database.ts';
import { runCountDrift } from '../support/run-counts.ts';

const run = promisify(execFile);

type RunBody = Schemas['ProcessRun'];
type RunPage = Schemas['ProcessRunPage'];
type OverviewBody = Schemas['ProcessOverview'];

/** Every status subset worth asking for: none, each alone, and two together. */
const STATUS_FILTERS: readonly (readonly RunStatus[])[] = [
  [],
  ...RUN_STATUSES.map((status) => [status]),
  ['failed', 'completed'],
  ['pending', 'running', 'cancelled'],
];

describe('run counts', () => {
  let server: TestServer;
  const processIds: number[] = [];

  const total = async (query: string) =>
    (await server.json<RunPage>('GET', `/api/v1/runs?size=1${query}`)).total;

  /** Every process × status filter: the counted total equals the total of counting the runs. */
  const expectTotalsExact = async () => {
    for (const processId of [undefined, ...processIds]) {
      for (const statuses of STATUS_FILTERS) {
        const query =
          (processId === undefined ? '' : `&process_id=${processId}`) +
          statuses.map((status) => `&status=${status}`).join('');
        const counted = await total(query);
        const recounted = await total(`${query}&created_after=1970-01-01`);
        expect(counted, `GET /runs?${query}`).toBe(recounted);
      }
    }
    expect(await runCountDrift(server.container.orm.em.fork())).toEqual([]);
  };

  const createRun = (processId: number, name: string) =>
    server.json<RunBody>('POST', '/api/v1/runs', {
      process_id: processId,
      entity_id: `0101${name.length}`,
      entity_name: name,
    });
  const remove = async (path: string) => {
    const response = await server.request(path, { method: 'DELETE' });
    expect(response.status, `DELETE ${path}`).toBe(204);
  };
  const report = (stepRunId: number, status: string) =>
    server.json('PATCH', `/api/v1/step-runs/${stepRunId}`, { status });

  beforeAll(async () => {
    server = await startTestServer({ RERUN_ALLOWED_HOSTS: '127.0.0.1' });
    for (const name of ['Flytning', 'Boligstøtte']) {
      const process = await server.json<{ id: number }>('POST', '/api/v1/processes', { name });
      for (const [index, step] of ['Hent', 'Journalisér'].entries()) {
        await server.json('POST', '/api/v1/steps', {
          process_id: process.id,
          index,
          name: step,
          is_rerunnable: index === 1,
          // Queued only: the rerun worker is off in tests unless a test turns it on.
          rerun_config: { max_retries: 3, api_endpoint: 'http://127.0.0.1:9/rerun' },
        });
      }
      processIds.push(process.id);
    }
  });
  afterAll(async () => {
    await server?.close();
  });

  it('a new process has a zero count for every status', async () => {
    await expectTotalsExact();
    for (const processId of processIds) {
      expect(await total(`&process_id=${processId}`)).toBe(0);
    }
  });

  it('follows runs created and reported concurrently in both processes, with reruns', async () => {
    const [first, second] = processIds as [number, number];
    const runs = await Promise.all(
      Array.from({ length: 24 }, (_, index) =>
        createRun(index % 3 === 0 ? second : first, `Borger ${index}`),
      ),
    );
    await expectTotalsExact();
    // Every run's step runs reported at the same time as the other runs': each run ends in a status
    // of its own (completed, failed, cancelled, running, or still pending).
    const outcomes = ['success', 'failed', 'cancelled', 'running', undefined] as const;
    await Promise.all(
      runs.map(async (run, index) => {
        const outcome = outcomes[index % outcomes.length];
        if (outcome === undefined) return;
        const [firstStep, secondStep] = run.steps as [Schemas['ProcessStepRun'], Schemas['ProcessStepRun']];
        await report(firstStep.id, 'running');
        await report(firstStep.id, 'success');
        await report(secondStep.id, outcome);
      }),
    );
    await expectTotalsExact();
    expect(await total('&status=failed')).toBeGreaterThan(0);
    // A failed run rerun: failed → running.
    const failed = runs.filter((_, index) => outcomes[index % outcomes.length] === 'failed');
    for (const run of failed.slice(0, 2)) {
      await server.json('POST', `/api/v1/step-runs/${run.steps[1]?.id}/rerun`, {});
    }
    await expectTotalsExact();
  });

  it('follows runs deleted and restored on their own and with their process', async () => {
    const [first, second] = processIds as [number, number];
    const page = await server.json<RunPage>('GET', `/api/v1/runs?process_id=${first}&size=3`);
    for (const run of page.items) {
      await remove(`/api/v1/runs/${run.id}`);
      // Twice: the second changes nothing.
      await remove(`/api/v1/runs/${run.id}`);
    }
    await expectTotalsExact();
    await Promise.all(page.items.map((run) => server.json('POST', `/api/v1/runs/${run.id}/restore`)));
    await Promise.all(page.items.map((run) => server.json('POST', `/api/v1/runs/${run.id}/restore`)));
    await expectTotalsExact();

    const before = await total('');
    const ofSecond = await total(`&process_id=${second}`);
    await remove(`/api/v1/runs/${page.items[0]?.id}`);
    await remove(`/api/v1/processes/${second}`);
    await expectTotalsExact();
    expect(await total('')).toBe(before - 1 - ofSecond);
    await server.json('POST', `/api/v1/processes/${second}/restore`);
    await expectTotalsExact();
    expect(await total('')).toBe(before - 1);
    await server.json('POST', `/api/v1/runs/${page.items[0]?.id}/restore`);
    await expectTotalsExact();
    expect(await total('')).toBe(before);
  });

  it('the overview and the dashboard count as the list does', async () => {
    for (const processId of processIds) {
      const overview = await server.json<OverviewBody>('GET', `/api/v1/dashboard/overview/${processId}`);
      const dashboard = await server.json<Schemas['ProcessDashboard']>(
        'GET',
        `/api/v1/dashboard/process/${processId}`,
      );
      expect(overview.total_runs).toBe(await total(`&process_id=${processId}&created_after=1970-01-01`));
      expect(dashboard.statistics.total_runs).toBe(overview.total_runs);
      for (const status of RUN_STATUSES) {
        const listed = await total(`&process_id=${processId}&status=${status}&created_after=1970-01-01`);
        expect(overview[`${status}_runs`], status).toBe(listed);
        expect(dashboard.statistics[`${status}_runs`], status).toBe(listed);
      }
    }
  });

  it("make recount-runs counts again what another program changed behind the service's back", async () => {
    const [first] = processIds as [number];
    const page = await server.json<RunPage>('GET', `/api/v1/runs?process_id=${first}&status=pending&size=1`);
    const connection = server.container.orm.em.fork().getConnection();
    await connection.execute("update process_run set status = 'CANCELLED' where id = ?", [page.items[0]?.id]);
    expect(await runCountDrift(server.container.orm.em.fork())).toHaveLength(2);
    // The list's total by process and status is read from the counts, not counted: until they are
    // counted again it still sees the run as pending. Every other filter counts the runs themselves.
    const counted = `&process_id=${first}&status=cancelled`;
    expect(await total(counted)).toBe((await total(`${counted}&created_after=1970-01-01`)) - 1);
    expect(await total('&status=pending')).toBe(
      (await total('&status=pending&created_after=1970-01-01')) + 1,
    );
    expect(await total('')).toBe(await total('&created_after=1970-01-01'));
    const { stdout } = await run(process.execPath, ['src/cli/recount-runs.ts'], {
      env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: server.container.config.databaseUrl },
    });
    expect(stdout).toMatch(
      /^Counted the runs of every process and indexed their meta values again in \d+ ms\.$/m,
    );
    await expectTotalsExact();
  });

  it('a process another program wrote into the tables (no count rows) is counted from its runs', async () => {
    const connection = server.container.orm.em.fork().getConnection();
    const now = storedTime();
    await connection.execute('insert into process (name, meta, created_at, updated_at) values (?, ?, ?, ?)', [
      'Skrevet udefra',
      '{}',
      now,
      now,
    ]);
    const [{ id }] = await connection.execute<[{ id: number }]>('select max(id) as id from process');
    for (const status of ['COMPLETED', 'FAILED', 'FAILED']) {
      await connection.execute(
        'insert into process_run (process_id, entity_id, status, meta, is_neutralized, created_at, updated_at) ' +
          'values (?, ?, ?, ?, ?, ?, ?)',
        [id, '0101', status, '{}', false, now, now],
      );
    }
    const all = await total('&created_after=1970-01-01');
    expect(await total('')).toBe(all);
    expect(await total(`&process_id=${id}`)).toBe(3);
    expect(await total(`&process_id=${id}&status=failed`)).toBe(2);
    expect(await total('&status=failed')).toBe(await total('&status=failed&created_after=1970-01-01'));
    const overview = await server.json<OverviewBody>('GET', `/api/v1/dashboard/overview/${id}`);
    expect([overview.total_runs, overview.completed_runs, overview.failed_runs]).toEqual([3, 1, 2]);
    // The drift check of the test server's close (tests/support/app.ts) wants a row per status.
    expect(await runCountDrift(server.container.orm.em.fork())).toEqual([
      `process ${id}: 0 count rows, not ${RUN_STATUSES.length}`,
    ]);
    await connection.execute('delete from process_run where process_id = ?', [id]);
    await connection.execute('delete from process where id = ?', [id]);
  });
});

describe('the migration that creates the run counts', () => {
  it('counts the live runs already in the database, per process and status', async () => {
    const runs: [number, string, boolean][] = [
      [1, 'COMPLETED', false],
      [1, 'COMPLETED', false],
      [1, 'FAILED', true],
      [1, 'RUNNING', false],
      [2, 'PENDING', false],
      [2, 'CANCELLED', true],
    ];
    await afterMigrationOver(
      'Migration20261126153904_trigram_search',
      {
        processes: [{ name: 'A' }, { name: 'B' }, { name: 'Tom' }],
        runs: runs.map(([process, status, deleted]) => ({ process, status, deleted })),
      },
      async (orm) => {
        const rows = await orm.em
          .fork()
          .getConnection()
          .execute<{ process_id: number; status: string; run_count: number | string }[]>(
            'select process_id, status, run_count from process_run_count where run_count > 0 order by process_id, status',
          );
        expect(rows.map((row) => [Number(row.process_id), row.status, Number(row.run_count)])).toEqual([
          [1, 'COMPLETED', 2],
          [1, 'RUNNING', 1],
          [2, 'PENDING', 1],
        ]);
        expect(await runCountDrift(orm.em.fork())).toEqual([]);
      },
    );
  });
});

describe('the migration that adds the durations to the run counts', () => {
  it('sums the durations of the live runs already there with both times, cut to milliseconds', async () => {
    const sqlite = testDialect() === 'sqlite';
    // On SQLite the original's text with microseconds, which the service reads as milliseconds.
    const at = (text: string) => (sqlite ? text : new Date(`${text.slice(0, 23).replace(' ', 'T')}Z`));
    const start = at('2026-11-26 10:00:00.000000');
    await afterMigrationOver(
      'Migration20261126193921_run_fields',
      {
        processes: [{ name: 'A' }, { name: 'B' }],
        runs: [
          {
            process: 1,
            status: 'COMPLETED',
            started_at: start,
            finished_at: at('2026-11-26 10:01:30.500250'),
          },
          {
            process: 1,
            status: 'COMPLETED',
            started_at: start,
            finished_at: at('2026-11-26 11:00:00.000999'),
          },
          { process: 1, status: 'COMPLETED', finished_at: at('2026-11-26 11:00:00.000000') }, // never started
          { process: 1, status: 'COMPLETED', started_at: start, finished_at: start, deleted: true },
          { process: 1, status: 'FAILED', started_at: start, finished_at: at('2026-11-26 10:00:02.000000') },
          { process: 2, status: 'RUNNING', started_at: start },
        ],
      },
      async (orm) => {
        const rows = await orm.em
          .fork()
          .getConnection()
          .execute<
            {
              process_id: number;
              status: string;
              timed_count: number | string;
              duration_ms_sum: number | string;
            }[]
          >(
            'select process_id, status, timed_count, duration_ms_sum from process_run_count ' +
              'where run_count > 0 order by process_id, status',
          );
        expect(
          rows.map((row) => [
            Number(row.process_id),
            row.status,
            Number(row.timed_count),
            Number(row.duration_ms_sum),
          ]),
        ).toEqual([
          [1, 'COMPLETED', 2, 90_500 + 3_600_000],
          [1, 'FAILED', 1, 2_000],
          [2, 'RUNNING', 0, 0],
        ]);
        expect(await runCountDrift(orm.em.fork())).toEqual([]);
      },
    );
  });
});
