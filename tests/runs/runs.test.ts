import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Configuration, ResponseError, RunsApi } from '../../generated/sdk/src/index.ts';
import { ProcessRun, ProcessStepRun } from '../../src/entities/index.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import type { Schemas } from '../../src/contract.ts';

type RunBody = Schemas['ProcessRun'];
type Problem = Schemas['Problem'];

const META = {
  kommune: 'Aarhus',
  sagsnummer: 'S2026-00042',
  prioritet: 'høj',
  note: 'Ærø 🚀',
  antal: 3,
  haster: true,
};

describe('runs', () => {
  let server: TestServer;
  const send = (method: string, path: string, body?: unknown, key?: string) =>
    server.request(path, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', ...(key === undefined ? {} : { 'X-API-Key': key }) },
    });
  const json = async <T>(response: Response, status: number): Promise<T> => {
    const text = await response.text();
    expect(response.status, text).toBe(status);
    return JSON.parse(text) as T;
  };
  /** A process with steps (index, is_rerunnable, rerun_config), created in shuffled order. */
  const newProcess = async (
    steps: { index: number; rerunnable?: boolean; config?: Record<string, unknown> }[],
    retention_months: number | null = null,
  ) => {
    const process = await json<{ id: number }>(
      await send('POST', '/api/v1/processes', { name: 'Flytning', retention_months }),
      201,
    );
    const stepIds = new Map<number, number>();
    for (const step of steps) {
      const created = await json<{ id: number }>(
        await send('POST', '/api/v1/steps', {
          process_id: process.id,
          index: step.index,
          name: `Trin ${step.index}`,
          is_rerunnable: step.rerunnable ?? false,
          rerun_config: step.config ?? {},
        }),
        201,
      );
      stepIds.set(step.index, created.id);
    }
    return { id: process.id, stepIds };
  };

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  describe('POST /api/v1/runs', () => {
    it('creates a pending run with one pending step run per step in index order, copying the rerun settings', async () => {
      const config = { subprocess_id: 'cpr', max_retries: 5, retry_delays: [60, 120] };
      const process = await newProcess([
        { index: 2, rerunnable: true, config },
        { index: 0 },
        { index: 1, rerunnable: true },
      ]);
      const run = await json<RunBody>(
        await send(
          'POST',
          '/api/v1/runs',
          { process_id: process.id, entity_id: '0101901234', entity_name: 'Jens Hansen', meta: META },
          server.userKey,
        ),
        201,
      );
      expect(run).toMatchObject({
        process_id: process.id,
        entity_id: '0101901234',
        entity_name: 'Jens Hansen',
        status: 'pending',
        meta: META,
        started_at: null,
        finished_at: null,
        is_neutralized: false,
        scheduled_deletion_at: null,
      });
      expect(run.steps.map((s) => [s.step_index, s.step_id, s.status])).toEqual([
        [0, process.stepIds.get(0), 'pending'],
        [1, process.stepIds.get(1), 'pending'],
        [2, process.stepIds.get(2), 'pending'],
      ]);
      expect(run.steps.map((s) => [s.can_rerun, s.max_reruns, s.rerun_count])).toEqual([
        [false, 0, 0],
        [true, 3, 0],
        [true, 5, 0],
      ]);
      expect(run.steps[2].rerun_config).toEqual(config);
      expect(run.steps.every((s) => s.run_id === run.id && s.failure === null)).toBe(true);
      // What was answered is what was stored.
      expect(await json<RunBody>(await send('GET', `/api/v1/runs/${run.id}`), 200)).toEqual(run);
    });

    it('sets scheduled_deletion_at to created_at plus the retention in calendar months', async () => {
      const process = await newProcess([{ index: 0 }], 13);
      const run = await json<RunBody>(
        await send('POST', '/api/v1/runs', { process_id: process.id, entity_id: 'x' }),
        201,
      );
      const created = new Date(run.created_at);
      const expected = new Date(created);
      expected.setUTCDate(1);
      expected.setUTCMonth(expected.getUTCMonth() + 13);
      const lastDay = new Date(
        Date.UTC(expected.getUTCFullYear(), expected.getUTCMonth() + 1, 0),
      ).getUTCDate();
      expected.setUTCDate(Math.min(created.getUTCDate(), lastDay));
      expect(run.scheduled_deletion_at).toBe(expected.toISOString());
      expect(run.entity_name).toBeNull();
      expect(run.meta).toEqual({});
    });

    it('gives every new run the process as it is then: a step added, the retention changed, the process deleted', async () => {
      // On PostgreSQL the process read for a run is used again for the next (run.service.ts); each change
      // below must still reach the very next run.
      const process = await newProcess([{ index: 0 }, { index: 1 }]);
      const create = (entity_id: string) =>
        send('POST', '/api/v1/runs', { process_id: process.id, entity_id }, server.userKey);
      const first = await json<RunBody>(await create('a'), 201);
      expect(first.steps.map((s) => s.step_index)).toEqual([0, 1]);
      expect((await json<RunBody>(await create('b'), 201)).steps).toHaveLength(2);

      const added = await json<{ id: number }>(
        await send('POST', '/api/v1/steps', { process_id: process.id, index: 2, name: 'Trin 2' }),
        201,
      );
      const withStep = await json<RunBody>(await create('c'), 201);
      expect(withStep.steps.map((s) => [s.step_index, s.step_id])).toEqual([
        [0, process.stepIds.get(0)],
        [1, process.stepIds.get(1)],
        [2, added.id],
      ]);
      expect(withStep.scheduled_deletion_at).toBeNull();

      await json(await send('PATCH', `/api/v1/processes/${process.id}`, { retention_months: 2 }), 200);
      const retained = await json<RunBody>(await create('d'), 201);
      expect(retained.scheduled_deletion_at).not.toBeNull();
      expect(new Date(retained.scheduled_deletion_at!).getTime()).toBeGreaterThan(
        new Date(retained.created_at).getTime() + 58 * 86_400_000,
      );
      expect(retained.steps).toHaveLength(3);

      expect((await send('DELETE', `/api/v1/processes/${process.id}`)).status).toBe(204);
      const refused = await create('e');
      expect(refused.status).toBe(404);
      expect(((await refused.json()) as Problem).detail).toBe(`Process ${process.id} not found`);
      const stored = await server.container.orm.em
        .fork()
        .count(ProcessRun, { process: process.id }, { filters: false });
      expect(stored).toBe(4);
    });

    it('creates a run without step runs for a process without steps', async () => {
      const process = await newProcess([]);
      const run = await json<RunBody>(
        await send('POST', '/api/v1/runs', { process_id: process.id, entity_id: 'x' }),
        201,
      );
      expect(run.steps).toEqual([]);
      expect(run.status).toBe('pending');
    });

    it('ignores server-owned members (status, id, is_neutralized) sent by the client', async () => {
      const process = await newProcess([{ index: 0 }]);
      const run = await json<RunBody>(
        await send('POST', '/api/v1/runs', {
          process_id: process.id,
          entity_id: 'x',
          id: 999999,
          status: 'completed',
          is_neutralized: true,
          started_at: '2020-01-01T00:00:00Z',
        }),
        201,
      );
      expect(run).toMatchObject({ status: 'pending', is_neutralized: false, started_at: null });
      expect(run.id).not.toBe(999999);
    });

    it('answers 404 for an unknown process and writes nothing', async () => {
      const em = server.container.orm.em.fork();
      const before = [await em.count(ProcessRun), await em.count(ProcessStepRun)];
      const problem = await json<Problem>(
        await send('POST', '/api/v1/runs', { process_id: 2147483647, entity_id: 'x' }),
        404,
      );
      expect(problem.detail).toBe('Process 2147483647 not found');
      expect([await em.count(ProcessRun), await em.count(ProcessStepRun)]).toEqual(before);
    });

    it('answers 422 for a missing entity_id, a too long one, and a process_id of the wrong type', async () => {
      const process = await newProcess([]);
      for (const body of [
        { process_id: process.id },
        { process_id: process.id, entity_id: 'x'.repeat(101) },
        { process_id: String(process.id), entity_id: 'x' },
        { process_id: process.id, entity_id: 'x', meta: 'not an object' },
      ]) {
        await json<Problem>(await send('POST', '/api/v1/runs', body), 422);
      }
    });

    it('works through the SDK', async () => {
      const process = await newProcess([{ index: 0 }]);
      const api = new RunsApi(new Configuration({ basePath: server.baseUrl, apiKey: server.userKey }));
      const run = await api.createRun({
        ProcessRunCreate: { process_id: process.id, entity_id: '0202', entity_name: 'Åse Ørum', meta: META },
      });
      expect(run.status).toBe('pending');
      expect((await api.getRun({ run_id: run.id })).meta).toEqual(META);
      const error = await api.getRun({ run_id: 2147483647 }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ResponseError);
      expect((error as ResponseError).response.status).toBe(404);
    });
  });

  describe('GET /api/v1/runs/{run_id}', () => {
    it('answers 404 problem for an unknown run', async () => {
      const response = await send('GET', '/api/v1/runs/2147483647');
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect((await json<Problem>(response, 404)).detail).toBe('Run 2147483647 not found');
    });

    it('answers 422 for an id beyond the integer range', async () => {
      await json<Problem>(await send('GET', '/api/v1/runs/2147483648'), 422);
    });
  });

  describe('PATCH /api/v1/runs/{run_id}/metadata', () => {
    const newRun = async (meta: Record<string, unknown>) => {
      const process = await newProcess([{ index: 0 }]);
      return json<RunBody>(
        await send('POST', '/api/v1/runs', { process_id: process.id, entity_id: 'x', meta }),
        201,
      );
    };

    it('changes existing keys and keeps the others', async () => {
      const run = await newRun(META);
      const updated = await json<RunBody>(
        await send(
          'PATCH',
          `/api/v1/runs/${run.id}/metadata`,
          { meta: { prioritet: 'lav 🐢', antal: 4 } },
          server.userKey,
        ),
        200,
      );
      expect(updated.meta).toEqual({ ...META, prioritet: 'lav 🐢', antal: 4 });
      expect((await json<RunBody>(await send('GET', `/api/v1/runs/${run.id}`), 200)).meta).toEqual(
        updated.meta,
      );
    });

    it('refuses unknown keys with 400 naming the unknown and the existing keys, and changes nothing', async () => {
      const run = await newRun({ kommune: 'Aarhus', prioritet: 'høj' });
      const problem = await json<Problem>(
        await send('PATCH', `/api/v1/runs/${run.id}/metadata`, {
          meta: { prioritet: 'lav', ny: 1, anden: 2 },
        }),
        400,
      );
      expect(problem.detail).toBe(
        "Metadata keys not in the run's meta: ny, anden. Existing keys: kommune, prioritet.",
      );
      expect((await json<RunBody>(await send('GET', `/api/v1/runs/${run.id}`), 200)).meta).toEqual({
        kommune: 'Aarhus',
        prioritet: 'høj',
      });
    });

    it('refuses every key when the run has empty meta', async () => {
      const run = await newRun({});
      const problem = await json<Problem>(
        await send('PATCH', `/api/v1/runs/${run.id}/metadata`, { meta: { kommune: 'Aarhus' } }),
        400,
      );
      expect(problem.detail).toBe(
        "Metadata keys not in the run's meta: kommune. The run has no metadata keys.",
      );
    });

    it('changes nothing for an empty meta', async () => {
      const run = await newRun(META);
      const same = await json<RunBody>(
        await send('PATCH', `/api/v1/runs/${run.id}/metadata`, { meta: {} }),
        200,
      );
      expect(same.meta).toEqual(META);
      expect(same.updated_at).toBe(run.updated_at);
    });

    it('answers 404 for an unknown run', async () => {
      await json<Problem>(await send('PATCH', '/api/v1/runs/2147483647/metadata', { meta: { a: 1 } }), 404);
    });
  });
});
