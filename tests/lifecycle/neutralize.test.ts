/**
 * The specification of `POST /api/v1/runs/{run_id}/neutralize` (neutralizeRun, REQUIREMENTS §4
 * "Neutralisation"): the run's personal data is removed irreversibly — from what the API serves and from
 * the rows of `process_run` and `process_step_run` themselves, which reports and robots read with SQL.
 *
 * `entity_id` becomes `NEUTRALIZED_{id}`, `entity_name` null; in the run's meta and in every step run's
 * meta and failure a key on the keep-list keeps its value, other strings become "[NEUTRALIZED]", numbers
 * 0, booleans false, anything else is dropped. The keep-list is the process's `neutralize_keep_keys`,
 * else its `meta.neutralize_keep_keys` (an array of strings), else the global `NEUTRALIZE_KEEP_KEYS`
 * (default category, type, department, status_code).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessStepRun } from '../../src/entities/index.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import { parsed, storedBoolean } from '../support/stored.ts';
import type { Schemas } from '../../src/contract.ts';

type RunBody = Schemas['ProcessRun'];
type NeutralizeResult = Schemas['RunNeutralizeResult'];
type Problem = Schemas['Problem'];
type Row = Record<string, unknown>;

const NEUTRALIZED = '[NEUTRALIZED]';

/** What a robot reports about a citizen: kept keys (default list), personal strings, numbers, flags, others. */
const RUN_META = {
  category: 'Flytning – Århus 🏠',
  type: { kode: 'FLYT', niveau: 2 },
  department: 'Borgerservice Ærø',
  status_code: 200,
  cpr: '0101901234',
  borger: 'Jens Hansen',
  adresse: 'Æblegårdsvej 7, 8000 Aarhus C',
  antal_børn: 3,
  indkomst: 412345.5,
  haster: true,
  samtykke: false,
  ægtefælle: { navn: 'Mette Hansen', cpr: '0202902345' },
  telefoner: ['+45 12345678', '+45 87654321'],
  bemærkning: null,
  tom: '',
};
const RUN_META_NEUTRALIZED = {
  category: 'Flytning – Århus 🏠',
  type: { kode: 'FLYT', niveau: 2 },
  department: 'Borgerservice Ærø',
  status_code: 200,
  cpr: NEUTRALIZED,
  borger: NEUTRALIZED,
  adresse: NEUTRALIZED,
  antal_børn: 0,
  indkomst: 0,
  haster: false,
  samtykke: false,
  tom: NEUTRALIZED,
};
const FAILURE = {
  error_code: 'CPR_TIMEOUT',
  message: 'CPR-opslag for Jens Hansen (0101901234) fejlede',
  details: { svar: 'Karen Jensen har lukket sagen', forsøg: [1, 2] },
  category: 'Teknisk – netværk ⚡',
  status_code: 504,
  retry: true,
  attempt: 2,
};
const FAILURE_NEUTRALIZED = {
  error_code: NEUTRALIZED,
  message: NEUTRALIZED,
  category: 'Teknisk – netværk ⚡',
  status_code: 504,
  retry: false,
  attempt: 0,
};
const STEP0_META = {
  sagsbehandler: 'Karen Jensen',
  department: 'Borgerservice Ærø',
  journalnr: 'J-2026-0042',
  sider: 12,
};
const STEP0_META_NEUTRALIZED = {
  sagsbehandler: NEUTRALIZED,
  department: 'Borgerservice Ærø',
  journalnr: NEUTRALIZED,
  sider: 0,
};
const STEP1_META = { modtager: 'Mette Hansen', type: 'brev 📨', kopi: true };
const STEP1_META_NEUTRALIZED = { modtager: NEUTRALIZED, type: 'brev 📨', kopi: false };

/** Every piece of personal data the seeded run holds; none may survive anywhere in its rows. */
const PERSONAL = [
  '0101901234',
  'Jens Hansen',
  'Æblegårdsvej',
  'Mette Hansen',
  '0202902345',
  '+45 12345678',
  '+45 87654321',
  'Karen Jensen',
  'J-2026-0042',
  '412345',
  'CPR-opslag',
];

/** A new run of `processId` for Jens Hansen (CPR 0101901234) with `meta`, as created. */
const runOfJensHansen = (server: TestServer, processId: number, meta: Record<string, unknown>) =>
  server.json<RunBody>(
    'POST',
    '/api/v1/runs',
    { process_id: processId, entity_id: '0101901234', entity_name: 'Jens Hansen', meta },
    201,
  );

/** A new process (`process` its create body) with one step, and a run of it for Jens Hansen with `meta`. */
async function oneStepRun(
  server: TestServer,
  process: Record<string, unknown>,
  meta: Record<string, unknown>,
) {
  const created = await server.json<{ id: number }>('POST', '/api/v1/processes', process, 201);
  await server.json('POST', '/api/v1/steps', { process_id: created.id, index: 0, name: 'Trin' }, 201);
  return { processId: created.id, run: await runOfJensHansen(server, created.id, meta) };
}

/** `oneStepRun`, its step run then failed with `meta` as its meta and its failure. */
async function failedOneStepRun(
  server: TestServer,
  process: Record<string, unknown>,
  meta: Record<string, unknown>,
): Promise<RunBody> {
  const { run } = await oneStepRun(server, process, meta);
  await server.json('PATCH', `/api/v1/step-runs/${run.steps[0].id}`, {
    status: 'failed',
    failure: meta,
    meta,
  });
  return run;
}

describe('POST /api/v1/runs/{run_id}/neutralize', () => {
  let server: TestServer;
  const sql = <T = Row>(query: string, params: unknown[] = []) =>
    server.container.orm.em.fork().getConnection().execute<T[]>(query, params);
  /** The stored rows of a run and of all its step runs (deleted or not, every attempt), in id order. */
  const rowsOf = async (runId: number) => {
    const [run] = await sql('select * from process_run where id = ?', [runId]);
    const stepRuns = await sql('select * from process_step_run where run_id = ? order by id', [runId]);
    if (run === undefined) throw new Error(`no row for run ${runId}`);
    return { run, stepRuns };
  };
  const call = (method: string, path: string, key = server.adminKey, body?: unknown) =>
    server.request(path, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      headers: { 'X-API-Key': key, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    });
  const neutralize = async (runId: number, expected = 200) => {
    const response = await call('POST', `/api/v1/runs/${runId}/neutralize`);
    const text = await response.text();
    expect(response.status, text).toBe(expected);
    return JSON.parse(text) as NeutralizeResult;
  };

  /**
   * A process (with `process` as its create body) with three steps, and a run of it for Jens Hansen: step
   * run 0 failed with a failure and meta, step run 1 succeeded with meta, step run 2 still pending.
   */
  const seedRun = async (process: Record<string, unknown> = { name: 'Flytning' }) => {
    const created = await server.json<{ id: number }>('POST', '/api/v1/processes', process, 201);
    for (const index of [0, 1, 2]) {
      await server.json(
        'POST',
        '/api/v1/steps',
        { process_id: created.id, index, name: `Trin ${index}` },
        201,
      );
    }
    return { processId: created.id, ...(await seedRunOf(created.id)) };
  };
  const seedRunOf = async (processId: number) => {
    const run = await runOfJensHansen(server, processId, RUN_META);
    const [first, second] = run.steps;
    await server.json('PATCH', `/api/v1/step-runs/${first.id}`, {
      status: 'failed',
      failure: FAILURE,
      meta: STEP0_META,
      last_modified_by: 'robot-flytning-01',
    });
    await server.json('PATCH', `/api/v1/step-runs/${second.id}`, {
      status: 'success',
      meta: STEP1_META,
      last_modified_by: 'robot-flytning-01',
    });
    return { runId: run.id, stepRunIds: run.steps.map((step) => step.id) };
  };

  /** Asserts that no personal value of the seed occurs in the rows, raw or with their JSON parsed. */
  const expectNoPersonalData = (rows: { run: Row; stepRuns: Row[] }) => {
    const raw = JSON.stringify(rows);
    const decoded = JSON.stringify([
      parsed(rows.run['meta']),
      ...rows.stepRuns.flatMap((row) => [
        parsed(row['meta']),
        parsed(row['failure']),
        parsed(row['rerun_config']),
      ]),
    ]);
    for (const value of PERSONAL) {
      expect(raw, `"${value}" in the stored rows`).not.toContain(value);
      expect(decoded, `"${value}" in the stored JSON`).not.toContain(value);
    }
  };

  /** Asserts the stored rows of a neutralised seed run (default keep-list). */
  const expectNeutralizedRows = (runId: number, rows: { run: Row; stepRuns: Row[] }) => {
    expect(rows.run['entity_id']).toBe(`NEUTRALIZED_${runId}`);
    expect(rows.run['entity_name']).toBeNull();
    expect(storedBoolean(rows.run['is_neutralized'])).toBe(true);
    expect(parsed(rows.run['meta'])).toEqual(RUN_META_NEUTRALIZED);
    expect(rows.stepRuns.map((row) => [parsed(row['meta']), parsed(row['failure'])])).toEqual([
      [STEP0_META_NEUTRALIZED, FAILURE_NEUTRALIZED],
      [STEP1_META_NEUTRALIZED, null],
      [null, null],
    ]);
    expectNoPersonalData(rows);
  };

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('removes the personal data from the run and every step run, in the API and in the stored rows', async () => {
    const { processId, runId, stepRunIds } = await seedRun();
    // A second run of the same citizen in the same process: neutralising the first leaves it alone.
    const sibling = await seedRunOf(processId);
    const before = await server.json<RunBody>('GET', `/api/v1/runs/${runId}`);
    expect(before.meta).toEqual(RUN_META);
    const siblingRows = await rowsOf(sibling.runId);
    expect(JSON.stringify(siblingRows)).toContain('Jens Hansen');

    expect(await neutralize(runId)).toEqual({
      run_id: runId,
      was_already_neutralized: false,
      success: true,
      message: 'Run successfully neutralized',
    });

    const after = await server.json<RunBody>('GET', `/api/v1/runs/${runId}`);
    expect(after).toMatchObject({
      id: runId,
      process_id: processId,
      entity_id: `NEUTRALIZED_${runId}`,
      entity_name: null,
      status: 'failed',
      is_neutralized: true,
      meta: RUN_META_NEUTRALIZED,
      created_at: before.created_at,
      started_at: before.started_at,
      finished_at: before.finished_at,
      scheduled_deletion_at: null,
    });
    expect(after.meta).toEqual(RUN_META_NEUTRALIZED);
    expect(
      after.steps.map((step) => [step.id, step.status, step.meta, step.failure, step.last_modified_by]),
    ).toEqual([
      [stepRunIds[0], 'failed', STEP0_META_NEUTRALIZED, FAILURE_NEUTRALIZED, 'robot-flytning-01'],
      [stepRunIds[1], 'success', STEP1_META_NEUTRALIZED, null, 'robot-flytning-01'],
      [stepRunIds[2], 'pending', null, null, null],
    ]);
    for (const value of PERSONAL) expect(JSON.stringify(after)).not.toContain(value);
    for (const stepRunId of stepRunIds) {
      const stepRun = await server.json<Row>('GET', `/api/v1/step-runs/${stepRunId}`);
      for (const value of PERSONAL) expect(JSON.stringify(stepRun)).not.toContain(value);
    }

    const rows = await rowsOf(runId);
    expect(rows.stepRuns.map((row) => Number(row['id']))).toEqual(stepRunIds);
    expectNeutralizedRows(runId, rows);
    expect(await rowsOf(sibling.runId)).toEqual(siblingRows);
    // The citizen's other run is still found by CPR; the neutralised one no longer.
    const found = await server.json<{ items: RunBody[] }>(
      'GET',
      `/api/v1/runs?entity_id=0101901234&process_id=${processId}`,
    );
    expect(found.items.map((item) => item.id)).toEqual([sibling.runId]);
  });

  it('also neutralises earlier attempts and soft-deleted step runs, which only the tables show', async () => {
    const { runId, stepRunIds } = await seedRun();
    // A later attempt of step 0 (what a rerun leaves: a new row linked to the one it reruns), and step run
    // 1 soft-deleted on its own: both keep their personal data out of the API, but not out of the table.
    const stepIds = (await server.json<RunBody>('GET', `/api/v1/runs/${runId}`)).steps.map((s) => s.step_id);
    const again = await server.json<{ id: number }>(
      'POST',
      '/api/v1/step-runs',
      { run_id: runId, step_id: stepIds[0] },
      201,
    );
    const em = server.container.orm.em.fork();
    await em.nativeUpdate(ProcessStepRun, { id: again.id }, { rerun_of: stepRunIds[0], rerun_count: 1 });
    await server.json('PATCH', `/api/v1/step-runs/${again.id}`, {
      status: 'failed',
      failure: { ...FAILURE, message: 'Genkørsel: Jens Hansen, Æblegårdsvej 7' },
      meta: { sagsbehandler: 'Karen Jensen', forsøg: 2 },
    });
    await em.nativeUpdate(ProcessStepRun, { id: stepRunIds[1] }, { deleted_at: new Date() });
    const served = await server.json<RunBody>('GET', `/api/v1/runs/${runId}`);
    expect(served.steps.map((step) => step.id)).toEqual([again.id, stepRunIds[2]]);

    expect((await neutralize(runId)).was_already_neutralized).toBe(false);
    const rows = await rowsOf(runId);
    expect(rows.stepRuns.map((row) => Number(row['id']))).toEqual([...stepRunIds, again.id]);
    expect(rows.stepRuns.map((row) => [parsed(row['meta']), parsed(row['failure'])])).toEqual([
      [STEP0_META_NEUTRALIZED, FAILURE_NEUTRALIZED],
      [STEP1_META_NEUTRALIZED, null],
      [null, null],
      [{ sagsbehandler: NEUTRALIZED, forsøg: 0 }, FAILURE_NEUTRALIZED],
    ]);
    expect(rows.stepRuns[1]['deleted_at']).not.toBeNull();
    expectNoPersonalData(rows);
    expect(parsed(rows.run['meta'])).toEqual(RUN_META_NEUTRALIZED);
  });

  it('a second call answers was_already_neutralized: true and changes nothing', async () => {
    const { runId } = await seedRun();
    expect((await neutralize(runId)).was_already_neutralized).toBe(false);
    const rows = await rowsOf(runId);
    const served = await server.json<RunBody>('GET', `/api/v1/runs/${runId}`);

    expect(await neutralize(runId)).toEqual({
      run_id: runId,
      was_already_neutralized: true,
      success: true,
      message: 'Run was already neutralized',
    });
    expect(await rowsOf(runId)).toEqual(rows);
    expect(await server.json<RunBody>('GET', `/api/v1/runs/${runId}`)).toEqual(served);
    expectNeutralizedRows(runId, rows);
  });

  it('neutralises a soft-deleted run and all its step runs, which stay deleted', async () => {
    const { runId } = await seedRun();
    const deleted = await call('DELETE', `/api/v1/runs/${runId}`);
    expect(deleted.status, await deleted.text()).toBe(204);
    expect((await call('GET', `/api/v1/runs/${runId}`)).status).toBe(404);
    const before = await rowsOf(runId);
    expect(before.run['deleted_at']).not.toBeNull();
    expect(before.stepRuns.map((row) => row['deleted_at'] === null)).toEqual([false, false, false]);

    expect(await neutralize(runId)).toEqual({
      run_id: runId,
      was_already_neutralized: false,
      success: true,
      message: 'Run successfully neutralized',
    });
    const after = await rowsOf(runId);
    expectNeutralizedRows(runId, after);
    expect(after.run['deleted_at']).toEqual(before.run['deleted_at']);
    expect(after.stepRuns.map((row) => row['deleted_at'])).toEqual(
      before.stepRuns.map((row) => row['deleted_at']),
    );
    expect((await call('GET', `/api/v1/runs/${runId}`)).status).toBe(404);
    // Again: nothing changes, and it says so.
    expect((await neutralize(runId)).was_already_neutralized).toBe(true);
    expect(await rowsOf(runId)).toEqual(after);
  });

  it('neutralises a run hidden by the deletion of its process', async () => {
    const { processId, runId } = await seedRun();
    const deleted = await call('DELETE', `/api/v1/processes/${processId}`);
    expect(deleted.status, await deleted.text()).toBe(204);
    expect((await call('GET', `/api/v1/runs/${runId}`)).status).toBe(404);
    expect((await neutralize(runId)).was_already_neutralized).toBe(false);
    const after = await rowsOf(runId);
    expectNeutralizedRows(runId, after);
    expect(after.run['deleted_at']).not.toBeNull();
  });

  it('answers 404 problem for a run that never existed', async () => {
    const response = await call('POST', '/api/v1/runs/987654/neutralize');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await response.json()) as Problem;
    expect(problem).toMatchObject({
      status: 404,
      status_code: 404,
      instance: '/api/v1/runs/987654/neutralize',
    });
  });

  it('answers 422 for a run id outside the contract (0, beyond 32 bits)', async () => {
    for (const id of ['0', '2147483648', 'abc']) {
      const response = await call('POST', `/api/v1/runs/${id}/neutralize`);
      expect(response.status, id).toBe(422);
      const problem = (await response.json()) as Problem;
      expect(problem.errors, id).toEqual(
        expect.arrayContaining([expect.objectContaining({ location: 'path' })]),
      );
    }
  });

  it('neutralises exactly once when called concurrently: one call neutralises, the others find it done', async () => {
    const { runId } = await seedRun();
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        call('POST', `/api/v1/runs/${runId}/neutralize`).then(async (response) => {
          expect(response.status).toBe(200);
          return (await response.json()) as NeutralizeResult;
        }),
      ),
    );
    expect(results.map((result) => result.was_already_neutralized).sort()).toEqual([
      false,
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(results.every((result) => result.success && result.run_id === runId)).toBe(true);
    expectNeutralizedRows(runId, await rowsOf(runId));
  });

  it('refuses user keys (403) and requests without a key (401), and changes nothing', async () => {
    const { runId } = await seedRun();
    const rows = await rowsOf(runId);
    const refused = await call('POST', `/api/v1/runs/${runId}/neutralize`, server.userKey);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await refused.json()) as Problem).status).toBe(403);
    const anonymous = await fetch(`${server.baseUrl}/api/v1/runs/${runId}/neutralize`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
    expect(await rowsOf(runId)).toEqual(rows);
    expect((await server.json<RunBody>('GET', `/api/v1/runs/${runId}`)).entity_name).toBe('Jens Hansen');
  });

  describe('the keep-list', () => {
    const META = {
      category: 'Flytning',
      department: 'Borgerservice',
      kommune: 'Aarhus – Åbyhøj',
      sagsnummer: 'S-2026-42 📁',
      navn: 'Jens Hansen',
      alder: 41,
      aktiv: true,
    };
    /** META neutralised: every value neutralised but those in `kept`, which stay as given there. */
    const neutralizedExcept = (kept: Partial<typeof META>) => ({
      category: NEUTRALIZED,
      department: NEUTRALIZED,
      kommune: NEUTRALIZED,
      sagsnummer: NEUTRALIZED,
      navn: NEUTRALIZED,
      alder: 0,
      aktiv: false,
      ...kept,
    });
    /** A run of a one-step process created with `process`; its step run carries META as meta and failure. */
    const runWith = async (process: Record<string, unknown>) =>
      (await failedOneStepRun(server, process, META)).id;
    /** Neutralises the run; every stored meta/failure must equal `expected`, and the API must agree. */
    const expectNeutralizedTo = async (runId: number, expected: Record<string, unknown>) => {
      expect((await neutralize(runId)).was_already_neutralized).toBe(false);
      const rows = await rowsOf(runId);
      expect(parsed(rows.run['meta'])).toEqual(expected);
      expect(rows.stepRuns.map((row) => [parsed(row['meta']), parsed(row['failure'])])).toEqual([
        [expected, expected],
      ]);
      expect(JSON.stringify(rows)).not.toContain('Jens Hansen');
      const served = await server.json<RunBody>('GET', `/api/v1/runs/${runId}`);
      expect([served.meta, served.steps[0].meta, served.steps[0].failure]).toEqual([
        expected,
        expected,
        expected,
      ]);
    };

    it('is the global default (category, type, department, status_code) when the process sets none', async () => {
      const runId = await runWith({ name: 'Standard' });
      await expectNeutralizedTo(
        runId,
        neutralizedExcept({ category: 'Flytning', department: 'Borgerservice' }),
      );
    });

    it("is the process's neutralize_keep_keys when set, which wins over its meta and the global list", async () => {
      const runId = await runWith({
        name: 'Eget medlem',
        neutralize_keep_keys: ['kommune', 'sagsnummer', 'alder'],
        meta: { neutralize_keep_keys: ['navn'] },
      });
      await expectNeutralizedTo(
        runId,
        neutralizedExcept({ kommune: 'Aarhus – Åbyhøj', sagsnummer: 'S-2026-42 📁', alder: 41 }),
      );
    });

    it('keeps nothing when the process sets an empty neutralize_keep_keys', async () => {
      const runId = await runWith({ name: 'Intet', neutralize_keep_keys: [] });
      await expectNeutralizedTo(runId, neutralizedExcept({}));
    });

    it("is the process's meta.neutralize_keep_keys when the member is null and it is an array of strings", async () => {
      const runId = await runWith({ name: 'Meta', meta: { neutralize_keep_keys: ['kommune', 'aktiv'] } });
      await expectNeutralizedTo(runId, neutralizedExcept({ kommune: 'Aarhus – Åbyhøj', aktiv: true }));
    });

    it('falls back to the global list when meta.neutralize_keep_keys is not an array of strings', async () => {
      const runId = await runWith({ name: 'Forkert meta', meta: { neutralize_keep_keys: 'kommune' } });
      await expectNeutralizedTo(
        runId,
        neutralizedExcept({ category: 'Flytning', department: 'Borgerservice' }),
      );
      const mixed = await runWith({ name: 'Blandet meta', meta: { neutralize_keep_keys: ['kommune', 7] } });
      await expectNeutralizedTo(
        mixed,
        neutralizedExcept({ category: 'Flytning', department: 'Borgerservice' }),
      );
    });

    it('follows a keep-list changed with PATCH /processes/{id} after the run was created', async () => {
      const { processId, run } = await oneStepRun(server, { name: 'Ændret' }, META);
      await server.json('PATCH', `/api/v1/processes/${processId}`, { neutralize_keep_keys: ['navn'] });
      expect((await neutralize(run.id)).was_already_neutralized).toBe(false);
      const rows = await rowsOf(run.id);
      expect(parsed(rows.run['meta'])).toEqual(neutralizedExcept({ navn: 'Jens Hansen' }));
      expect(rows.run['entity_name']).toBeNull();
      expect(rows.run['entity_id']).toBe(`NEUTRALIZED_${run.id}`);
    });
  });
});

describe('POST /api/v1/runs/{run_id}/neutralize with NEUTRALIZE_KEEP_KEYS set', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ NEUTRALIZE_KEEP_KEYS: 'kommune,sagsnummer' });
  });
  afterAll(async () => {
    await server?.close();
  });

  const META = {
    category: 'Flytning',
    kommune: 'Skanderborg',
    sagsnummer: 'S-7 ✅',
    navn: 'Jens Hansen',
    alder: 41,
  };
  const runOf = async (process: Record<string, unknown>) => {
    const run = await failedOneStepRun(server, process, META);
    const result = await server.json<NeutralizeResult>(
      'POST',
      `/api/v1/runs/${run.id}/neutralize`,
      undefined,
      200,
    );
    expect(result).toMatchObject({ run_id: run.id, was_already_neutralized: false, success: true });
    const connection = server.container.orm.em.fork().getConnection();
    const [row] = await connection.execute<Row[]>('select * from process_run where id = ?', [run.id]);
    const stepRows = await connection.execute<Row[]>('select * from process_step_run where run_id = ?', [
      run.id,
    ]);
    expect(JSON.stringify([row, stepRows])).not.toContain('Jens Hansen');
    return {
      meta: parsed(row['meta']),
      step: stepRows.map((stepRow) => [parsed(stepRow['meta']), parsed(stepRow['failure'])]),
    };
  };

  it('uses the configured global list instead of the default one', async () => {
    const expected = {
      category: NEUTRALIZED,
      kommune: 'Skanderborg',
      sagsnummer: 'S-7 ✅',
      navn: NEUTRALIZED,
      alder: 0,
    };
    expect(await runOf({ name: 'Global' })).toEqual({ meta: expected, step: [[expected, expected]] });
  });

  it("still lets the process's own keep-list win over the configured one", async () => {
    const expected = {
      category: 'Flytning',
      kommune: NEUTRALIZED,
      sagsnummer: NEUTRALIZED,
      navn: NEUTRALIZED,
      alder: 0,
    };
    expect(await runOf({ name: 'Egen', neutralize_keep_keys: ['category'] })).toEqual({
      meta: expected,
      step: [[expected, expected]],
    });
  });
});
