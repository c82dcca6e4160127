/**
 * The specification of the admin cleanup endpoints (REQUIREMENTS §3 "Admin cleanup", §4):
 * `GET /api/v1/admin/cleanup/stats` (getCleanupStats) and `POST /api/v1/admin/cleanup/neutralize`
 * (neutralizeDueRuns).
 *
 * A run is due when its `scheduled_deletion_at` has been reached, it is not neutralised and not
 * soft-deleted (on its own or with its process); due runs are taken those due longest first
 * (`scheduled_deletion_at`, then id). `dry_run` defaults to true — except in the original service's form,
 * `batch_size` sent without `dry_run`, which neutralises as the original did. `limit` wins over
 * `batch_size`.
 *
 * Every test starts its own server on a fresh database (the due set is global), makes runs through the
 * API and writes their `scheduled_deletion_at` into the table. "Nothing changed" is the full contents of
 * `process_run` and `process_step_run`, before and after.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProcessRun } from '../../src/entities/index.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import { expectProblem, expectStatus } from '../support/responses.ts';
import { parsed, storedBoolean } from '../support/stored.ts';
import type { Schemas } from '../../src/contract.ts';

type RunBody = Schemas['ProcessRun'];
type Stats = Schemas['CleanupStats'];
type NeutralizeResult = Schemas['CleanupNeutralizeResult'];
type Row = Record<string, unknown>;

const NEUTRALIZED = '[NEUTRALIZED]';
const STATS = '/api/v1/admin/cleanup/stats';
const NEUTRALIZE = '/api/v1/admin/cleanup/neutralize';

/** Labels of the seeded runs, in creation (id) order. */
const LABELS = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K'] as const;
type Label = (typeof LABELS)[number];
/** The due runs, due longest first: I (2019-06), B (2020-01), C and D (2020-02, id order), A (2020-03), J (just now). */
const DUE: readonly Label[] = ['I', 'B', 'C', 'D', 'A', 'J'];

const runMeta = (label: Label) => ({
  category: 'Flytning – Århus 🏠',
  borger: `Jens Hansen ${label}`,
  cpr: `010190-${label}`,
  kommune: 'Aarhus',
  antal: 2,
  haster: true,
  adresser: ['Æblegårdsvej 7'],
});
const failure = (label: Label) => ({
  message: `CPR-opslag for Jens Hansen ${label} fejlede`,
  status_code: 500,
  department: 'IT-drift',
});
const stepMeta = (label: Label) => ({ sagsbehandler: `Karen Jensen ${label}`, sider: 3 });

describe('admin cleanup', () => {
  let server: TestServer;
  let ids: Record<Label, number>;

  const sql = <T = Row>(query: string, params: unknown[] = []) =>
    server.container.orm.em.fork().getConnection().execute<T[]>(query, params);
  /** The full contents of both run tables. */
  const tables = async () => ({
    runs: await sql('select * from process_run order by id'),
    stepRuns: await sql('select * from process_step_run order by id'),
  });
  /** The tables without the rows of `runIds` (and of their step runs). */
  const tablesWithout = async (runIds: number[]) => {
    const all = await tables();
    return {
      runs: all.runs.filter((row) => !runIds.includes(Number(row['id']))),
      stepRuns: all.stepRuns.filter((row) => !runIds.includes(Number(row['run_id']))),
    };
  };
  const call = (method: string, path: string, key = server.adminKey) =>
    server.request(path, { method, headers: { 'X-API-Key': key } });
  const stats = async (query = '') => expectStatus<Stats>(await call('GET', STATS + query), 200);
  const neutralizeDue = async (query = '') =>
    expectStatus<NeutralizeResult>(await call('POST', NEUTRALIZE + query), 200);
  const idsOf = (labels: readonly Label[]) => labels.map((label) => ids[label]);
  /**
   * The whole answer of a neutralize call that found the runs `labels` and failed none: a dry run lists
   * them, any other call neutralised them all.
   */
  const foundAll = (labels: readonly Label[], dryRun: boolean): NeutralizeResult => {
    const neutralized = dryRun ? 0 : labels.length;
    return {
      dry_run: dryRun,
      total_found: labels.length,
      neutralized,
      failed: 0,
      errors: [],
      neutralized_count: neutralized,
      failed_count: 0,
      neutralized_run_ids: idsOf(labels),
      failed_run_ids: [],
    };
  };
  const setSchedule = (runIds: number[] | { process: number }, at: Date) =>
    server.container.orm.em
      .fork()
      .nativeUpdate(ProcessRun, Array.isArray(runIds) ? { id: { $in: runIds } } : runIds, {
        scheduled_deletion_at: at,
      });

  /** A process with two steps. */
  const newProcess = async (body: Record<string, unknown>) => {
    const process = await server.json<{ id: number }>('POST', '/api/v1/processes', body, 201);
    for (const index of [0, 1]) {
      await server.json(
        'POST',
        '/api/v1/steps',
        { process_id: process.id, index, name: `Trin ${index}` },
        201,
      );
    }
    return process.id;
  };
  /** A run of `processId` for citizen `label`, its first step run failed with personal data. */
  const newRun = async (processId: number, label: Label) => {
    const run = await server.json<RunBody>(
      'POST',
      '/api/v1/runs',
      {
        process_id: processId,
        entity_id: `010190-${label}`,
        entity_name: `Jens Hansen ${label}`,
        meta: runMeta(label),
      },
      201,
    );
    await server.json('PATCH', `/api/v1/step-runs/${run.steps[0].id}`, {
      status: 'failed',
      failure: failure(label),
      meta: stepMeta(label),
    });
    return run.id;
  };

  /**
   * Eleven runs, six of them due:
   * - process P (retention 1 month, default keep-list): A (due 2020-03-01), B (2020-01-01), C and D (both
   *   2020-02-01), E (due in an hour: not yet), F (due, but neutralised), G (due, but soft-deleted),
   *   J (due two seconds ago);
   * - process Q without retention: H (never due);
   * - process R (retention 1, keeps only `kommune`): I (due 2019-06-01);
   * - process S (retention 1), soft-deleted with its run K (due 2019-01-01).
   */
  const seed = async () => {
    const p = await newProcess({ name: 'Flytning', retention_months: 1 });
    const q = await newProcess({ name: 'Uden opbevaring' });
    const r = await newProcess({
      name: 'Egen liste',
      retention_months: 1,
      neutralize_keep_keys: ['kommune'],
    });
    const s = await newProcess({ name: 'Slettes', retention_months: 1 });
    const processOf: Record<Label, number> = {
      A: p,
      B: p,
      C: p,
      D: p,
      E: p,
      F: p,
      G: p,
      H: q,
      I: r,
      J: p,
      K: s,
    };
    ids = {} as Record<Label, number>;
    for (const label of LABELS) ids[label] = await newRun(processOf[label], label);
    const now = Date.now();
    const at: Partial<Record<Label, Date>> = {
      A: new Date('2020-03-01T00:00:00.000Z'),
      B: new Date('2020-01-01T00:00:00.000Z'),
      C: new Date('2020-02-01T00:00:00.000Z'),
      D: new Date('2020-02-01T00:00:00.000Z'),
      E: new Date(now + 3_600_000),
      F: new Date('2019-01-01T00:00:00.000Z'),
      G: new Date('2019-01-01T00:00:00.000Z'),
      I: new Date('2019-06-01T00:00:00.000Z'),
      J: new Date(now - 2_000),
      K: new Date('2019-01-01T00:00:00.000Z'),
    };
    for (const [label, date] of Object.entries(at) as [Label, Date][]) await setSchedule([ids[label]], date);
    await server.json('POST', `/api/v1/runs/${ids.F}/neutralize`, undefined, 200);
    const deletedRun = await call('DELETE', `/api/v1/runs/${ids.G}`);
    expect(deletedRun.status, await deletedRun.text()).toBe(204);
    const deletedProcess = await call('DELETE', `/api/v1/processes/${s}`);
    expect(deletedProcess.status, await deletedProcess.text()).toBe(204);
    expect((await server.json<RunBody>('GET', `/api/v1/runs/${ids.H}`)).scheduled_deletion_at).toBeNull();
    expect((await server.json<RunBody>('GET', `/api/v1/runs/${ids.A}`)).scheduled_deletion_at).toBe(
      '2020-03-01T00:00:00.000Z',
    );
  };

  /** Asserts that the stored rows of the seeded run `label` are neutralised (keep-list of its process). */
  const expectNeutralized = async (label: Label) => {
    const id = ids[label];
    const [run] = await sql('select * from process_run where id = ?', [id]);
    const stepRuns = await sql('select * from process_step_run where run_id = ? order by id', [id]);
    expect(run['entity_id']).toBe(`NEUTRALIZED_${id}`);
    expect(run['entity_name']).toBeNull();
    expect(storedBoolean(run['is_neutralized'])).toBe(true);
    const ownList = label === 'I';
    expect(parsed(run['meta'])).toEqual({
      category: ownList ? NEUTRALIZED : 'Flytning – Århus 🏠',
      borger: NEUTRALIZED,
      cpr: NEUTRALIZED,
      kommune: ownList ? 'Aarhus' : NEUTRALIZED,
      antal: 0,
      haster: false,
    });
    expect(stepRuns.map((row) => [parsed(row['meta']), parsed(row['failure'])])).toEqual([
      [
        { sagsbehandler: NEUTRALIZED, sider: 0 },
        {
          message: NEUTRALIZED,
          status_code: ownList ? 0 : 500,
          department: ownList ? NEUTRALIZED : 'IT-drift',
        },
      ],
      [null, null],
    ]);
    const text = JSON.stringify([run, stepRuns]);
    for (const personal of [
      `Jens Hansen ${label}`,
      `010190-${label}`,
      `Karen Jensen ${label}`,
      'Æblegårdsvej',
      'CPR-opslag',
    ]) {
      expect(text, `"${personal}" still stored for run ${label}`).not.toContain(personal);
    }
    const served = await server.json<RunBody>('GET', `/api/v1/runs/${id}`);
    expect(served).toMatchObject({ entity_id: `NEUTRALIZED_${id}`, entity_name: null, is_neutralized: true });
  };
  /** Asserts that the seeded run `label` still holds its personal data, as created. */
  const expectNotNeutralized = async (label: Label) => {
    const [run] = await sql('select * from process_run where id = ?', [ids[label]]);
    expect(run['entity_id']).toBe(`010190-${label}`);
    expect(run['entity_name']).toBe(`Jens Hansen ${label}`);
    expect(storedBoolean(run['is_neutralized'])).toBe(false);
    expect(parsed(run['meta'])).toEqual(runMeta(label));
  };

  beforeEach(async () => {
    server = await startTestServer();
  });
  afterEach(async () => {
    await server?.close();
  });

  describe('GET /api/v1/admin/cleanup/stats', () => {
    it('counts the due runs under both names and lists them due longest first, changing nothing', async () => {
      await seed();
      const before = await tables();
      expect(await stats()).toEqual({
        runs_due_for_neutralization: 6,
        total_due_for_neutralization: 6,
        sample_run_ids: idsOf(DUE),
      });
      expect(await stats('?limit=2')).toEqual({
        runs_due_for_neutralization: 6,
        total_due_for_neutralization: 6,
        sample_run_ids: idsOf(['I', 'B']),
      });
      expect(await stats('?limit=4')).toEqual({
        runs_due_for_neutralization: 6,
        total_due_for_neutralization: 6,
        sample_run_ids: idsOf(['I', 'B', 'C', 'D']),
      });
      expect((await stats('?limit=100')).sample_run_ids).toEqual(idsOf(DUE));
      expect(await tables()).toEqual(before);
    });

    it('counts a run again once the process deleted with it is restored', async () => {
      await seed();
      expect((await stats()).runs_due_for_neutralization).toBe(6);
      // Restoring the deleted process brings its run K back, and K is due again (longest of all).
      const [k] = await sql<{ process_id: number }>('select process_id from process_run where id = ?', [
        ids.K,
      ]);
      const restored = await call('POST', `/api/v1/processes/${k.process_id}/restore`);
      expect(restored.status, await restored.text()).toBe(200);
      expect(await stats()).toEqual({
        runs_due_for_neutralization: 7,
        total_due_for_neutralization: 7,
        sample_run_ids: idsOf(['K', ...DUE]),
      });
    });

    it('answers zero and no ids when nothing is due', async () => {
      expect(await stats()).toEqual({
        runs_due_for_neutralization: 0,
        total_due_for_neutralization: 0,
        sample_run_ids: [],
      });
      const process = await newProcess({ name: 'Ny', retention_months: 1 });
      await newRun(process, 'A');
      expect(await stats()).toEqual({
        runs_due_for_neutralization: 0,
        total_due_for_neutralization: 0,
        sample_run_ids: [],
      });
    });

    it('refuses a limit outside 1–100 with 422, user keys with 403 and requests without a key with 401', async () => {
      await seed();
      for (const limit of ['0', '101', '-1', '1.5', 'abc']) {
        const problem = await expectProblem(await call('GET', `${STATS}?limit=${limit}`), 422);
        expect(problem.errors, limit).toEqual(
          expect.arrayContaining([expect.objectContaining({ location: 'query', field: 'limit' })]),
        );
      }
      await expectProblem(await call('GET', STATS, server.userKey), 403);
      expect((await fetch(server.baseUrl + STATS)).status).toBe(401);
    });
  });

  describe('POST /api/v1/admin/cleanup/neutralize', () => {
    it('is a dry run by default: it lists what it would neutralise and changes nothing', async () => {
      await seed();
      const before = await tables();
      const preview = (labels: readonly Label[]) => foundAll(labels, true);
      expect(await neutralizeDue()).toEqual(preview(DUE));
      expect(await neutralizeDue('?dry_run=true')).toEqual(preview(DUE));
      expect(await neutralizeDue('?limit=2')).toEqual(preview(['I', 'B']));
      expect(await neutralizeDue('?limit=4&dry_run=true')).toEqual(preview(['I', 'B', 'C', 'D']));
      // limit wins over batch_size.
      expect(await neutralizeDue('?limit=3&batch_size=1&dry_run=true')).toEqual(preview(['I', 'B', 'C']));
      expect(await neutralizeDue('?batch_size=5&limit=1&dry_run=true')).toEqual(preview(['I']));
      expect(await neutralizeDue('?batch_size=2&dry_run=true')).toEqual(preview(['I', 'B']));
      expect(await tables()).toEqual(before);
      expect((await stats()).runs_due_for_neutralization).toBe(6);
    });

    it('with dry_run=false neutralises up to limit due runs, due longest first, in the stored rows; the next call takes the rest', async () => {
      await seed();
      const untouched = await tablesWithout(idsOf(DUE));

      expect(await neutralizeDue('?dry_run=false&limit=2')).toEqual(foundAll(['I', 'B'], false));
      await expectNeutralized('I');
      await expectNeutralized('B');
      for (const label of ['C', 'D', 'A', 'J'] as const) await expectNotNeutralized(label);
      expect(await stats()).toEqual({
        runs_due_for_neutralization: 4,
        total_due_for_neutralization: 4,
        sample_run_ids: idsOf(['C', 'D', 'A', 'J']),
      });

      expect(await neutralizeDue('?dry_run=false')).toEqual(foundAll(['C', 'D', 'A', 'J'], false));
      for (const label of DUE) await expectNeutralized(label);
      expect(await stats()).toEqual({
        runs_due_for_neutralization: 0,
        total_due_for_neutralization: 0,
        sample_run_ids: [],
      });
      // Runs not due (not yet, never, already neutralised, deleted alone or with their process) are untouched.
      expect(await tablesWithout(idsOf(DUE))).toEqual(untouched);
      for (const label of ['E', 'G', 'H', 'K'] as const) await expectNotNeutralized(label);

      const done = await tables();
      expect(await neutralizeDue('?dry_run=false')).toEqual(foundAll([], false));
      expect(await tables()).toEqual(done);
    });

    it('neutralises in the original form: batch_size without dry_run executes, and limit still wins over batch_size', async () => {
      await seed();
      const result = await neutralizeDue('?batch_size=2');
      expect(result).toEqual(foundAll(['I', 'B'], false));
      await expectNeutralized('I');
      await expectNeutralized('B');
      await expectNotNeutralized('C');

      expect(await neutralizeDue('?limit=1&batch_size=3&dry_run=false')).toMatchObject({
        dry_run: false,
        total_found: 1,
        neutralized: 1,
        neutralized_count: 1,
        neutralized_run_ids: idsOf(['C']),
      });
      await expectNeutralized('C');
      await expectNotNeutralized('D');
      expect((await stats()).sample_run_ids).toEqual(idsOf(['D', 'A', 'J']));

      // batch_size sent and dry_run not: it neutralises, whatever else is sent (limit still wins).
      expect(await neutralizeDue('?limit=1&batch_size=3')).toMatchObject({
        dry_run: false,
        total_found: 1,
        neutralized: 1,
        neutralized_run_ids: idsOf(['D']),
      });
      await expectNeutralized('D');
      // dry_run=true still previews in the original's form.
      const before = await tables();
      expect(await neutralizeDue('?batch_size=3&dry_run=true')).toMatchObject({
        dry_run: true,
        total_found: 2,
        neutralized: 0,
        neutralized_run_ids: idsOf(['A', 'J']),
      });
      expect(await tables()).toEqual(before);
    });

    it('takes 100 runs by default, and ties in scheduled_deletion_at go by id', async () => {
      const process = await server.json<{ id: number }>(
        'POST',
        '/api/v1/processes',
        { name: 'Mange', retention_months: 1 },
        201,
      );
      const runIds: number[] = [];
      for (let index = 0; index < 103; index++) {
        const run = await server.json<{ id: number }>(
          'POST',
          '/api/v1/runs',
          { process_id: process.id, entity_id: `borger-${index}` },
          201,
        );
        runIds.push(run.id);
      }
      await setSchedule({ process: process.id }, new Date('2021-05-05T05:05:05.005Z'));
      expect(await stats()).toEqual({
        runs_due_for_neutralization: 103,
        total_due_for_neutralization: 103,
        sample_run_ids: runIds.slice(0, 10),
      });
      const preview = await neutralizeDue();
      expect(preview).toMatchObject({ dry_run: true, total_found: 100, neutralized: 0 });
      expect(preview.neutralized_run_ids).toEqual(runIds.slice(0, 100));

      const result = await neutralizeDue('?dry_run=false');
      expect(result).toMatchObject({
        dry_run: false,
        total_found: 100,
        neutralized: 100,
        neutralized_count: 100,
      });
      expect(result.neutralized_run_ids).toEqual(runIds.slice(0, 100));
      const rows = await sql<{ id: number; entity_id: string }>(
        'select id, entity_id from process_run where process_id = ? order by id',
        [process.id],
      );
      expect(rows.map((row) => row.entity_id)).toEqual([
        ...runIds.slice(0, 100).map((id) => `NEUTRALIZED_${id}`),
        'borger-100',
        'borger-101',
        'borger-102',
      ]);
      expect(await stats()).toEqual({
        runs_due_for_neutralization: 3,
        total_due_for_neutralization: 3,
        sample_run_ids: runIds.slice(100),
      });
    });

    it('never neutralises a run twice when batches run concurrently, and accounts for every due run', async () => {
      await seed();
      const results = await Promise.all(
        Array.from({ length: 4 }, () =>
          call('POST', `${NEUTRALIZE}?dry_run=false`).then((r) => expectStatus<NeutralizeResult>(r, 200)),
        ),
      );
      const neutralized = results.flatMap((result) => result.neutralized_run_ids);
      expect([...neutralized].sort((a, b) => a - b)).toEqual([...idsOf(DUE)].sort((a, b) => a - b));
      for (const result of results) {
        expect(result.dry_run).toBe(false);
        expect(result.neutralized).toBe(result.neutralized_run_ids.length);
        expect(result.neutralized_count).toBe(result.neutralized_run_ids.length);
        expect(result.failed).toBe(result.failed_run_ids.length);
        expect(result.failed_count).toBe(result.failed_run_ids.length);
        expect(result.errors.map((error) => error.run_id)).toEqual(result.failed_run_ids);
        expect(result.total_found).toBe(result.neutralized + result.failed);
        for (const id of result.failed_run_ids) expect(idsOf(DUE)).toContain(id);
      }
      for (const label of DUE) await expectNeutralized(label);
      expect((await stats()).runs_due_for_neutralization).toBe(0);
    });

    it('refuses limit and batch_size outside 1–1000 and a dry_run that is not a boolean with 422, changing nothing', async () => {
      await seed();
      const before = await tables();
      for (const [query, field] of [
        ['limit=0', 'limit'],
        ['limit=1001', 'limit'],
        ['limit=2.5', 'limit'],
        ['limit=0&dry_run=false', 'limit'],
        ['batch_size=0', 'batch_size'],
        ['batch_size=1001', 'batch_size'],
        ['batch_size=1001&dry_run=false', 'batch_size'],
        ['dry_run=maybe', 'dry_run'],
      ] as const) {
        const problem = await expectProblem(await call('POST', `${NEUTRALIZE}?${query}`), 422);
        expect(problem.errors, query).toEqual(
          expect.arrayContaining([expect.objectContaining({ location: 'query', field })]),
        );
      }
      expect(await tables()).toEqual(before);
    });

    it('refuses user keys with 403 and requests without a key with 401, changing nothing', async () => {
      await seed();
      const before = await tables();
      await expectProblem(await call('POST', `${NEUTRALIZE}?dry_run=false`, server.userKey), 403);
      await expectProblem(await call('POST', `${NEUTRALIZE}?batch_size=10`, server.userKey), 403);
      expect((await fetch(`${server.baseUrl}${NEUTRALIZE}?dry_run=false`, { method: 'POST' })).status).toBe(
        401,
      );
      expect(await tables()).toEqual(before);
      expect((await stats()).runs_due_for_neutralization).toBe(6);
    });
  });
});
