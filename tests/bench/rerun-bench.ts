/**
 * The `reruns` group of `make bench` (issue 11 item 7; bench.ts creates the database and starts the API
 * server with `RERUN_WORKER=off`, so the server executes nothing): how many rerun jobs per second the
 * queue completes with 1 and with 4 worker processes (`node src/worker.ts`, as `npm run worker` starts
 * it; each with RERUN_WORKER_CONCURRENCY=4, the default), calling an external system that answers at once.
 *
 *   1. The external system: a node:http server in this process answering every request 200 with an empty
 *      body, counting the requests and their `Idempotency-Key`s; only its first answers wait (see 3).
 *   2. A process with one rerunnable step whose `api_endpoint` is that server (no retries); `jobs` runs of
 *      it, each one's step run reported failed and then rerun by `POST /step-runs/{id}/rerun` (the real
 *      endpoint: real jobs), through the API, SETUP_CONNECTIONS at a time, while no worker runs.
 *   3. The workers, started together (RERUN_POLL_INTERVAL_MS=20, LOG_LEVEL=warn), until
 *      `GET /admin/rerun-jobs?size=1` counts every job succeeded.
 *
 * A worker's start (Node loading the TypeScript and the ORM, the migration check) takes a second or more,
 * longer when four start at once on a busy machine, and is not the queue's work; nor should the first
 * worker up have the database to itself while the others start. So the external system holds its first
 * answers until 4 calls per worker wait — every worker is up, its slots full — and answers them all at
 * once: the clock starts then, and stops at the last job's `finished_at` (written by a worker, on this
 * machine's clock). Those first jobs were claimed before the clock started (at most 16 of the jobs). The
 * time from spawning the workers until every job was seen succeeded is reported beside it.
 *
 * Checked afterwards, a wrong answer throwing: exactly `jobs` requests reached the external system, with
 * as many distinct Idempotency-Keys, each the key of one new step run, all attempt 1; every job
 * `succeeded` after one attempt (outcome success, HTTP 200); every new step run `success`; each worker
 * exited 0 on SIGTERM. Reported, not thrown: what the workers wrote (with LOG_LEVEL=warn, only warnings
 * and errors), how many jobs each executed, and the largest claim and most attempts under way in one worker,
 * which RERUN_WORKER_CONCURRENCY should bound (the held first answers prove every worker up only then).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Schemas } from '../../src/contract.ts';
import type { Orm } from '../../src/db/orm.ts';
import { ProcessStepRun, RerunJob, RerunJobAttempt } from '../../src/entities/index.ts';

/** The worker processes of each measurement: one, then four. */
export const RERUN_WORKER_PROCESSES = [1, 4] as const;
/** Jobs each worker process executes at once (the default of RERUN_WORKER_CONCURRENCY). */
const CONCURRENCY_PER_WORKER = 4;
/** Setup requests in flight at once: well below the server's MAX_CONCURRENT_REQUESTS (64). */
const SETUP_CONNECTIONS = 16;
/** How long the queue may make no progress before the bench gives up. */
const STALL_MS = 60_000;

const WORKER_ENTRY = join(import.meta.dirname, '../../src/worker.ts');

/** What the rerun bench needs of bench.ts's server (its `Server` fits). */
export interface RerunServer {
  baseUrl: string;
  adminKey: string;
}

export interface RerunReport {
  workers: number;
  jobs: number;
  /** Creating the runs, failing their step runs and queueing the reruns through the API. */
  setupMs: number;
  /** Every worker up and its first calls answered, to the last job's end: the queue's working time. */
  workingMs: number;
  /** Spawning the workers to every job seen succeeded (start-up included). */
  fromSpawnMs: number;
  /** Jobs each worker process executed (attempts by worker). */
  jobsPerWorker: number[];
  /** Peak RSS (VmHWM) of each worker process, MB. */
  workerPeakRssMb: number[];
  /** What the checks saw and the workers wrote (one line each). */
  notes: string[];
}

class BenchCheckFailed extends Error {
  override name = 'BenchCheckFailed';
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new BenchCheckFailed(`rerun bench: ${message}`);
}

/**
 * The external system: 200 with an empty body, every request counted. The first `held` requests wait until
 * all of them have come, then are answered together; `released` resolves then, with the time (epoch ms).
 */
async function startExternal(held: number) {
  const keys = new Map<string, number>();
  let requests = 0;
  let notFirstAttempt = 0;
  const waiting: ServerResponse[] = [];
  const { promise: released, resolve: release } = Promise.withResolvers<number>();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      const key = String(req.headers['idempotency-key']);
      keys.set(key, (keys.get(key) ?? 0) + 1);
      if (req.headers['x-rerun-attempt'] !== '1') notFirstAttempt++;
      if (requests > held) {
        res.writeHead(200).end();
        return;
      }
      waiting.push(res);
      if (requests === held) {
        release(Date.now());
        for (const response of waiting.splice(0)) response.writeHead(200).end();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    keys,
    released,
    requests: () => requests,
    notFirstAttempt: () => notFirstAttempt,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Worker {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function startWorker(cwd: string, databaseUrl: string): Worker {
  let output = '';
  const child = spawn(process.execPath, [WORKER_ENTRY], {
    cwd,
    env: {
      PATH: process.env['PATH'] ?? '',
      DATABASE_URL: databaseUrl,
      RERUN_ALLOWED_HOSTS: '127.0.0.1',
      RERUN_WORKER_CONCURRENCY: String(CONCURRENCY_PER_WORKER),
      RERUN_POLL_INTERVAL_MS: '20',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, output: () => output, exited };
}

/** The most attempts of `attempts` under way at the same time (an attempt ending frees its slot first). */
function inFlight(attempts: readonly RerunJobAttempt[]): number {
  const events = attempts.flatMap((attempt) => [
    { at: attempt.started_at.getTime(), change: 1 },
    { at: attempt.finished_at?.getTime() ?? Number.POSITIVE_INFINITY, change: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.change - b.change);
  let now = 0;
  let most = 0;
  for (const { change } of events) most = Math.max(most, (now += change));
  return most;
}

function peakRssMb(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** Runs `work` on each of `items`, `concurrency` at a time; the results in the items' order. */
async function inParallel<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
}

/**
 * `jobs` reruns queued on `server` (whose database `orm` also reaches, for the checks at the end), then
 * executed by `workers` worker processes on `databaseUrl`. Throws when an answer or the data is not what
 * the queue promises.
 */
export async function measureReruns(
  server: RerunServer,
  orm: Orm,
  options: { databaseUrl: string; workers: number; jobs: number },
): Promise<RerunReport> {
  const { databaseUrl, workers: workerCount, jobs } = options;
  const headers = { 'X-API-Key': server.adminKey, 'Content-Type': 'application/json' };
  /** One request; anything but `status` throws. */
  const call = async <T>(method: 'GET' | 'POST' | 'PATCH', path: string, status: number, body?: unknown) => {
    const response = await fetch(server.baseUrl + path, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    check(
      response.status === status,
      `${method} ${path} answered ${response.status}, not ${status}: ${text.slice(0, 500)}`,
    );
    return JSON.parse(text) as T;
  };
  const queue = async () =>
    (await call<Schemas['RerunJobPage']>('GET', '/api/v1/admin/rerun-jobs?size=1', 200)).queue;
  const notes: string[] = [];
  const external = await startExternal(Math.min(jobs, workerCount * CONCURRENCY_PER_WORKER));
  // The workers' working directory: empty, so no .env of the checkout is read (src/worker.ts reads one).
  const cwd = mkdtempSync(join(tmpdir(), 'pd-bench-worker-'));
  const workers: Worker[] = [];
  try {
    const setupStarted = performance.now();
    const processId = (
      await call<Schemas['Process']>('POST', '/api/v1/processes', 201, { name: 'Bench genkørsel' })
    ).id;
    const stepId = (
      await call<Schemas['ProcessStep']>('POST', '/api/v1/steps', 201, {
        process_id: processId,
        index: 0,
        name: 'CPR-opslag',
        is_rerunnable: true,
        rerun_config: {
          api_endpoint: `${external.url}/rerun`,
          max_retries: 3,
          // Room for the held first calls: four workers starting at once on a busy machine.
          timeout_seconds: 120,
          retry_delays: [],
        },
      })
    ).id;
    const newIds = await inParallel(
      Array.from({ length: jobs }, (_, i) => i),
      SETUP_CONNECTIONS,
      async (i) => {
        const run = await call<Schemas['ProcessRun']>('POST', '/api/v1/runs', 201, {
          process_id: processId,
          entity_id: `bench-${i}`,
        });
        const stepRun = run.steps.find((candidate) => candidate.step_id === stepId);
        check(stepRun !== undefined, `run ${run.id} has no step run of step ${stepId}`);
        await call('PATCH', `/api/v1/step-runs/${stepRun.id}`, 200, { status: 'failed' });
        const rerun = await call<Schemas['StepRunRerunResponse']>(
          'POST',
          `/api/v1/step-runs/${stepRun.id}/rerun`,
          200,
          { meta: { initiated_by: 'bench' } },
        );
        check(rerun.rerun_result.result === 'queued', `rerun of ${stepRun.id}: ${rerun.rerun_result.result}`);
        return rerun.id;
      },
    );
    const setupMs = performance.now() - setupStarted;
    const queued = await queue();
    check(
      queued.queued === jobs && queued.succeeded + queued.running + queued.failed + queued.cancelled === 0,
      `before the workers the queue holds ${JSON.stringify(queued)}, not ${jobs} queued jobs`,
    );
    check(external.requests() === 0, `${external.requests()} calls before any worker ran`);

    const spawned = performance.now();
    for (let i = 0; i < workerCount; i++) workers.push(startWorker(cwd, databaseUrl));
    let succeeded = 0;
    let progressAt = performance.now();
    while (succeeded < jobs) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const exited = workers.find((worker) => worker.child.exitCode !== null);
      check(
        exited === undefined,
        `worker ${exited?.child.pid} exited with ${exited?.child.exitCode}:\n${exited?.output()}`,
      );
      const now = await queue();
      check(
        now.failed + now.cancelled === 0,
        `jobs ended otherwise: ${JSON.stringify(now)}\n${workers.map((worker) => worker.output()).join('\n')}`,
      );
      if (now.succeeded > succeeded) progressAt = performance.now();
      succeeded = now.succeeded;
      check(
        performance.now() - progressAt < STALL_MS,
        `no job succeeded for ${STALL_MS / 1000} s (${JSON.stringify(now)}):\n` +
          workers.map((worker) => worker.output()).join('\n'),
      );
    }
    const fromSpawnMs = performance.now() - spawned;
    const workerPeakRssMb = workers.map((worker) => Math.round(peakRssMb(worker.child.pid)));
    for (const worker of workers) worker.child.kill('SIGTERM');
    const codes = await Promise.all(workers.map((worker) => worker.exited));
    check(
      codes.every((code) => code === 0),
      `the workers exited with ${codes.join(', ')} on SIGTERM`,
    );

    // The external system saw each new step run's key once, on attempt 1.
    check(external.requests() === jobs, `${external.requests()} calls reached the external system`);
    check(external.keys.size === jobs, `${external.keys.size} distinct Idempotency-Keys in ${jobs} calls`);
    const unknownKeys = newIds.filter((id) => external.keys.get(`step-run-${id}`) !== 1);
    check(unknownKeys.length === 0, `${unknownKeys.length} new step runs were not called exactly once`);
    check(external.notFirstAttempt() === 0, `${external.notFirstAttempt()} calls were not attempt 1`);

    // Every job succeeded on one attempt, and its step run with it.
    const em = orm.em.fork();
    const allJobs = await em.find(RerunJob, {}, { disableIdentityMap: true });
    const attempts = await em.find(RerunJobAttempt, {}, { disableIdentityMap: true });
    check(allJobs.length === jobs, `${allJobs.length} jobs, not ${jobs}`);
    const unsettled = allJobs.filter((job) => job.status !== 'succeeded' || job.attempts !== 1);
    check(
      unsettled.length === 0,
      `${unsettled.length} jobs did not succeed on one attempt: ${JSON.stringify(unsettled.slice(0, 3))}`,
    );
    check(attempts.length === jobs, `${attempts.length} attempts for ${jobs} jobs`);
    const unsuccessful = attempts.filter(
      (attempt) => attempt.attempt !== 1 || attempt.outcome !== 'success' || attempt.http_status !== 200,
    );
    check(
      unsuccessful.length === 0,
      `${unsuccessful.length} attempts were not a successful first: ${JSON.stringify(unsuccessful.slice(0, 3))}`,
    );
    const stepRunsSucceeded = await em.count(ProcessStepRun, { rerun_of: { $ne: null }, status: 'success' });
    check(stepRunsSucceeded === jobs, `${stepRunsSucceeded} new step runs are success, not ${jobs}`);

    const releasedAt = await external.released;
    const lastEnd = Math.max(...allJobs.map((job) => job.finished_at?.getTime() ?? Number.NaN));
    const byWorker = [...Map.groupBy(attempts, (attempt) => attempt.worker).values()].sort(
      (a, b) => b.length - a.length,
    );
    const jobsPerWorker = byWorker.map((executed) => executed.length);
    // What each worker held at once: its largest claim (one claim's attempts share their started_at) and
    // its most attempts under way together; RERUN_WORKER_CONCURRENCY bounds both (and the held first
    // answers prove every worker was up only then).
    const claims = byWorker.flatMap((executed) => [
      ...Map.groupBy(executed, (attempt) => attempt.started_at.getTime()).values(),
    ]);
    const largestClaim = Math.max(...claims.map((claim) => claim.length));
    const mostInFlight = Math.max(...byWorker.map(inFlight));
    notes.push(
      `${workerCount} worker(s): ${jobs} calls with ${external.keys.size} distinct Idempotency-Keys; ` +
        `${allJobs.length} jobs succeeded on attempt 1; ${stepRunsSucceeded} new step runs success; ` +
        `${jobsPerWorker.length} worker(s) executed attempts; largest claim ${largestClaim} jobs, at most ` +
        `${mostInFlight} attempts under way in one worker (RERUN_WORKER_CONCURRENCY=${CONCURRENCY_PER_WORKER})`,
    );
    if (largestClaim > CONCURRENCY_PER_WORKER || mostInFlight > CONCURRENCY_PER_WORKER) {
      throw new Error(
        `a worker held more than RERUN_WORKER_CONCURRENCY=${CONCURRENCY_PER_WORKER} jobs; claims ` +
          `larger than ${CONCURRENCY_PER_WORKER}: ` +
          JSON.stringify(
            claims
              .filter((claim) => claim.length > CONCURRENCY_PER_WORKER)
              .map((claim) => ({ worker: claim[0]?.worker, jobs: claim.length })),
          ).slice(0, 1000),
      );
    }
    for (const [i, worker] of workers.entries()) {
      const lines = worker
        .output()
        .split('\n')
        .filter((line) => line.trim() !== '');
      if (lines.length > 0) {
        notes.push(
          `worker ${i + 1} of ${workerCount} (pid ${worker.child.pid}) wrote ${lines.length} line(s), first: ` +
            lines.slice(0, 3).join(' | ').slice(0, 1000),
        );
      }
    }
    return {
      workers: workerCount,
      jobs,
      setupMs,
      workingMs: lastEnd - releasedAt,
      fromSpawnMs,
      jobsPerWorker,
      workerPeakRssMb,
      notes,
    };
  } finally {
    for (const worker of workers) {
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    }
    await Promise.all(workers.map((worker) => worker.exited));
    await external.close();
    rmSync(cwd, { recursive: true, force: true });
  }
}

export function printRerunTable(reports: readonly (RerunReport & { database: string })[]): void {
  console.log(
    '| database | workers | jobs | seconds | jobs/s | from spawn s | jobs per worker | worker peak RSS MB |',
  );
  console.log('|---|---|---:|---:|---:|---:|---|---|');
  for (const report of reports) {
    const workers = `${report.workers} process${report.workers === 1 ? '' : 'es'} × ${CONCURRENCY_PER_WORKER} jobs at once`;
    console.log(
      `| ${report.database} | ${workers} | ${report.jobs} | ${(report.workingMs / 1000).toFixed(2)} | ` +
        `${Math.round(report.jobs / (report.workingMs / 1000))} | ${(report.fromSpawnMs / 1000).toFixed(2)} | ` +
        `${report.jobsPerWorker.join(', ')} | ${report.workerPeakRssMb.join(', ')} |`,
    );
  }
  for (const report of reports) {
    console.log(
      `  ${report.database}, ${report.workers} worker(s): setup (runs, failed step runs, reruns queued ` +
        `through the API, ${SETUP_CONNECTIONS} at a time) ${(report.setupMs / 1000).toFixed(1)} s`,
    );
    for (const note of report.notes) console.log(`    ${note}`);
  }
}
