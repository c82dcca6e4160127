/**
 * Reruns end to end (issue 11): `POST /step-runs/{id}/rerun` with its checks, the durable job executed by
 * the in-process worker against a real HTTP server on 127.0.0.1 playing the external system (succeeds,
 * fails N times then succeeds, times out, answers 429 with Retry-After, answers 4xx that must not be
 * retried, drops the connection), the automation-server adapter, the outcome flowing into the step run and
 * the run, the rerun history and the queue as an admin sees it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Schemas } from '../../src/contract.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import {
  destroySocket,
  hang,
  respond,
  startFakeExternal,
  type FakeExternal,
  type FakeScript,
} from '../support/fake-external.ts';
import { RerunQueue } from '../../src/reruns/rerun-queue.ts';
import { ormDialect } from '../../src/db/orm.ts';
import { expectProblem } from '../support/responses.ts';
import { waitFor } from '../support/wait.ts';

type StepRun = Schemas['ProcessStepRun'];
type RerunResponse = Schemas['StepRunRerunResponse'];
type JobPage = Schemas['RerunJobPage'];

const AUTOMATION_TOKEN = 'automation-token-5f1c';

/** A problem response with `status` whose detail is (or matches) `detail`. */
async function expectDetail(response: Response, status: number, detail?: string | RegExp) {
  const problem = await expectProblem(response, status);
  if (typeof detail === 'string') expect(problem.detail).toBe(detail);
  else if (detail !== undefined) expect(problem.detail).toMatch(detail);
}

describe('reruns', () => {
  let server: TestServer;
  let automation: FakeExternal;
  let external: FakeExternal | undefined;
  let processCount = 0;

  beforeAll(async () => {
    automation = await startFakeExternal([respond(200, { status: 'new' })]);
    server = await startTestServer({
      RERUN_WORKER: 'on',
      RERUN_POLL_INTERVAL_MS: '50',
      RERUN_ALLOWED_HOSTS: '127.0.0.1',
      AUTOMATION_SERVER_URL: `${automation.url}/api`,
      AUTOMATION_SERVER_TOKEN: AUTOMATION_TOKEN,
    });
  });
  afterEach(async () => {
    await external?.close();
    external = undefined;
  });
  afterAll(async () => {
    await server?.close();
    await automation?.close();
  });

  /** A fake external system for one test, with its script. */
  async function fake(script: FakeScript): Promise<FakeExternal> {
    external = await startFakeExternal(script);
    return external;
  }

  /**
   * A run of a new process with two steps — `Hent data` (succeeds) and `Opdater CPR` (rerunnable with
   * `rerunConfig`, failed) — and the failed step run.
   */
  async function failedStepRun(rerunConfig: Record<string, unknown>, options: { rerunnable?: boolean } = {}) {
    processCount += 1;
    const process = await server.json<{ id: number }>('POST', '/api/v1/processes', {
      name: `Genkørsel ${processCount}`,
    });
    await server.json('POST', '/api/v1/steps', { process_id: process.id, index: 0, name: 'Hent data' });
    await server.json('POST', '/api/v1/steps', {
      process_id: process.id,
      index: 1,
      name: 'Opdater CPR',
      is_rerunnable: options.rerunnable ?? true,
      rerun_config: rerunConfig,
    });
    const run = await server.json<{ id: number; steps: StepRun[] }>('POST', '/api/v1/runs', {
      process_id: process.id,
      entity_id: '0101901234',
      entity_name: 'Søren Østergård',
    });
    const [first, second] = run.steps;
    await server.json('PATCH', `/api/v1/step-runs/${first.id}`, { status: 'success' });
    const failed = await server.json<StepRun>('PATCH', `/api/v1/step-runs/${second.id}`, {
      status: 'failed',
      failure: { error_code: 'CPR_TIMEOUT', message: 'CPR-registret svarede ikke' },
    });
    return { processId: process.id, runId: run.id, stepRun: failed };
  }

  const rerun = (id: number, body?: unknown, key?: string) =>
    server.request(`/api/v1/step-runs/${id}/rerun`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(key === undefined ? {} : { 'X-API-Key': key }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const stepRunOf = (id: number) => server.json<StepRun>('GET', `/api/v1/step-runs/${id}`);
  const runStatusOf = async (id: number) =>
    (await server.json<{ status: string }>('GET', `/api/v1/runs/${id}`)).status;
  const jobOf = async (stepRunId: number) => {
    const page = await server.json<JobPage>('GET', `/api/v1/admin/rerun-jobs?step_run_id=${stepRunId}`);
    const job = page.items.find((item) => item.step_run_id === stepRunId);
    if (job === undefined) throw new Error(`no job for step run ${stepRunId}`);
    return job;
  };
  /** Waits until the job of step run `id` has ended, and answers it. */
  const endedJob = (id: number) =>
    waitFor(
      () => jobOf(id),
      (job) => ['succeeded', 'failed', 'cancelled'].includes(job.status),
      { what: `the job of step run ${id} to end` },
    );

  it('queues a rerun, calls the target once with the documented payload, and the step run and run succeed', async () => {
    const target = await fake([respond(200, { accepted: true })]);
    const { processId, runId, stepRun } = await failedStepRun({
      api_endpoint: `${target.url}/subprocesses/cpr-opdatering?source=dashboard`,
      subprocess_id: 'cpr_opdatering_v2',
      timeout_seconds: 5,
      max_retries: 3,
    });
    expect(await runStatusOf(runId)).toBe('failed');
    const meta = { rerun_reason: 'CPR-servicen er oppe igen', initiated_by: 'mette.jensen' };
    const response = await rerun(stepRun.id, { meta });
    expect(response.status).toBe(200);
    const body = (await response.json()) as RerunResponse;
    expect(body).toMatchObject({
      original_step_run_id: stepRun.id,
      status: 'pending',
      message: 'Step rerun initiated successfully',
      rerun_result: {
        result: 'queued',
        adapter: 'http',
        message: `Rerun queued for ${target.url}/subprocesses/cpr-opdatering`,
      },
      step_run: {
        run_id: runId,
        step_id: stepRun.step_id,
        step_index: stepRun.step_index,
        status: 'pending',
        meta,
        rerun_of_id: stepRun.id,
        rerun_count: 1,
        max_reruns: 3,
        can_rerun: true,
        failure: null,
        rerun_config: stepRun.rerun_config,
      },
    });
    expect(body.id).toBe(body.step_run.id);
    expect(body.id).not.toBe(stepRun.id);
    expect(body.created_at).toBe(body.step_run.created_at);

    const done = await waitFor(
      () => stepRunOf(body.id),
      (current) => current.status === 'success',
    );
    expect(done.started_at).not.toBeNull();
    expect(done.finished_at).not.toBeNull();
    expect(done.failure).toBeNull();
    expect(await runStatusOf(runId)).toBe('completed');

    expect(target.requests).toHaveLength(1);
    const [call] = target.requests;
    expect(call.method).toBe('POST');
    expect(call.path).toBe('/subprocesses/cpr-opdatering?source=dashboard');
    expect(call.headers['idempotency-key']).toBe(`step-run-${body.id}`);
    expect(call.headers['x-rerun-attempt']).toBe('1');
    expect(call.headers['content-type']).toMatch(/^application\/json/);
    expect(call.body).toEqual({
      step_run_id: body.id,
      original_step_run_id: stepRun.id,
      run_id: runId,
      process_id: processId,
      step_id: stepRun.step_id,
      step_index: stepRun.step_index,
      entity_id: '0101901234',
      subprocess_id: 'cpr_opdatering_v2',
      rerun_count: 1,
      attempt: 1,
      meta,
    });

    // The old attempt is unchanged and the history links both, from either end.
    const old = await stepRunOf(stepRun.id);
    expect(old).toMatchObject({ status: 'failed', failure: stepRun.failure, rerun_count: 0 });
    for (const id of [stepRun.id, body.id]) {
      const history = await server.json<StepRun[]>('GET', `/api/v1/step-runs/${id}/reruns`);
      expect(history.map((attempt) => attempt.id)).toEqual([stepRun.id, body.id]);
    }
    // The run's step runs show the current attempt only.
    const current = await server.json<StepRun[]>('GET', `/api/v1/step-runs/run/${runId}`);
    expect(current.map((attempt) => attempt.id)).toContain(body.id);
    expect(current.map((attempt) => attempt.id)).not.toContain(stepRun.id);

    const job = await jobOf(body.id);
    expect(job).toMatchObject({
      original_step_run_id: stepRun.id,
      run_id: runId,
      adapter: 'http',
      status: 'succeeded',
      attempts: 1,
      max_attempts: 1,
      timeout_seconds: 5,
      lease_owner: null,
      lease_expires_at: null,
      last_error: null,
    });
    expect(job.finished_at).not.toBeNull();
    expect(job.attempt_history).toHaveLength(1);
    expect(job.attempt_history[0]).toMatchObject({
      attempt: 1,
      outcome: 'success',
      http_status: 200,
      message: null,
    });
    expect(job.attempt_history[0].worker).toBe(server.container.rerunWorker.id);
  });

  it('retries the failures of failure_conditions after each retry delay, then succeeds', async () => {
    const target = await fake([respond(503, 'Prøv igen'), respond(502), respond(200)]);
    const { runId, stepRun } = await failedStepRun({
      api_endpoint: `${target.url}/rerun`,
      retry_delays: [0.2, 0.3],
      failure_conditions: ['server_error'],
    });
    const { id } = (await (await rerun(stepRun.id)).json()) as RerunResponse;
    // The step run is running while the job retries.
    await waitFor(
      () => stepRunOf(id),
      (current) => current.status === 'running',
    );
    expect(await runStatusOf(runId)).toBe('running');
    await waitFor(
      () => stepRunOf(id),
      (current) => current.status === 'success',
    );
    expect(target.requests.map((request) => request.headers['x-rerun-attempt'])).toEqual(['1', '2', '3']);
    expect(new Set(target.requests.map((request) => request.headers['idempotency-key']))).toEqual(
      new Set([`step-run-${id}`]),
    );
    const [first, second, third] = target.requests.map((request) => request.receivedAt.getTime());
    expect(second - first).toBeGreaterThanOrEqual(190);
    expect(third - second).toBeGreaterThanOrEqual(290);
    const job = await jobOf(id);
    expect(job).toMatchObject({ status: 'succeeded', attempts: 3, max_attempts: 3 });
    expect(job.last_error).toMatch(/answered 502/);
    expect(job.attempt_history.map((attempt) => [attempt.outcome, attempt.http_status])).toEqual([
      ['server_error', 503],
      ['server_error', 502],
      ['success', 200],
    ]);
    expect(await runStatusOf(runId)).toBe('completed');
  });

  it('fails the step run and the run when every attempt failed, keeping the answer out of the job records', async () => {
    const target = await fake([respond(503, 'Borger 0101901234 kunne ikke opdateres')]);
    const { runId, stepRun } = await failedStepRun({
      api_endpoint: `${target.url}/rerun`,
      retry_delays: [0.05],
    });
    const { id } = (await (await rerun(stepRun.id)).json()) as RerunResponse;
    const job = await endedJob(id);
    expect(target.requests).toHaveLength(2);
    const failed = await stepRunOf(id);
    expect(failed.status).toBe('failed');
    expect(failed.finished_at).not.toBeNull();
    expect(failed.failure).toEqual({
      error: 'Rerun failed',
      message:
        '127.0.0.1 answered 503 Service Unavailable: Borger 0101901234 kunne ikke opdateres (attempt 2 of 2)',
      adapter: 'http',
      result_type: 'failure',
    });
    expect(await runStatusOf(runId)).toBe('failed');
    expect(job).toMatchObject({
      status: 'failed',
      attempts: 2,
      last_error: '127.0.0.1 answered 503 Service Unavailable',
    });
    expect(JSON.stringify(job)).not.toContain('0101901234');
    // The failed rerun can itself be rerun (max_reruns 3 by default).
    expect((await rerun(id)).status).toBe(200);
  });

  it('gives up on a target that does not answer within timeout_seconds', async () => {
    const target = await fake([hang()]);
    const { stepRun } = await failedStepRun({ api_endpoint: `${target.url}/rerun`, timeout_seconds: 0.3 });
    const { id } = (await (await rerun(stepRun.id)).json()) as RerunResponse;
    const job = await endedJob(id);
    expect(job).toMatchObject({ status: 'failed', attempts: 1, timeout_seconds: 0.3 });
    expect(job.attempt_history[0]).toMatchObject({ outcome: 'timeout', http_status: null });
    expect(job.attempt_history[0].duration_ms).toBeGreaterThanOrEqual(290);
    expect((await stepRunOf(id)).failure).toMatchObject({ result_type: 'failure', adapter: 'http' });
    expect(target.requests).toHaveLength(1);
  });

  it('waits for Retry-After when the target answers 429, even when the configured delay is shorter', async () => {
    const target = await fake([respond(429, '', { 'Retry-After': '1' }), respond(200)]);
    const { stepRun } = await failedStepRun({ api_endpoint: `${target.url}/rerun`, retry_delays: [0] });
    const { id } = (await (await rerun(stepRun.id)).json()) as RerunResponse;
    await waitFor(
      () => stepRunOf(id),
      (current) => current.status === 'success',
    );
    const [first, second] = target.requests.map((request) => request.receivedAt.getTime());
    expect(target.requests).toHaveLength(2);
    expect(second - first).toBeGreaterThanOrEqual(950);
    expect((await jobOf(id)).attempt_history.map((attempt) => attempt.outcome)).toEqual([
      'rate_limit',
      'success',
    ]);
  });

  it('does not retry a 4xx answer: the step run fails at once as a source error', async () => {
    const target = await fake([respond(400, { detail: 'ukendt sag' })]);
    const { stepRun } = await failedStepRun({ api_endpoint: `${target.url}/rerun`, retry_delays: [0, 0] });
    const { id } = (await (await rerun(stepRun.id)).json()) as RerunResponse;
    const job = await endedJob(id);
    expect(target.requests).toHaveLength(1);
    expect(job).toMatchObject({ status: 'failed', attempts: 1, max_attempts: 3 });
    expect((await stepRunOf(id)).failure).toMatchObject({ result_type: 'source_error' });
  });

  it('retries only the failures named in failure_conditions', async () => {
    const target = await fake([respond(500)]);
    const { stepRun } = await failedStepRun({
      api_endpoint: `${target.url}/rerun`,
      retry_delays: [0, 0],
      failure_conditions: ['timeout', 'network_error'],
    });
    const { id } = (await (await rerun(stepRun.id)).json()) as RerunResponse;
    await endedJob(id);
    expect(target.requests).toHaveLength(1);
  });

  it('retries a dropped connection as a network error', async () => {
    const target = await fake([destroySocket(), respond(204)]);
    const { stepRun } = await failedStepRun({ api_endpoint: `${target.url}/rerun`, retry_delays: [0.05] });
    const { id } = (await (await rerun(stepRun.id)).json()) as RerunResponse;
    await waitFor(
      () => stepRunOf(id),
      (current) => current.status === 'success',
    );
    expect((await jobOf(id)).attempt_history.map((attempt) => attempt.outcome)).toEqual([
      'network_error',
      'success',
    ]);
  });

  it('asks the automation server to start the work item again; its robot then reports on the new step run', async () => {
    automation.reset([respond(200, { status: 'new' })]);
    const { runId, stepRun } = await failedStepRun({ max_retries: 2 });
    // Robots set the work item on their step run.
    await server.json('PATCH', `/api/v1/step-runs/${stepRun.id}`, {
      status: 'failed',
      rerun_config: { workitem_id: 4711 },
    });
    const response = await rerun(stepRun.id);
    expect(response.status).toBe(200);
    const body = (await response.json()) as RerunResponse;
    expect(body.rerun_result).toEqual({
      result: 'queued',
      adapter: 'automation_server',
      message: `Rerun queued for ${automation.url}/api/workitems/4711/status`,
    });
    const job = await endedJob(body.id);
    expect(job).toMatchObject({ status: 'succeeded', adapter: 'automation_server' });
    expect(automation.requests).toHaveLength(1);
    const [call] = automation.requests;
    expect(call.method).toBe('PUT');
    expect(call.path).toBe('/api/workitems/4711/status');
    expect(call.body).toEqual({ status: 'new' });
    expect(call.headers['authorization']).toBe(`Bearer ${AUTOMATION_TOKEN}`);
    // The step run waits for its robot, which reports as usual.
    expect((await stepRunOf(body.id)).status).toBe('pending');
    const robot = await server.json<StepRun>('GET', `/api/v1/step-runs/run/${runId}/step/${stepRun.step_id}`);
    expect(robot.id).toBe(body.id);
    await server.json('PATCH', `/api/v1/step-runs/${body.id}`, { status: 'success' });
    expect(await runStatusOf(runId)).toBe('completed');
    // The job's secret never shows.
    expect(JSON.stringify(await server.json('GET', '/api/v1/admin/rerun-jobs'))).not.toContain(
      AUTOMATION_TOKEN,
    );
  });

  it('fails the step run when the automation server refuses the work item', async () => {
    automation.reset([respond(404, { detail: 'Workitem not found' })]);
    const { stepRun } = await failedStepRun({ workitem_id: 'wi-77' });
    const { id } = (await (await rerun(stepRun.id)).json()) as RerunResponse;
    await endedJob(id);
    expect((await stepRunOf(id)).failure).toMatchObject({
      error: 'Rerun failed',
      adapter: 'automation_server',
      result_type: 'source_error',
    });
    expect(automation.requests.map((request) => request.path)).toEqual(['/api/workitems/wi-77/status']);
  });

  describe('refused reruns (409) write nothing and call nobody', () => {
    async function refused(id: number, detail: string | RegExp) {
      const before = await server.json<JobPage>('GET', '/api/v1/admin/rerun-jobs');
      const stepRunsBefore = await server.json<StepRun[]>('GET', `/api/v1/step-runs/${id}/reruns`);
      await expectDetail(await rerun(id), 409, detail);
      const after = await server.json<JobPage>('GET', '/api/v1/admin/rerun-jobs');
      expect(after.total).toBe(before.total);
      expect(await server.json<StepRun[]>('GET', `/api/v1/step-runs/${id}/reruns`)).toEqual(stepRunsBefore);
    }

    it('refuses a step run whose step is not rerunnable', async () => {
      const target = await fake([respond(200)]);
      const { stepRun } = await failedStepRun({ api_endpoint: `${target.url}/rerun` }, { rerunnable: false });
      await refused(stepRun.id, `Step run ${stepRun.id} cannot be rerun: its step is not rerunnable`);
      expect(target.requests).toHaveLength(0);
    });

    it('refuses a step run that has not failed', async () => {
      const target = await fake([respond(200)]);
      const { stepRun } = await failedStepRun({ api_endpoint: `${target.url}/rerun` });
      await server.json('PATCH', `/api/v1/step-runs/${stepRun.id}`, { status: 'running' });
      await refused(stepRun.id, `Step run ${stepRun.id} is running; only a failed step run can be rerun`);
    });

    it('refuses a step run already rerun, and one that has used up max_reruns', async () => {
      const target = await fake([respond(500)]);
      const { stepRun } = await failedStepRun({ api_endpoint: `${target.url}/rerun`, max_retries: 1 });
      const { id } = (await (await rerun(stepRun.id)).json()) as RerunResponse;
      await endedJob(id);
      await refused(stepRun.id, `Step run ${stepRun.id} was already rerun as step run ${id}; rerun that one`);
      expect((await stepRunOf(id)).status).toBe('failed');
      await refused(id, `Step run ${id} has reached its maximum of 1 reruns`);
    });

    it('refuses a target that is not on RERUN_ALLOWED_HOSTS, or none at all', async () => {
      const { stepRun } = await failedStepRun({ api_endpoint: 'https://169.254.169.254/latest/meta-data' });
      await refused(stepRun.id, /rerun_config.api_endpoint is not allowed: .*169\.254\.169\.254/);
      const other = await failedStepRun({ api_endpoint: 'https://evil.example.com/hook' });
      await refused(other.stepRun.id, /not allowed: .*evil\.example\.com/);
      const none = await failedStepRun({ subprocess_id: 'x' });
      await refused(none.stepRun.id, /names no target/);
      const bad = await failedStepRun({ api_endpoint: 'http://127.0.0.1:1/x', retry_delays: 'soon' });
      await refused(bad.stepRun.id, /retry_delays must be a list/);
    });

    it('answers 404 for a step run that does not exist', async () => {
      await expectDetail(await rerun(999_999), 404, 'Step run 999999 not found');
      await expectDetail(
        await server.request('/api/v1/step-runs/999999/reruns'),
        404,
        'Step run 999999 not found',
      );
    });
  });

  it('lets a user key rerun, and audits the rerun with the new step run and job', async () => {
    const target = await fake([respond(200)]);
    const { stepRun } = await failedStepRun({ api_endpoint: `${target.url}/rerun` });
    const response = await server.request(`/api/v1/step-runs/${stepRun.id}/rerun`, {
      method: 'POST',
      headers: {
        'X-API-Key': server.userKey,
        'X-Request-ID': `rerun-audit-${stepRun.id}`,
        'X-User': 'mette.jensen',
      },
    });
    expect(response.status).toBe(200);
    const { id } = (await response.json()) as RerunResponse;
    await endedJob(id);
    const job = await jobOf(id);
    await server.container.audit.flush();
    const entries = await server.container.orm.em
      .fork()
      .getConnection()
      .execute<{ changes: string; resource_id: string; operation_id: string; user_email: string }[]>(
        'select changes, resource_id, operation_id, user_email from audit_log where request_id = ?',
        [`rerun-audit-${stepRun.id}`],
      );
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      resource_id: String(stepRun.id),
      operation_id: 'rerunStepRun',
      user_email: 'mette.jensen',
    });
    expect(JSON.parse(entries[0].changes)).toEqual({
      operation: 'rerunStepRun',
      new_step_run_id: id,
      rerun_job_id: job.id,
      adapter: 'http',
    });
  });

  it('shows the queue depth and filters jobs by status (admin only)', async () => {
    const page = await server.json<JobPage>('GET', '/api/v1/admin/rerun-jobs?status=failed&size=100');
    expect(page.items.length).toBeGreaterThan(0);
    expect(page.items.every((job) => job.status === 'failed')).toBe(true);
    expect(page.queue.failed).toBe(page.total);
    const all = await server.json<JobPage>('GET', '/api/v1/admin/rerun-jobs?size=100');
    const { queue } = all;
    expect(queue.queued + queue.running + queue.succeeded + queue.failed + queue.cancelled).toBe(all.total);
    await expectDetail(
      await server.request('/api/v1/admin/rerun-jobs', { headers: { 'X-API-Key': server.userKey } }),
      403,
    );
  });
});

describe('a rerun job whose step run changed before a worker took it', () => {
  let server: TestServer;
  let target: FakeExternal;

  beforeAll(async () => {
    target = await startFakeExternal([respond(200)]);
    // No worker runs on its own: each test lets one execute what is due, when it chooses.
    server = await startTestServer({ RERUN_WORKER: 'off', RERUN_ALLOWED_HOSTS: '127.0.0.1' });
  });
  afterAll(async () => {
    await server?.close();
    await target?.close();
  });

  async function queuedRerun() {
    const process = await server.json<{ id: number }>('POST', '/api/v1/processes', {
      name: `Aflyst ${Date.now()}`,
    });
    await server.json('POST', '/api/v1/steps', {
      process_id: process.id,
      index: 0,
      name: 'Trin',
      is_rerunnable: true,
      rerun_config: { api_endpoint: `${target.url}/rerun` },
    });
    const run = await server.json<{ id: number; steps: StepRun[] }>('POST', '/api/v1/runs', {
      process_id: process.id,
      entity_id: 'aflyst',
    });
    await server.json('PATCH', `/api/v1/step-runs/${run.steps[0].id}`, { status: 'failed' });
    const rerun = await server.json<RerunResponse>('POST', `/api/v1/step-runs/${run.steps[0].id}/rerun`);
    return { runId: run.id, stepRunId: rerun.id };
  }

  const jobOf = async (stepRunId: number) =>
    (await server.json<JobPage>('GET', `/api/v1/admin/rerun-jobs?step_run_id=${stepRunId}`)).items[0];

  it('is cancelled without a call when the run was deleted', async () => {
    target.reset([respond(200)]);
    const { runId, stepRunId } = await queuedRerun();
    expect((await server.request(`/api/v1/runs/${runId}`, { method: 'DELETE' })).status).toBe(204);
    expect(await server.container.rerunWorker.drain()).toBe(1);
    expect(target.requests).toHaveLength(0);
    expect(await jobOf(stepRunId)).toMatchObject({ status: 'cancelled', attempts: 1 });
    expect((await jobOf(stepRunId)).attempt_history[0]).toMatchObject({ outcome: 'cancelled' });
  });

  it('is cancelled without a call when a robot reported on the step run meanwhile', async () => {
    target.reset([respond(200)]);
    const { stepRunId } = await queuedRerun();
    await server.json('PATCH', `/api/v1/step-runs/${stepRunId}`, { status: 'success' });
    expect(await server.container.rerunWorker.drain()).toBe(1);
    expect(target.requests).toHaveLength(0);
    expect((await jobOf(stepRunId)).status).toBe('cancelled');
    expect((await server.json<StepRun>('GET', `/api/v1/step-runs/${stepRunId}`)).status).toBe('success');
  });

  it('fits the lease to a timeout changed on the step run after the rerun was queued', async () => {
    target.reset([respond(200)]);
    const { stepRunId } = await queuedRerun();
    expect((await jobOf(stepRunId)).timeout_seconds).toBe(30);
    await server.json('PATCH', `/api/v1/step-runs/${stepRunId}`, {
      status: 'pending',
      rerun_config: { timeout_seconds: 90 },
    });
    expect(await server.container.rerunWorker.drain()).toBe(1);
    expect(target.requests).toHaveLength(1);
    expect(await jobOf(stepRunId)).toMatchObject({ status: 'succeeded', timeout_seconds: 90 });
  });

  it('claims at most the number of jobs asked for, oldest due first, each once', async () => {
    const queued: number[] = [];
    for (let i = 0; i < 7; i++) queued.push((await queuedRerun()).stepRunId);
    const queue = new RerunQueue({
      em: () => server.container.orm.em.fork(),
      dialect: ormDialect(server.container.orm),
      leaseMarginSeconds: 30,
    });
    const first = await queue.claim('worker-a', 3);
    const second = await queue.claim('worker-b', 3);
    const third = await queue.claim('worker-c', 3);
    expect([first.length, second.length, third.length]).toEqual([3, 3, 1]);
    expect([...first, ...second, ...third].map((claimed) => claimed.job.step_run_id)).toEqual(queued);
    expect(await queue.claim('worker-d', 3)).toEqual([]);
    // Leave nothing claimed for the tests after this one.
    await server.container.orm.em
      .fork()
      .getConnection()
      .execute("update rerun_job set status = 'cancelled', lease_token = null where status = 'running'");
  });

  it('is executed again by another worker once the lease of a worker that died has expired', async () => {
    target.reset([respond(200)]);
    const { stepRunId } = await queuedRerun();
    // A worker that claims the job and dies: the claim alone, never executed.
    const dead = new RerunQueue({
      em: () => server.container.orm.em.fork(),
      dialect: ormDialect(server.container.orm),
      leaseMarginSeconds: 0,
    });
    const [claimed] = await dead.claim('dead-worker', 10);
    expect(claimed?.job.step_run_id).toBe(stepRunId);
    // Its lease (timeout 30 s + margin 0) has not expired: nobody else may take the job.
    expect(await server.container.rerunWorker.drain()).toBe(0);
    // Time passes: the lease ends.
    await server.container.orm.em
      .fork()
      .getConnection()
      .execute('update rerun_job set lease_expires_at = ? where id = ?', [
        new Date(Date.now() - 1000),
        claimed.job.id,
      ]);
    expect(await server.container.rerunWorker.drain()).toBe(1);
    expect(target.requests).toHaveLength(1);
    expect(target.requests[0].headers['x-rerun-attempt']).toBe('2');
    const job = await jobOf(stepRunId);
    expect(job).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(job.attempt_history.map((attempt) => [attempt.worker, attempt.outcome])).toEqual([
      ['dead-worker', 'lease_expired'],
      [server.container.rerunWorker.id, 'success'],
    ]);
  });
});
