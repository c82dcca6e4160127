/**
 * The `lifecycle` group of `make bench` (bench.ts starts the server and seeds the database): the data
 * lifecycle's set-based operations on a database of BENCH_RUNS seeded runs, each called once or a few
 * times over real HTTP and timed by the client (request sent to response body read), on the process with
 * the most runs:
 *
 *   1. `PUT /processes/{id}/retention` {retention_months: 12}: one UPDATE rescheduling all its runs;
 *   2. `GET /admin/cleanup/stats` with a known number of runs due (its oldest runs, made due in SQL);
 *   3. `POST /admin/cleanup/neutralize?limit=1000&dry_run=false` until those runs are neutralised (each
 *      run with its step runs in its own transaction): runs per second;
 *   4. `DELETE /processes/{id}` (the cascade to its steps, runs and step runs) and `POST …/restore`;
 *   5. `DELETE /runs/{id}` and `POST /runs/{id}/restore` of single runs: the median of 50 of each.
 *
 * Every step is checked, through the API and in the database (a connection of this process): the new
 * schedule of every run against `addCalendarMonths`, the due and neutralised counts, the rows one delete
 * hid and its restore brought back. A wrong answer throws: a bench of a broken operation measures nothing.
 */
import type { Schemas } from '../../src/contract.ts';
import type { Orm } from '../../src/db/orm.ts';
import { includeDeleted } from '../../src/db/soft-delete.ts';
import { Process, ProcessRun, ProcessStep, ProcessStepRun } from '../../src/entities/index.ts';
import { addCalendarMonths } from '../../src/services/process.service.ts';
import { STEPS_PER_PROCESS, type SeededData } from './seed-runs.ts';

/** What the lifecycle bench needs of bench.ts's server (its `Server` fits). */
export interface LifecycleServer {
  baseUrl: string;
  adminKey: string;
}

export interface LifecycleRow {
  operation: string;
  calls: number;
  /** Median milliseconds of one call. */
  medianMs: number;
  /** Milliseconds of all calls together. */
  totalMs: number;
  /** Rows the calls wrote together (the stats: the due runs each call counted). */
  rows: number;
  /** What `rows` are. */
  rowsAre: string;
  /** False when `rows` per second means nothing (a count read, not rows written). Default true. */
  rate?: false;
}

export interface LifecycleReport {
  /** The process measured: id, name and how many runs it has. */
  process: { id: number; name: string; runs: number };
  rows: LifecycleRow[];
  /** What the checks saw on the way (one line each). */
  notes: string[];
}

/** Runs made due (the process's oldest) and then neutralised in batches of NEUTRALIZE_LIMIT. */
const DUE_RUNS = 5_000;
const NEUTRALIZE_LIMIT = 1_000;
const RETENTION_MONTHS = 12;
const STATS_CALLS = 10;
const SINGLE_RUN_CALLS = 50;

class BenchCheckFailed extends Error {
  override name = 'BenchCheckFailed';
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new BenchCheckFailed(`lifecycle bench: ${message}`);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

/**
 * The lifecycle operations on `server`, whose database `orm` also reaches (for setup and checks) and
 * `seeded` describes. Throws when an answer or the data is not what the operation promises.
 */
export async function measureLifecycle(
  server: LifecycleServer,
  orm: Orm,
  seeded: SeededData,
): Promise<LifecycleReport> {
  const headers = { 'X-API-Key': server.adminKey, 'Content-Type': 'application/json' };
  /** One request, timed until its body is read; anything but `status` throws. */
  const call = async <T>(
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    path: string,
    status: number,
    body?: unknown,
  ): Promise<{ ms: number; body: T }> => {
    const started = performance.now();
    const response = await fetch(server.baseUrl + path, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const ms = performance.now() - started;
    check(
      response.status === status,
      `${method} ${path} answered ${response.status}, not ${status}: ${text.slice(0, 500)}`,
    );
    return { ms, body: (text === '' ? undefined : JSON.parse(text)) as T };
  };
  const runsOf = async (processId: number) =>
    (await call<Schemas['ProcessRunPage']>('GET', `/api/v1/runs?process_id=${processId}&size=1`, 200)).body
      .total;
  const dueNow = async () =>
    (await call<Schemas['CleanupStats']>('GET', '/api/v1/admin/cleanup/stats', 200)).body;
  /** Every run of the process, deleted ones too: id, creation and scheduled deletion (epoch ms). */
  const schedules = async (processId: number) => {
    const runs = await orm.em.fork().find(
      ProcessRun,
      { process: processId },
      {
        ...includeDeleted,
        fields: ['id', 'created_at', 'scheduled_deletion_at'],
        disableIdentityMap: true,
      },
    );
    return runs.map((run) => ({
      id: run.id,
      created: run.created_at.getTime(),
      scheduled: run.scheduled_deletion_at?.getTime() ?? null,
    }));
  };
  const rows: LifecycleRow[] = [];
  const notes: string[] = [];

  // The process with the most runs, and what every process has (seeded: all live).
  const counts = new Map<number, number>();
  for (const id of seeded.processIds) counts.set(id, await runsOf(id));
  check(
    sum([...counts.values()]) === seeded.runs,
    `the processes' runs add up to ${sum([...counts.values()])}, not the ${seeded.runs} seeded`,
  );
  const [processId, processRuns] = [...counts].reduce((most, entry) => (entry[1] > most[1] ? entry : most));
  const process = (await call<Schemas['Process']>('GET', `/api/v1/processes/${processId}`, 200)).body;

  // Warm-up, untimed: every operation once on other data, so the timed calls measure the database's work
  // and not the first call's compilation of the code path (a few hundred ms on a fresh server). The
  // retention of the smallest process is set to what it is (its schedules stay as they are); a process of
  // its own with one run is deleted and restored, and that run neutralised, deleted and restored.
  const [smallest] = [...counts].reduce((least, entry) => (entry[1] < least[1] ? entry : least));
  const smallestRetention = (await call<Schemas['Process']>('GET', `/api/v1/processes/${smallest}`, 200)).body
    .retention_months;
  await call('PUT', `/api/v1/processes/${smallest}/retention`, 200, { retention_months: smallestRetention });
  await dueNow();
  await call('POST', `/api/v1/admin/cleanup/neutralize?limit=${NEUTRALIZE_LIMIT}&dry_run=true`, 200);
  const warmUp = (await call<Schemas['Process']>('POST', '/api/v1/processes', 201, { name: 'Bench warm-up' }))
    .body.id;
  const warmUpRun = (
    await call<Schemas['ProcessRun']>('POST', '/api/v1/runs', 201, {
      process_id: warmUp,
      entity_id: 'warm-up',
    })
  ).body.id;
  await call('DELETE', `/api/v1/processes/${warmUp}`, 204);
  await runsOf(warmUp);
  await call('POST', `/api/v1/processes/${warmUp}/restore`, 200);
  await call('POST', `/api/v1/runs/${warmUpRun}/neutralize`, 200);
  await call('DELETE', `/api/v1/runs/${warmUpRun}`, 204);
  await call('POST', `/api/v1/runs/${warmUpRun}/restore`, 200);

  // 1. Retention: one UPDATE of all the process's runs; every run's schedule checked afterwards.
  const before = new Map((await schedules(processId)).map((run) => [run.id, run.scheduled]));
  const retention = await call<Schemas['Process']>('PUT', `/api/v1/processes/${processId}/retention`, 200, {
    retention_months: RETENTION_MONTHS,
  });
  check(retention.body.retention_months === RETENTION_MONTHS, 'the retention answer lacks the new months');
  const after = await schedules(processId);
  check(after.length === processRuns, `${after.length} runs of process ${processId} after the retention`);
  let changed = 0;
  for (const run of after) {
    const expected = addCalendarMonths(new Date(run.created), RETENTION_MONTHS).getTime();
    check(
      run.scheduled === expected,
      `run ${run.id} (created ${new Date(run.created).toISOString()}) is scheduled for ` +
        `${run.scheduled === null ? 'never' : new Date(run.scheduled).toISOString()}, not ` +
        new Date(expected).toISOString(),
    );
    if (before.get(run.id) !== run.scheduled) changed++;
  }
  rows.push({
    operation: `PUT /processes/{id}/retention (${RETENTION_MONTHS} months)`,
    calls: 1,
    medianMs: retention.ms,
    totalMs: retention.ms,
    rows: after.length,
    rowsAre: 'runs rescheduled',
  });
  notes.push(
    `retention ${process.retention_months ?? 'none'} → ${RETENTION_MONTHS} months: all ${after.length} runs ` +
      `scheduled at created_at + ${RETENTION_MONTHS} months (checked each), ${changed} of them changed`,
  );

  // 2. Stats with a known number of due runs: the process's oldest, made due in SQL (scheduled at their
  // creation). With 12 months of retention a few of the oldest are due already; they are among these.
  const dueAfterRetention = (await dueNow()).total_due_for_neutralization;
  const dueRuns = Math.min(DUE_RUNS, Math.floor(processRuns / 2));
  await orm.em
    .fork()
    .getConnection()
    .execute(
      'update process_run set scheduled_deletion_at = created_at where id in ' +
        '(select id from process_run where process_id = ? order by created_at, id limit ?)',
      [processId, dueRuns],
      'run',
    );
  const statsMs: number[] = [];
  for (let i = 0; i < STATS_CALLS; i++) {
    const started = performance.now();
    const stats = await dueNow();
    statsMs.push(performance.now() - started);
    check(
      stats.total_due_for_neutralization === dueRuns && stats.runs_due_for_neutralization === dueRuns,
      `cleanup/stats counts ${stats.total_due_for_neutralization} due runs, not the ${dueRuns} made due`,
    );
  }
  rows.push({
    operation: 'GET /admin/cleanup/stats',
    calls: STATS_CALLS,
    medianMs: median(statsMs),
    totalMs: sum(statsMs),
    rows: dueRuns,
    rowsAre: 'due runs counted by each call',
    rate: false,
  });
  notes.push(
    `due: ${dueAfterRetention} after the retention change, ${dueRuns} after making the oldest due in SQL`,
  );

  // 3. Neutralise them in batches until none is due.
  const neutralizeMs: number[] = [];
  let neutralized = 0;
  let sample: number | undefined;
  while (neutralized < dueRuns) {
    const batch = await call<Schemas['CleanupNeutralizeResult']>(
      'POST',
      `/api/v1/admin/cleanup/neutralize?limit=${NEUTRALIZE_LIMIT}&dry_run=false`,
      200,
    );
    neutralizeMs.push(batch.ms);
    check(
      batch.body.failed_count === 0,
      `neutralize failed ${batch.body.failed_count} runs: ${JSON.stringify(batch.body.errors.slice(0, 3))}`,
    );
    check(
      batch.body.neutralized_count === Math.min(NEUTRALIZE_LIMIT, dueRuns - neutralized),
      `a neutralize batch neutralised ${batch.body.neutralized_count} runs with ${dueRuns - neutralized} due`,
    );
    neutralized += batch.body.neutralized_count;
    sample ??= batch.body.neutralized_run_ids[0];
  }
  const neutralizedInDatabase = await orm.em
    .fork()
    .count(ProcessRun, { process: processId, is_neutralized: true }, { ...includeDeleted });
  check(
    neutralizedInDatabase === dueRuns,
    `${neutralizedInDatabase} runs are neutralised in the database, not ${dueRuns}`,
  );
  const leftDue = (await dueNow()).total_due_for_neutralization;
  check(leftDue === 0, `${leftDue} runs are still due after neutralising`);
  if (sample !== undefined) {
    const run = (await call<Schemas['ProcessRun']>('GET', `/api/v1/runs/${sample}`, 200)).body;
    check(
      run.is_neutralized && run.entity_id === `NEUTRALIZED_${sample}` && run.entity_name === null,
      `neutralised run ${sample} reads ${JSON.stringify(run).slice(0, 300)}`,
    );
  }
  rows.push({
    operation: `POST /admin/cleanup/neutralize?limit=${NEUTRALIZE_LIMIT}&dry_run=false`,
    calls: neutralizeMs.length,
    medianMs: median(neutralizeMs),
    totalMs: sum(neutralizeMs),
    rows: neutralized,
    rowsAre: 'runs neutralised',
  });

  // 4. Delete the process (its steps, runs and step runs under one token) and restore it.
  const hiddenBy = async (token: string) => {
    const em = orm.em.fork();
    const where = { deletion_token: token };
    return (
      (await em.count(Process, where, { ...includeDeleted })) +
      (await em.count(ProcessStep, where, { ...includeDeleted })) +
      (await em.count(ProcessRun, where, { ...includeDeleted })) +
      (await em.count(ProcessStepRun, where, { ...includeDeleted }))
    );
  };
  const cascade = 1 + STEPS_PER_PROCESS + processRuns * (1 + STEPS_PER_PROCESS);
  const deleted = await call<undefined>('DELETE', `/api/v1/processes/${processId}`, 204);
  const token = (
    await orm.em.fork().findOne(Process, { id: processId }, { ...includeDeleted, disableIdentityMap: true })
  )?.deletion_token;
  check(typeof token === 'string', `process ${processId} has no deletion token after its delete`);
  const hidden = await hiddenBy(token);
  check(hidden === cascade, `the process delete hid ${hidden} rows, not ${cascade}`);
  await call('GET', `/api/v1/processes/${processId}`, 404);
  const runsWhileDeleted = await runsOf(processId);
  check(
    runsWhileDeleted === 0,
    `GET /runs?process_id= counts ${runsWhileDeleted} runs of the deleted process`,
  );
  const restored = await call<Schemas['Process']>('POST', `/api/v1/processes/${processId}/restore`, 200);
  check(restored.body.id === processId, 'the restore answered another process');
  const stillHidden = await hiddenBy(token);
  check(stillHidden === 0, `${stillHidden} rows of the process delete are still hidden after the restore`);
  const runsRestored = await runsOf(processId);
  check(runsRestored === processRuns, `${runsRestored} runs after the restore, not ${processRuns}`);
  const liveStepRuns = await orm.em.fork().count(ProcessStepRun, { run: { process: processId } });
  check(
    liveStepRuns === processRuns * STEPS_PER_PROCESS,
    `${liveStepRuns} live step runs after the restore, not ${processRuns * STEPS_PER_PROCESS}`,
  );
  rows.push(
    {
      operation: 'DELETE /processes/{id} (steps, runs, step runs)',
      calls: 1,
      medianMs: deleted.ms,
      totalMs: deleted.ms,
      rows: hidden,
      rowsAre: 'rows hidden',
    },
    {
      operation: 'POST /processes/{id}/restore',
      calls: 1,
      medianMs: restored.ms,
      totalMs: restored.ms,
      rows: hidden,
      rowsAre: 'rows restored',
    },
  );

  // 5. Single runs of the process, spread over its ids: delete (checked hidden), then restore.
  const ids = after.map((run) => run.id).sort((a, b) => a - b);
  const picked = Array.from(
    { length: Math.min(SINGLE_RUN_CALLS, ids.length) },
    (_, i) => ids[Math.floor((i * ids.length) / Math.min(SINGLE_RUN_CALLS, ids.length))],
  );
  const deleteMs: number[] = [];
  const restoreMs: number[] = [];
  for (const id of picked) {
    deleteMs.push((await call('DELETE', `/api/v1/runs/${id}`, 204)).ms);
    await call('GET', `/api/v1/runs/${id}`, 404);
    const run = await call<Schemas['ProcessRun']>('POST', `/api/v1/runs/${id}/restore`, 200);
    restoreMs.push(run.ms);
    check(
      run.body.id === id && run.body.steps.length === STEPS_PER_PROCESS,
      `the restore of run ${id} answered run ${run.body.id} with ${run.body.steps.length} steps`,
    );
  }
  const leftHidden = await orm.em
    .fork()
    .count(ProcessStepRun, { deletion_token: { $ne: null } }, { ...includeDeleted });
  check(leftHidden === 0, `${leftHidden} step runs are still hidden after restoring the single runs`);
  const runsAtEnd = await runsOf(processId);
  check(runsAtEnd === processRuns, `${runsAtEnd} runs at the end, not ${processRuns}`);
  rows.push(
    {
      operation: 'DELETE /runs/{id} (with its step runs)',
      calls: picked.length,
      medianMs: median(deleteMs),
      totalMs: sum(deleteMs),
      rows: picked.length * (1 + STEPS_PER_PROCESS),
      rowsAre: 'rows hidden',
    },
    {
      operation: 'POST /runs/{id}/restore',
      calls: picked.length,
      medianMs: median(restoreMs),
      totalMs: sum(restoreMs),
      rows: picked.length * (1 + STEPS_PER_PROCESS),
      rowsAre: 'rows restored',
    },
  );

  return { process: { id: processId, name: process.name, runs: processRuns }, rows, notes };
}

const round = (ms: number) => (ms >= 100 ? Math.round(ms) : Math.round(ms * 10) / 10);

export function printLifecycleTable(report: LifecycleReport): void {
  console.log('| operation | calls | median ms | total ms | rows | rows/s |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const row of report.rows) {
    const rate = row.rate === false ? '–' : Math.round(row.rows / (row.totalMs / 1000));
    console.log(
      `| ${row.operation} | ${row.calls} | ${round(row.medianMs)} | ${round(row.totalMs)} | ` +
        `${row.rows} ${row.rowsAre} | ${rate} |`,
    );
  }
  for (const note of report.notes) console.log(`  ${note}`);
}
