/**
 * The rerun worker as its own processes (`npm run worker`, src/worker.ts) beside a real API server on
 * the same database, calling a real HTTP server: a worker killed in the middle of a call leaves its job to
 * another worker once the lease has expired, and two workers sharing one database never make the same
 * attempt twice. The API server itself executes nothing (`RERUN_WORKER=off`, startTestServer's default).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/app.ts';
import { hang, respond, startFakeExternal, type FakeExternal } from '../support/fake-external.ts';
import { testDialect } from '../support/database.ts';
import { waitFor } from '../support/wait.ts';

const WORKER_ENTRY = join(import.meta.dirname, '../../src/worker.ts');

interface WorkerProcess {
  child: ChildProcess;
  /** Its name in leases and attempts (`host:pid:random`), from its 'rerun worker started' line. */
  id: string;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Its JSON log lines so far (stdout; anything else is kept in `output` only). */
  logLines(): Array<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

interface RerunJobAttempt {
  attempt: number;
  worker: string;
  started_at: string;
  finished_at: string | null;
  outcome: string | null;
  http_status: number | null;
  message: string | null;
}

interface RerunJob {
  id: number;
  step_run_id: number;
  run_id: number;
  status: string;
  attempts: number;
  max_attempts: number;
  lease_owner: string | null;
  lease_expires_at: string | null;
  attempt_history: RerunJobAttempt[];
}

interface RerunJobPage {
  queue: Record<'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled', number>;
  items: RerunJob[];
  total: number;
}

/**
 * An external system that answers every request 200 after `delayMs`, recording each one as it arrives (the
 * fake of fake-external.ts answers at once).
 */
async function startSlowExternal(delayMs: number) {
  const requests: Array<{
    idempotencyKey: string | undefined;
    attempt: string | undefined;
    receivedAt: Date;
  }> = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests.push({
        idempotencyKey: req.headers['idempotency-key'] as string | undefined,
        attempt: req.headers['x-rerun-attempt'] as string | undefined,
        receivedAt: new Date(),
      });
      setTimeout(
        () => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}'),
        delayMs,
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('rerun workers as separate processes (npm run worker)', () => {
  let server: TestServer;
  let workers: WorkerProcess[] = [];
  const closers: Array<() => Promise<void>> = [];
  // The workers' working directory: empty, so no .env of the checkout is read (src/worker.ts reads one).
  let cwd: string;

  const send = <T = Record<string, unknown> & { id: number }>(method: string, path: string, body?: unknown) =>
    server.json<T>(method, path, body);

  /** Starts `node src/worker.ts` on the server's database; resolves once it logged 'rerun worker started'. */
  async function startWorker(env: Record<string, string>): Promise<WorkerProcess> {
    let output = '';
    let stdout = '';
    const child = spawn(process.execPath, [WORKER_ENTRY], {
      cwd,
      env: {
        PATH: process.env['PATH'] ?? '',
        DATABASE_URL: server.container.config.databaseUrl,
        RERUN_ALLOWED_HOSTS: '127.0.0.1',
        LOG_LEVEL: 'info',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      stdout += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // Complete lines only: the last piece may be a line still being written.
    const logLines = () =>
      stdout
        .split('\n')
        .slice(0, -1)
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    const worker: WorkerProcess = { child, id: '', output: () => output, logLines, exited };
    workers.push(worker);
    const started = await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}:\n${output}`);
        return logLines().find((line) => line['message'] === 'rerun worker started');
      },
      (line) => line !== undefined,
      { what: `worker ${child.pid} to start`, timeoutMs: 20_000 },
    );
    worker.id = String(started?.['worker']);
    return worker;
  }

  async function kill(worker: WorkerProcess) {
    if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    return worker.exited;
  }

  /** A new run of the process, its step run of `stepId` reported failed; the step run's id. */
  async function failedStepRun(processId: number, stepId: number, entityId: string): Promise<number> {
    const run = await send<{ id: number; steps: Array<{ id: number; step_id: number }> }>(
      'POST',
      '/api/v1/runs',
      { process_id: processId, entity_id: entityId },
    );
    const stepRun = run.steps.find((candidate) => candidate.step_id === stepId);
    if (stepRun === undefined) throw new Error(`run ${run.id} has no step run of step ${stepId}`);
    await send('PATCH', `/api/v1/step-runs/${stepRun.id}`, { status: 'failed' });
    return stepRun.id;
  }

  async function rerunnableStep(endpoint: string, rerunConfig: Record<string, unknown>) {
    const process = await send('POST', '/api/v1/processes', { name: `Flytning ${Date.now()}` });
    const step = await send('POST', '/api/v1/steps', {
      process_id: process.id,
      index: 0,
      name: 'CPR-opslag',
      is_rerunnable: true,
      rerun_config: { api_endpoint: endpoint, max_retries: 3, ...rerunConfig },
    });
    return { processId: process.id, stepId: step.id };
  }

  const rerun = async (stepRunId: number) =>
    (await send('POST', `/api/v1/step-runs/${stepRunId}/rerun`, { meta: { initiated_by: 'test' } })).id;

  const stepRunStatus = async (id: number) =>
    (await send<{ status: string }>('GET', `/api/v1/step-runs/${id}`)).status;

  const jobsOf = (query: string) => send<RerunJobPage>('GET', `/api/v1/admin/rerun-jobs?${query}`);

  beforeEach(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'pd-worker-'));
    server = await startTestServer({ RERUN_ALLOWED_HOSTS: '127.0.0.1' });
  });

  afterEach(async (context) => {
    // Whatever happened, no worker outlives its test (SIGKILL: nothing to wait for, nothing left running).
    await Promise.all(workers.map(kill));
    if (context.task.result?.state === 'fail') {
      for (const worker of workers) {
        console.log(`--- output of worker ${worker.id || worker.child.pid} ---\n${worker.output()}`);
      }
    }
    workers = [];
    for (const close of closers.splice(0)) await close();
    await server?.close();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('a worker killed during its call: another claims the job once the lease has expired, and it succeeds on attempt 2', async () => {
    const fake: FakeExternal = await startFakeExternal([hang(), respond(200, { accepted: true })]);
    closers.push(() => fake.close());
    // Lease: timeout_seconds 2 + RERUN_LEASE_MARGIN_SECONDS 1 = 3 s. No retries (max_attempts 1): an
    // attempt whose worker died does not count against them.
    const { processId, stepId } = await rerunnableStep(`${fake.url}/rerun`, {
      timeout_seconds: 2,
      retry_delays: [],
    });
    const original = await failedStepRun(processId, stepId, '0101900001');
    const workerEnv = { RERUN_POLL_INTERVAL_MS: '50', RERUN_LEASE_MARGIN_SECONDS: '1' };
    const first = await startWorker(workerEnv);

    const newId = await rerun(original);
    await waitFor(
      () => fake.requests.length,
      (calls) => calls >= 1,
      { what: 'the first call' },
    );
    // Killed well within the call's 2 s timeout: the attempt never ends.
    expect(await kill(first)).toEqual({ code: null, signal: 'SIGKILL' });

    // As the dead worker left it: running under its lease, attempt 1 unfinished.
    const [left] = (await jobsOf(`step_run_id=${newId}`)).items;
    expect(left).toMatchObject({ status: 'running', attempts: 1, lease_owner: first.id });
    expect(left.attempt_history).toMatchObject([{ attempt: 1, worker: first.id, outcome: null }]);
    const claimedAt = Date.parse(left.attempt_history[0].started_at);
    expect(Date.parse(left.lease_expires_at ?? '') - claimedAt).toBe(3000);
    expect(await stepRunStatus(newId)).toBe('running');

    const second = await startWorker(workerEnv);
    await waitFor(
      () => stepRunStatus(newId),
      (status) => status === 'success',
      { what: `step run ${newId} to succeed`, timeoutMs: 15_000 },
    );

    expect(fake.requests).toHaveLength(2);
    const [call1, call2] = fake.requests;
    expect(call1.path).toBe('/rerun');
    expect(call1.headers['idempotency-key']).toBe(`step-run-${newId}`);
    expect(call2.headers['idempotency-key']).toBe(`step-run-${newId}`);
    expect([call1.headers['x-rerun-attempt'], call2.headers['x-rerun-attempt']]).toEqual(['1', '2']);
    expect(call2.body).toMatchObject({ step_run_id: newId, original_step_run_id: original, attempt: 2 });
    // Not before the lease expired (same clock: the claim's time is the attempt's started_at), and
    // promptly after it (the second worker polls every 50 ms).
    const waited = call2.receivedAt.getTime() - claimedAt;
    expect(waited).toBeGreaterThanOrEqual(3000);
    expect(waited).toBeLessThan(3000 + 8000);

    const { items, total } = await jobsOf(`step_run_id=${newId}`);
    expect(total).toBe(1);
    const [job] = items;
    expect(job).toMatchObject({
      status: 'succeeded',
      attempts: 2,
      max_attempts: 1,
      lease_owner: null,
      lease_expires_at: null,
    });
    expect(job.attempt_history).toMatchObject([
      { attempt: 1, worker: first.id, outcome: 'lease_expired', http_status: null },
      { attempt: 2, worker: second.id, outcome: 'success', http_status: 200, message: null },
    ]);
    expect(first.id).not.toBe(second.id);
    expect(job.attempt_history[0].finished_at).not.toBeNull();
    // The second worker ended the dead attempt when it claimed the job, not before the lease expired.
    expect(Date.parse(job.attempt_history[0].finished_at ?? '')).toBe(
      Date.parse(job.attempt_history[1].started_at),
    );
    expect(Date.parse(job.attempt_history[1].started_at) - claimedAt).toBeGreaterThanOrEqual(3000);

    const run = await send<{ status: string }>('GET', `/api/v1/runs/${job.run_id}`);
    expect(run.status).toBe('completed');
    const attempts = second.logLines().filter((line) => line['message'] === 'rerun attempt');
    expect(attempts).toMatchObject([{ step_run_id: newId, attempt: 2, outcome: 'success' }]);
  }, 30_000);

  it(`two workers on one database (${testDialect()}) never execute the same attempt twice`, async () => {
    const external = await startSlowExternal(20);
    closers.push(() => external.close());
    const workerEnv = {
      RERUN_WORKER_CONCURRENCY: '4',
      RERUN_POLL_INTERVAL_MS: '20',
      // A lease far longer than any call here: a second execution could only come from a double claim.
      RERUN_LEASE_MARGIN_SECONDS: '30',
    };
    const [a, b] = await Promise.all([startWorker(workerEnv), startWorker(workerEnv)]);

    const { processId, stepId } = await rerunnableStep(`${external.url}/rerun`, {
      timeout_seconds: 10,
      retry_delays: [],
    });
    const originals = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        failedStepRun(processId, stepId, `0101900${String(i).padStart(3, '0')}`),
      ),
    );
    const newIds = await Promise.all(originals.map(rerun));
    expect(new Set(newIds).size).toBe(40);

    await waitFor(
      async () => {
        const { queue } = await jobsOf('size=1');
        if (queue.failed + queue.cancelled > 0) {
          throw new Error(`jobs ended otherwise: ${JSON.stringify(queue)}`);
        }
        return queue.succeeded;
      },
      (succeeded) => succeeded === 40,
      { what: '40 succeeded jobs', timeoutMs: 25_000 },
    );
    const statuses = await Promise.all(newIds.map(stepRunStatus));
    expect(statuses).toEqual(newIds.map(() => 'success'));

    expect(external.requests).toHaveLength(40);
    const keys = external.requests.map((request) => request.idempotencyKey);
    expect(new Set(keys).size).toBe(40);
    expect(keys.toSorted()).toEqual(newIds.map((id) => `step-run-${id}`).toSorted());
    expect(external.requests.every((request) => request.attempt === '1')).toBe(true);

    const { items, total, queue } = await jobsOf('size=100');
    expect(total).toBe(40);
    expect(queue).toMatchObject({ queued: 0, running: 0, succeeded: 40, failed: 0, cancelled: 0 });
    for (const job of items) {
      expect(job).toMatchObject({ status: 'succeeded', attempts: 1, max_attempts: 1 });
      expect(job.attempt_history).toMatchObject([{ attempt: 1, outcome: 'success', http_status: 200 }]);
    }
    const executedBy = (worker: WorkerProcess) =>
      items.filter((job) => job.attempt_history[0].worker === worker.id).length;
    const perWorker = { [a.id]: executedBy(a), [b.id]: executedBy(b) };
    console.log(`rerun attempts per worker on ${testDialect()}: ${JSON.stringify(perWorker)}`);
    expect(executedBy(a) + executedBy(b)).toBe(40);
    // Both took part: the claims really competed.
    expect(executedBy(a)).toBeGreaterThan(0);
    expect(executedBy(b)).toBeGreaterThan(0);
    // Each worker's own account agrees, and neither logged an error (a failed claim, SQLITE_BUSY, …).
    for (const worker of [a, b]) {
      const logged = worker.logLines();
      expect(logged.filter((line) => line['message'] === 'rerun attempt')).toHaveLength(executedBy(worker));
      expect(logged.filter((line) => line['level'] !== 'info')).toEqual([]);
    }
  }, 30_000);
});
