import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Configuration, ResponseError, StepsApi } from '../../generated/sdk/src/index.ts';
import { Process, ProcessStep } from '../../src/entities/index.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import { rawRequest } from '../support/raw-http.ts';

interface StepBody {
  id: number;
  process_id: number;
  index: number;
  name: string;
  is_rerunnable: boolean;
  rerun_config: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}
interface Problem {
  status: number;
  detail: string;
}

const RERUN = {
  subprocess_id: 'cpr_opdatering_v2',
  api_endpoint: 'https://rpa.aarhus.dk/api/subprocesses/cpr-opdatering',
  retry_delays: [60, 120, 300],
  note: 'Genkør ved fejl – Ærø 🔁',
};

describe('steps', () => {
  let server: TestServer;
  const postStep = (body: unknown, key?: string) =>
    server.request('/api/v1/steps', {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', ...(key === undefined ? {} : { 'X-API-Key': key }) },
    });
  const newProcess = async (): Promise<number> => {
    const response = await server.request('/api/v1/processes', {
      method: 'POST',
      body: JSON.stringify({ name: 'Proces med trin' }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { id: number }).id;
  };
  const list = async (path: string): Promise<StepBody[]> => {
    const response = await server.request(path);
    expect(response.status).toBe(200);
    return (await response.json()) as StepBody[];
  };

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  describe('POST /api/v1/steps', () => {
    it('creates a step with defaults', async () => {
      const processId = await newProcess();
      const response = await postStep({ process_id: processId, index: 0, name: 'Hent data' });
      expect(response.status).toBe(201);
      const step = (await response.json()) as StepBody;
      expect(step).toMatchObject({
        process_id: processId,
        index: 0,
        name: 'Hent data',
        is_rerunnable: false,
        rerun_config: {},
      });
      expect(step.id).toBeGreaterThan(0);
    });

    it('lets a user key create a step, keeping Danish text and emoji in rerun_config intact', async () => {
      const processId = await newProcess();
      const response = await postStep(
        {
          process_id: processId,
          index: 3,
          name: 'Opdatér CPR – æøå 🤖',
          is_rerunnable: true,
          rerun_config: RERUN,
        },
        server.userKey,
      );
      expect(response.status).toBe(201);
      const [listed] = await list(`/api/v1/steps/process/${processId}`);
      expect(listed).toMatchObject({
        name: 'Opdatér CPR – æøå 🤖',
        is_rerunnable: true,
        rerun_config: RERUN,
      });
    });

    it('answers 404 for an unknown process and for a soft-deleted one', async () => {
      const unknown = await postStep({ process_id: 2147483647, index: 0, name: 'x' });
      expect(unknown.status).toBe(404);
      expect(unknown.headers.get('content-type')).toContain('application/problem+json');
      expect(((await unknown.json()) as Problem).status).toBe(404);

      const processId = await newProcess();
      await server.container.em().nativeUpdate(Process, { id: processId }, { deleted_at: new Date() });
      expect((await postStep({ process_id: processId, index: 0, name: 'x' })).status).toBe(404);
    });

    it('answers 409 when a live step of the process has the index; a soft-deleted step frees it', async () => {
      const processId = await newProcess();
      const first = (await (
        await postStep({ process_id: processId, index: 1, name: 'Første' })
      ).json()) as StepBody;
      const conflict = await postStep({ process_id: processId, index: 1, name: 'Anden' });
      expect(conflict.status).toBe(409);
      expect(conflict.headers.get('content-type')).toContain('application/problem+json');
      expect(((await conflict.json()) as Problem).status).toBe(409);

      const other = await newProcess();
      expect((await postStep({ process_id: other, index: 1, name: 'Andet forløb' })).status).toBe(201);

      await server.container.em().nativeUpdate(ProcessStep, { id: first.id }, { deleted_at: new Date() });
      expect((await postStep({ process_id: processId, index: 1, name: 'Erstatning' })).status).toBe(201);
    });

    it('answers 409 to one of two concurrent requests for the same index (the unique index)', async () => {
      const processId = await newProcess();
      const answers = await Promise.all(
        Array.from({ length: 4 }, (_, n) =>
          postStep({ process_id: processId, index: 7, name: `Kapløb ${n}` }),
        ),
      );
      const statuses = answers.map((answer) => answer.status).sort();
      expect(statuses).toEqual([201, 409, 409, 409]);
      expect(await list(`/api/v1/steps/process/${processId}`)).toHaveLength(1);
    });

    it('ignores unknown and server-owned members', async () => {
      const processId = await newProcess();
      const response = await postStep({
        process_id: processId,
        index: 0,
        name: 'x',
        id: 999_999,
        extra: 'æ',
      });
      expect(response.status).toBe(201);
      const step = (await response.json()) as StepBody;
      expect(step.id).not.toBe(999_999);
      expect(step).not.toHaveProperty('extra');
    });

    it('answers 422 for a negative index, a missing name or a rerun_config that is not an object', async () => {
      const processId = await newProcess();
      expect((await postStep({ process_id: processId, index: -1, name: 'x' })).status).toBe(422);
      expect((await postStep({ process_id: processId, index: 0 })).status).toBe(422);
      expect((await postStep({ process_id: processId, index: 0, name: 'x', rerun_config: [] })).status).toBe(
        422,
      );
      expect((await postStep({ process_id: processId, index: 0, name: 'x', is_rerunnable: 1 })).status).toBe(
        422,
      );
    });
  });

  describe('GET /api/v1/steps/process/{process_id} and /rerunnable', () => {
    it('answer bare arrays of the live steps ordered by index', async () => {
      const processId = await newProcess();
      for (const [index, is_rerunnable] of [
        [5, true],
        [0, false],
        [2, true],
        [1, true],
      ] as const) {
        expect(
          (await postStep({ process_id: processId, index, name: `Trin ${index}`, is_rerunnable })).status,
        ).toBe(201);
      }
      const all = await list(`/api/v1/steps/process/${processId}`);
      expect(all.map((step) => step.index)).toEqual([0, 1, 2, 5]);
      const hidden = all.find((step) => step.index === 2);
      await server.container.em().nativeUpdate(ProcessStep, { id: hidden?.id }, { deleted_at: new Date() });

      expect((await list(`/api/v1/steps/process/${processId}`)).map((step) => step.index)).toEqual([0, 1, 5]);
      expect((await list(`/api/v1/steps/process/${processId}/rerunnable`)).map((step) => step.index)).toEqual(
        [1, 5],
      );
    });

    it('answer an empty array for an unknown process, as the contract says', async () => {
      expect(await list('/api/v1/steps/process/2147483647')).toEqual([]);
      expect(await list('/api/v1/steps/process/2147483647/rerunnable')).toEqual([]);
    });

    it('answer 422 for an id that is not a positive integer', async () => {
      expect((await server.request('/api/v1/steps/process/0')).status).toBe(422);
      expect((await server.request('/api/v1/steps/process/x/rerunnable')).status).toBe(422);
    });

    it('take raw query strings and trailing slashes, ignoring unknown parameters', async () => {
      const processId = await newProcess();
      expect((await postStep({ process_id: processId, index: 0, name: 'Et trin' })).status).toBe(201);
      const raw = await rawRequest(server.baseUrl, {
        target: `/api/v1/steps/process/${processId}/?include_deleted=false&x=a+b:c`,
        headers: { 'X-API-Key': server.userKey },
      });
      expect(raw.status).toBe(200);
      expect((JSON.parse(raw.text) as StepBody[]).map((step) => step.name)).toEqual(['Et trin']);
    });
  });

  describe('through the SDK', () => {
    it('creates and lists steps, and reports a conflict as 409', async () => {
      const steps = new StepsApi(new Configuration({ basePath: server.baseUrl, apiKey: server.userKey }));
      const processId = await newProcess();
      const created = await steps.createStep({
        ProcessStepCreate: {
          process_id: processId,
          index: 0,
          name: 'SDK-trin – ø',
          is_rerunnable: true,
          rerun_config: RERUN,
        },
      });
      expect(created.rerun_config).toEqual(RERUN);
      expect((await steps.listProcessSteps({ process_id: processId })).map((step) => step.id)).toEqual([
        created.id,
      ]);
      expect(
        (await steps.listRerunnableProcessSteps({ process_id: processId })).map((step) => step.id),
      ).toEqual([created.id]);
      const conflict = await steps
        .createStep({ ProcessStepCreate: { process_id: processId, index: 0, name: 'Igen' } })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(conflict).toBeInstanceOf(ResponseError);
      expect((conflict as ResponseError).response.status).toBe(409);
    });
  });
});
