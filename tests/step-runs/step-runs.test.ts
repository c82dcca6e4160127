import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessStepRun } from '../../src/entities/index.ts';
import { StepRunService } from '../../src/services/step-run.service.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import type { Schemas } from '../../src/contract.ts';

type StepRunBody = Schemas['ProcessStepRun'];
type RunBody = Schemas['ProcessRun'];
type Problem = Schemas['Problem'];

const FAILURE = {
  error_code: 'CPR_TIMEOUT',
  message: 'CPR-registret svarede ikke inden for tidsfristen',
  details: 'Forbindelsen blev afbrudt efter 300 sekunder; prøv igen – Ærø 🔥',
};

describe('step runs', () => {
  let server: TestServer;
  const send = (method: string, path: string, body?: unknown, key = server.userKey) =>
    server.request(path, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', 'X-API-Key': key },
    });
  const json = async <T>(response: Response, status: number): Promise<T> => {
    const text = await response.text();
    expect(response.status, text).toBe(status);
    return JSON.parse(text) as T;
  };
  const report = (id: number, body: Record<string, unknown>) =>
    send('PATCH', `/api/v1/step-runs/${id}`, body).then((r) => json<StepRunBody>(r, 200));
  const getRun = (id: number) => send('GET', `/api/v1/runs/${id}`).then((r) => json<RunBody>(r, 200));
  /** A process with `steps` steps (the last one rerunnable) and a run of it. */
  const newRun = async (steps = 3) => {
    const process = await json<{ id: number }>(
      await send('POST', '/api/v1/processes', { name: 'Flytning' }, server.adminKey),
      201,
    );
    const stepIds: number[] = [];
    for (let index = 0; index < steps; index++) {
      const step = await json<{ id: number }>(
        await send('POST', '/api/v1/steps', {
          process_id: process.id,
          index,
          name: `Trin ${index}`,
          is_rerunnable: index === steps - 1,
          rerun_config: index === steps - 1 ? { max_retries: 2 } : {},
        }),
        201,
      );
      stepIds.push(step.id);
    }
    const run = await json<RunBody>(
      await send('POST', '/api/v1/runs', { process_id: process.id, entity_id: '0101901234' }),
      201,
    );
    return { processId: process.id, stepIds, run, stepRuns: run.steps };
  };

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  describe('PATCH /api/v1/step-runs/{step_run_id}', () => {
    it('running without started_at sets it to now, and the run becomes running with started_at', async () => {
      const { run, stepRuns } = await newRun();
      const before = Date.now();
      const updated = await report(stepRuns[0].id, { status: 'running', last_modified_by: 'robot-01' });
      expect(updated.status).toBe('running');
      expect(Date.parse(updated.started_at!)).toBeGreaterThanOrEqual(before - 5);
      expect(updated.finished_at).toBeNull();
      expect(updated.last_modified_by).toBe('robot-01');
      const after = await getRun(run.id);
      expect(after.status).toBe('running');
      expect(after.started_at).not.toBeNull();
      expect(after.finished_at).toBeNull();
    });

    it('keeps timestamps that are sent, and reads offset-less ones as UTC', async () => {
      const { stepRuns } = await newRun();
      const running = await report(stepRuns[0].id, {
        status: 'running',
        started_at: '2026-01-05T10:15:00.123456',
      });
      expect(running.started_at).toBe('2026-01-05T10:15:00.123Z');
      const done = await report(stepRuns[0].id, {
        status: 'success',
        started_at: '2026-01-05T10:15:00.123Z',
        finished_at: '2026-01-05T12:15:42.800+02:00',
      });
      expect(done).toMatchObject({
        started_at: '2026-01-05T10:15:00.123Z',
        finished_at: '2026-01-05T10:15:42.800Z',
      });
    });

    it('success and failed without finished_at set it to now; a stored started_at is kept', async () => {
      const { stepRuns } = await newRun();
      const running = await report(stepRuns[0].id, { status: 'running' });
      const done = await report(stepRuns[0].id, { status: 'success' });
      expect(done.started_at).toBe(running.started_at);
      expect(done.finished_at).not.toBeNull();
      const failed = await report(stepRuns[1].id, { status: 'failed', failure: FAILURE });
      expect(failed.finished_at).not.toBeNull();
      expect(failed.started_at).toBeNull();
    });

    it('stores the failure object intact (Danish text, emoji) and the run becomes failed with finished_at', async () => {
      const { run, stepRuns } = await newRun();
      await report(stepRuns[0].id, { status: 'running' });
      const failed = await report(stepRuns[0].id, { status: 'failed', failure: FAILURE });
      expect(failed.failure).toEqual(FAILURE);
      const after = await getRun(run.id);
      expect(after.status).toBe('failed');
      expect(after.finished_at).not.toBeNull();
      expect(after.steps[0].failure).toEqual(FAILURE);
    });

    it('pending and running clear the failure, even when one is sent', async () => {
      const { run, stepRuns } = await newRun();
      await report(stepRuns[0].id, { status: 'failed', failure: FAILURE });
      const running = await report(stepRuns[0].id, { status: 'running', failure: FAILURE });
      expect(running.failure).toBeNull();
      await report(stepRuns[0].id, { status: 'failed', failure: FAILURE });
      expect((await report(stepRuns[0].id, { status: 'pending' })).failure).toBeNull();
      // The run left failed: finished_at cleared.
      const after = await getRun(run.id);
      expect(after.status).toBe('running');
      expect(after.finished_at).toBeNull();
    });

    it('a whole run: every step success → completed with finished_at; a step back to running → running, finished_at cleared', async () => {
      const { run, stepRuns } = await newRun();
      for (const stepRun of stepRuns) {
        await report(stepRun.id, { status: 'running' });
        await report(stepRun.id, { status: 'success' });
      }
      const completed = await getRun(run.id);
      expect(completed.status).toBe('completed');
      expect(completed.finished_at).not.toBeNull();
      await report(stepRuns[1].id, { status: 'running' });
      const again = await getRun(run.id);
      expect(again).toMatchObject({ status: 'running', finished_at: null, started_at: completed.started_at });
    });

    it('optional steps do not block completion; cancelled wins over running', async () => {
      const { run, stepRuns } = await newRun();
      await report(stepRuns[0].id, { status: 'success' });
      await report(stepRuns[1].id, { status: 'optional' });
      expect((await getRun(run.id)).status).toBe('running');
      await report(stepRuns[2].id, { status: 'success' });
      expect((await getRun(run.id)).status).toBe('completed');
      await report(stepRuns[2].id, { status: 'running' });
      await report(stepRuns[1].id, { status: 'cancelled' });
      expect((await getRun(run.id)).status).toBe('cancelled');
    });

    it('rerun_config is merged into the stored one ({} and null change nothing); meta replaces; null last_modified_by clears', async () => {
      const { stepRuns } = await newRun();
      const id = stepRuns[2].id;
      const first = await report(id, {
        status: 'running',
        rerun_config: { max_retries: 2, workitem_id: 98765 },
        meta: { records_processed: 1247, sti: 'C:\\Ærø\\ud' },
        last_modified_by: 'robot-02',
      });
      expect(first).toMatchObject({
        rerun_config: { max_retries: 2, workitem_id: 98765 },
        meta: { records_processed: 1247, sti: 'C:\\Ærø\\ud' },
      });
      const merged = await report(id, {
        status: 'running',
        rerun_config: { workitem_id: 111, subprocess_id: 'cpr' },
      });
      expect(merged.rerun_config).toEqual({ max_retries: 2, workitem_id: 111, subprocess_id: 'cpr' });
      expect(await report(id, { status: 'running', rerun_config: {} })).toMatchObject({
        rerun_config: merged.rerun_config,
        meta: { records_processed: 1247, sti: 'C:\\Ærø\\ud' },
      });
      const second = await report(id, { status: 'running', rerun_config: null, last_modified_by: null });
      expect(second.rerun_config).toEqual(merged.rerun_config);
      expect(second.last_modified_by).toBeNull();
      expect(second.meta).toEqual(first.meta);
    });

    it('accepts the robots’ full body (both timestamps, rerun_config {}, unknown members ignored)', async () => {
      const { stepRuns } = await newRun();
      const updated = await report(stepRuns[0].id, {
        status: 'success',
        started_at: '2026-01-05T10:15:00.123Z',
        finished_at: '2026-01-05T10:15:42.800Z',
        failure: null,
        rerun_config: {},
        id: 999,
        rerun_count: 7,
        run_id: 1,
      });
      expect(updated).toMatchObject({
        id: stepRuns[0].id,
        rerun_count: 0,
        rerun_config: {},
        status: 'success',
      });
    });

    it('is allowed for a user key; 404 problem for an unknown step run; 422 without status or with an unknown one', async () => {
      const { stepRuns } = await newRun(1);
      await json<Problem>(await send('PATCH', '/api/v1/step-runs/2147483647', { status: 'running' }), 404);
      await json<Problem>(await send('PATCH', `/api/v1/step-runs/${stepRuns[0].id}`, {}), 422);
      await json<Problem>(
        await send('PATCH', `/api/v1/step-runs/${stepRuns[0].id}`, { status: 'done' }),
        422,
      );
      await json<Problem>(
        await send('PATCH', `/api/v1/step-runs/${stepRuns[0].id}`, {
          status: 'running',
          started_at: 'yesterday',
        }),
        422,
      );
    });

    it('derives each report from the run as it is now: changed by another server, a new step run, a delete', async () => {
      // On PostgreSQL this server keeps each run as it last wrote it, a new one too, and derives the next
      // report from that (kept-runs.ts); every change below, by anyone, must reach the very next report.
      const { run, stepIds, stepRuns } = await newRun();
      // Another server on the same database (its own service, its own kept runs).
      const other = new StepRunService();
      const otherReport = (index: number, status: 'running' | 'success') =>
        other.report(server.container.orm.em.fork(), stepRuns[index].id, { status });
      await otherReport(0, 'success');
      await otherReport(1, 'success');
      expect((await report(stepRuns[2].id, { status: 'success' })).status).toBe('success');
      const completed = await getRun(run.id);
      expect(completed.status).toBe('completed');
      expect(completed.finished_at).not.toBeNull();

      await report(stepRuns[0].id, { status: 'running' });
      expect((await getRun(run.id)).status).toBe('running');
      await otherReport(0, 'success');
      await report(stepRuns[1].id, { status: 'success' });
      expect((await getRun(run.id)).status).toBe('completed');

      // A new attempt of the first step (pending): the run is not completed any more.
      const again = await json<StepRunBody>(
        await send('POST', '/api/v1/step-runs', { run_id: run.id, step_id: stepIds[0] }),
        201,
      );
      await report(stepRuns[2].id, { status: 'success' });
      expect((await getRun(run.id)).status).toBe('running');
      await report(again.id, { status: 'success' });
      expect((await getRun(run.id)).status).toBe('completed');

      expect((await send('DELETE', `/api/v1/runs/${run.id}`, undefined, server.adminKey)).status).toBe(204);
      await json<Problem>(await send('PATCH', `/api/v1/step-runs/${again.id}`, { status: 'running' }), 404);
      const stored = await server.container.orm.em
        .fork()
        .findOne(ProcessStepRun, { id: again.id }, { filters: false });
      expect(stored?.status).toBe('success');
    });
  });

  describe('GET /api/v1/step-runs/{step_run_id}', () => {
    it('returns the step run, 404 for an unknown one', async () => {
      const { stepRuns } = await newRun(1);
      expect(
        (await json<StepRunBody>(await send('GET', `/api/v1/step-runs/${stepRuns[0].id}`), 200)).id,
      ).toBe(stepRuns[0].id);
      await json<Problem>(await send('GET', '/api/v1/step-runs/2147483647'), 404);
    });
  });

  describe('POST /api/v1/step-runs', () => {
    it('creates a pending step run taking step_index and rerun settings from the step, and recomputes the run', async () => {
      const { run, stepIds } = await newRun(3);
      const created = await json<StepRunBody>(
        await send('POST', '/api/v1/step-runs', { run_id: run.id, step_id: stepIds[2] }),
        201,
      );
      expect(created).toMatchObject({
        run_id: run.id,
        step_id: stepIds[2],
        step_index: 2,
        status: 'pending',
        can_rerun: true,
        max_reruns: 2,
        rerun_config: { max_retries: 2 },
      });
      const withIndex = await json<StepRunBody>(
        await send('POST', '/api/v1/step-runs', { run_id: run.id, step_id: stepIds[0], step_index: 7 }),
        201,
      );
      expect(withIndex.step_index).toBe(7);
    });

    it('answers 404 for an unknown run or step, 409 for a step of another process, and writes nothing', async () => {
      const first = await newRun(1);
      const other = await newRun(1);
      const em = server.container.orm.em.fork();
      const before = await em.count(ProcessStepRun);
      await json<Problem>(
        await send('POST', '/api/v1/step-runs', { run_id: 2147483647, step_id: first.stepIds[0] }),
        404,
      );
      await json<Problem>(
        await send('POST', '/api/v1/step-runs', { run_id: first.run.id, step_id: 2147483647 }),
        404,
      );
      await json<Problem>(
        await send('POST', '/api/v1/step-runs', { run_id: first.run.id, step_id: other.stepIds[0] }),
        409,
      );
      expect(await em.count(ProcessStepRun)).toBe(before);
    });
  });

  describe('GET /api/v1/step-runs/run/{run_id} and .../rerunnable and .../step/{step_id}', () => {
    it('lists the step runs of a run by step_index; rerunnable lists only can_rerun and failed', async () => {
      const { run, stepRuns, stepIds } = await newRun(3);
      const listed = await json<StepRunBody[]>(
        await send('GET', `/api/v1/step-runs/run/${run.id}?include_deleted=false`),
        200,
      );
      expect(listed.map((s) => s.id)).toEqual(stepRuns.map((s) => s.id));
      expect(
        await json<StepRunBody[]>(await send('GET', `/api/v1/step-runs/run/${run.id}/rerunnable`), 200),
      ).toEqual([]);
      await report(stepRuns[0].id, { status: 'failed' }); // not rerunnable
      await report(stepRuns[2].id, { status: 'failed', failure: FAILURE }); // rerunnable
      const rerunnable = await json<StepRunBody[]>(
        await send('GET', `/api/v1/step-runs/run/${run.id}/rerunnable`),
        200,
      );
      expect(rerunnable.map((s) => s.id)).toEqual([stepRuns[2].id]);
      const byStep = await json<StepRunBody>(
        await send('GET', `/api/v1/step-runs/run/${run.id}/step/${stepIds[1]}`),
        200,
      );
      expect(byStep.id).toBe(stepRuns[1].id);
    });

    it('an unknown run lists nothing; by step answers the original 404 message', async () => {
      expect(await json<StepRunBody[]>(await send('GET', '/api/v1/step-runs/run/2147483647'), 200)).toEqual(
        [],
      );
      const { run } = await newRun(1);
      for (const path of [
        `/api/v1/step-runs/run/2147483647/step/1`,
        `/api/v1/step-runs/run/${run.id}/step/2147483647`,
      ]) {
        const problem = await json<Problem>(await send('GET', path), 404);
        expect(problem.detail).toBe('Step run not found for given run and step');
      }
    });

    it('a superseded attempt is not current: lists and the run status use the newest attempt only', async () => {
      const { run, stepRuns, stepIds } = await newRun(2);
      await report(stepRuns[0].id, { status: 'success' });
      await report(stepRuns[1].id, { status: 'failed', failure: FAILURE });
      // A rerun attempt of the failed step run (the rerun endpoint lands later; the link is what counts).
      const em = server.container.orm.em.fork();
      const failed = await em.findOneOrFail(ProcessStepRun, { id: stepRuns[1].id });
      const rerun = em.create(ProcessStepRun, {
        run: failed.run,
        step: failed.step,
        step_index: failed.step_index,
        status: 'pending',
        can_rerun: true,
        rerun_config: failed.rerun_config,
        max_reruns: failed.max_reruns,
        rerun_count: 1,
        rerun_of: failed,
      });
      await em.flush();
      const listed = await json<StepRunBody[]>(await send('GET', `/api/v1/step-runs/run/${run.id}`), 200);
      expect(listed.map((s) => s.id)).toEqual([stepRuns[0].id, rerun.id]);
      const byStep = await json<StepRunBody>(
        await send('GET', `/api/v1/step-runs/run/${run.id}/step/${stepIds[1]}`),
        200,
      );
      expect(byStep).toMatchObject({ id: rerun.id, rerun_of_id: stepRuns[1].id });
      // The old attempt stays readable by id.
      expect(
        (await json<StepRunBody>(await send('GET', `/api/v1/step-runs/${stepRuns[1].id}`), 200)).status,
      ).toBe('failed');
      await report(rerun.id, { status: 'success' });
      const after = await getRun(run.id);
      expect(after.status).toBe('completed');
      expect(after.steps.map((s) => s.id)).toEqual([stepRuns[0].id, rerun.id]);
    });
  });
});
