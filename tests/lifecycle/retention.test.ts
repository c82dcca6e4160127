/**
 * The specification of a process's retention period (REQUIREMENTS §4 "Retention"):
 * `PUT /api/v1/processes/{process_id}/retention` (setProcessRetention) and `retention_months` in
 * `PATCH /api/v1/processes/{process_id}` (updateProcess) set it, and recompute `scheduled_deletion_at` of
 * every existing run of the process — soft-deleted and neutralised runs too — as its `created_at` plus that
 * many calendar months in UTC (a day the target month lacks becomes its last day); null clears it.
 *
 * Runs get exact `created_at` values written into the table (the API cannot set them); each expected
 * `scheduled_deletion_at` is written out by hand, to the millisecond, read back through the API and from
 * the table as a report would read it.
 *
 * The server process runs in Europe/Copenhagen, as a Danish deployment would: months must be added in
 * UTC, not in the server's time zone (which would move a run created at 23:30 UTC on 30 January to the
 * 31st, and shift the hour across daylight saving time).
 */
process.env['TZ'] = 'Europe/Copenhagen';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessRun } from '../../src/entities/index.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import { testDialect } from '../support/database.ts';
import { expectProblem, expectStatus } from '../support/responses.ts';
import { utcTextSql } from '../support/stored.ts';
import type { Schemas } from '../../src/contract.ts';

type RunBody = Schemas['ProcessRun'];
type ProcessBody = Schemas['Process'];

/** An ISO instant as the UTC text `utcTextSql` reads (`2025-02-28 10:20:30.456`). */
const asUtcText = (iso: string) => iso.replace('T', ' ').slice(0, 23);

/** `iso` plus `months` calendar months in UTC, clamped to the target month's last day (for "now" runs). */
function plusCalendarMonths(iso: string, months: number): string {
  const date = new Date(iso);
  const target = date.getUTCMonth() + months;
  const year = date.getUTCFullYear() + Math.floor(target / 12);
  const month = target % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return new Date(
    Date.UTC(
      year,
      month,
      Math.min(date.getUTCDate(), lastDay),
      date.getUTCHours(),
      date.getUTCMinutes(),
      date.getUTCSeconds(),
      date.getUTCMilliseconds(),
    ),
  ).toISOString();
}

/** The runs of the main process: their created_at, and the expected scheduled_deletion_at per retention. */
const CREATED = {
  a: '2025-01-31T10:20:30.456Z',
  b: '2024-01-31T00:00:00.000Z',
  c: '2024-02-29T23:59:59.999Z',
  d: '2025-01-30T23:30:00.000Z',
  e: '2025-03-15T12:00:00.000Z',
  f: '2024-12-15T08:00:00.001Z', // soft-deleted
  n: '2025-06-30T12:00:00.000Z', // neutralised
} as const;
type Label = keyof typeof CREATED;
const LABELS = Object.keys(CREATED) as Label[];

const EXPECTED: Record<number, Record<Label, string>> = {
  1: {
    a: '2025-02-28T10:20:30.456Z',
    b: '2024-02-29T00:00:00.000Z',
    c: '2024-03-29T23:59:59.999Z',
    d: '2025-02-28T23:30:00.000Z',
    e: '2025-04-15T12:00:00.000Z',
    f: '2025-01-15T08:00:00.001Z',
    n: '2025-07-30T12:00:00.000Z',
  },
  12: {
    a: '2026-01-31T10:20:30.456Z',
    b: '2025-01-31T00:00:00.000Z',
    c: '2025-02-28T23:59:59.999Z',
    d: '2026-01-30T23:30:00.000Z',
    e: '2026-03-15T12:00:00.000Z',
    f: '2025-12-15T08:00:00.001Z',
    n: '2026-06-30T12:00:00.000Z',
  },
  25: {
    a: '2027-02-28T10:20:30.456Z',
    b: '2026-02-28T00:00:00.000Z',
    c: '2026-03-29T23:59:59.999Z',
    d: '2027-02-28T23:30:00.000Z',
    e: '2027-04-15T12:00:00.000Z',
    f: '2027-01-15T08:00:00.001Z',
    n: '2027-07-30T12:00:00.000Z',
  },
  600: {
    a: '2075-01-31T10:20:30.456Z',
    b: '2074-01-31T00:00:00.000Z',
    c: '2074-02-28T23:59:59.999Z',
    d: '2075-01-30T23:30:00.000Z',
    e: '2075-03-15T12:00:00.000Z',
    f: '2074-12-15T08:00:00.001Z',
    n: '2075-06-30T12:00:00.000Z',
  },
  1200: {
    a: '2125-01-31T10:20:30.456Z',
    b: '2124-01-31T00:00:00.000Z',
    c: '2124-02-29T23:59:59.999Z',
    d: '2125-01-30T23:30:00.000Z',
    e: '2125-03-15T12:00:00.000Z',
    f: '2124-12-15T08:00:00.001Z',
    n: '2125-06-30T12:00:00.000Z',
  },
};

describe('retention periods', () => {
  let server: TestServer;
  const call = (method: string, path: string, body?: unknown, key = server.adminKey) =>
    server.request(path, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      headers: { 'X-API-Key': key, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    });
  const setRetention = (processId: number, retention_months: unknown, key = server.adminKey) =>
    call('PUT', `/api/v1/processes/${processId}/retention`, { retention_months }, key);

  /** A process (create body `body`) with one step. */
  const newProcess = async (body: Record<string, unknown>) => {
    const process = await server.json<ProcessBody>('POST', '/api/v1/processes', body, 201);
    await server.json('POST', '/api/v1/steps', { process_id: process.id, index: 0, name: 'Trin' }, 201);
    return process.id;
  };
  /** A new run of `processId` for `entity`, as created. */
  const newRun = (processId: number, entity: string) =>
    server.json<RunBody>('POST', '/api/v1/runs', { process_id: processId, entity_id: entity }, 201);
  /** A run of `processId` whose created_at is then set to `createdAt` in the table. */
  const runCreatedAt = async (processId: number, createdAt: string, entity = 'x') => {
    const run = await newRun(processId, entity);
    await server.container.orm.em
      .fork()
      .nativeUpdate(ProcessRun, { id: run.id }, { created_at: new Date(createdAt) });
    expect((await server.json<RunBody>('GET', `/api/v1/runs/${run.id}`)).created_at).toBe(createdAt);
    return run.id;
  };
  /**
   * scheduled_deletion_at of a run as stored, read as a report reads it (soft-deleted runs too), in UTC
   * text to the millisecond; null when unset. On SQLite also the full stored text, as the original wrote it.
   */
  const storedSchedule = async (runId: number): Promise<string | null> => {
    const connection = server.container.orm.em.fork().getConnection();
    const [row] = await connection.execute<{ scheduled: string | null; raw: unknown }[]>(
      `select ${utcTextSql('scheduled_deletion_at')} as scheduled, scheduled_deletion_at as raw from process_run where id = ?`,
      [runId],
    );
    if (row === undefined) throw new Error(`no row for run ${runId}`);
    if (testDialect() === 'sqlite' && row.raw !== null) {
      expect(row.raw, 'SQLite stores UTC text with microseconds').toBe(`${row.scheduled}000`);
    }
    // Babelfish's CONVERT style 121 leaves out a fraction of zero (SQL Server writes `.000`).
    if (row.scheduled !== null && /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(row.scheduled))
      return `${row.scheduled}.000`;
    return row.scheduled;
  };
  /** scheduled_deletion_at as served by GET /runs/{id}. */
  const servedSchedule = async (runId: number) =>
    (await server.json<RunBody>('GET', `/api/v1/runs/${runId}`)).scheduled_deletion_at;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('runs its server in a time zone other than UTC (so "in UTC" is really tested)', () => {
    expect(new Date('2025-01-30T23:30:00Z').getTimezoneOffset()).toBe(-60);
    expect(new Date('2025-04-15T12:00:00Z').getTimezoneOffset()).toBe(-120);
  });

  describe('PUT /api/v1/processes/{process_id}/retention', () => {
    let processId: number;
    let runs: Record<Label, number>;
    let otherRun: number;
    let otherSchedule: string;
    let noRetentionRun: number;

    /** Every run of the main process has exactly the schedule of `expected`, in the API and the table. */
    const expectSchedules = async (expected: Record<Label, string | null>) => {
      const served: Record<string, string | null> = {};
      const stored: Record<string, string | null> = {};
      for (const label of LABELS) {
        // The soft-deleted run is not served any more; only the table shows it.
        if (label !== 'f') served[label] = await servedSchedule(runs[label]);
        stored[label] = await storedSchedule(runs[label]);
      }
      expect(served).toEqual(
        Object.fromEntries(LABELS.filter((label) => label !== 'f').map((label) => [label, expected[label]])),
      );
      expect(stored).toEqual(
        Object.fromEntries(
          LABELS.map((label) => [label, expected[label] === null ? null : asUtcText(expected[label])]),
        ),
      );
      // Runs of other processes never move.
      expect(await servedSchedule(otherRun)).toBe(otherSchedule);
      expect(await servedSchedule(noRetentionRun)).toBeNull();
    };
    const expectedFor = (months: number) => EXPECTED[months];

    beforeAll(async () => {
      processId = await newProcess({ name: 'Flytning', meta: { department: 'Borgerservice' } });
      runs = {} as Record<Label, number>;
      for (const label of LABELS) runs[label] = await runCreatedAt(processId, CREATED[label], `run-${label}`);
      expect(await setRetention(processId, null).then((r) => r.status)).toBe(200);
      const deleted = await call('DELETE', `/api/v1/runs/${runs.f}`);
      expect(deleted.status, await deleted.text()).toBe(204);
      await server.json('POST', `/api/v1/runs/${runs.n}/neutralize`, undefined, 200);

      // Another process with a retention of its own, and one without.
      const other = await newProcess({ name: 'Boligstøtte', retention_months: 3 });
      otherRun = await runCreatedAt(other, '2025-01-31T10:00:00.000Z', 'other');
      await expectStatus(await setRetention(other, 3), 200);
      otherSchedule = (await servedSchedule(otherRun)) as string;
      expect(otherSchedule).toBe('2025-04-30T10:00:00.000Z');
      const none = await newProcess({ name: 'Uden opbevaring' });
      noRetentionRun = await runCreatedAt(none, '2025-01-31T10:00:00.000Z', 'none');
    });

    it('answers the process with its new retention period', async () => {
      const response = await setRetention(processId, 12);
      const body = await expectStatus<ProcessBody>(response, 200);
      expect(body).toMatchObject({
        id: processId,
        name: 'Flytning',
        meta: { department: 'Borgerservice' },
        retention_months: 12,
        neutralize_keep_keys: null,
      });
      expect(body.steps.map((step) => [step.index, step.name])).toEqual([[0, 'Trin']]);
      expect((await server.json<ProcessBody>('GET', `/api/v1/processes/${processId}`)).retention_months).toBe(
        12,
      );
    });

    it('sets scheduled_deletion_at of every run to created_at plus N calendar months in UTC, clamped to the month end', async () => {
      for (const months of [1, 12, 25, 600, 1200]) {
        const body = await expectStatus<ProcessBody>(await setRetention(processId, months), 200);
        expect(body.retention_months).toBe(months);
        await expectSchedules(expectedFor(months));
      }
    });

    it('null clears scheduled_deletion_at of every run', async () => {
      await expectStatus(await setRetention(processId, 12), 200);
      await expectSchedules(expectedFor(12));
      const body = await expectStatus<ProcessBody>(await setRetention(processId, null), 200);
      expect(body.retention_months).toBeNull();
      expect(
        (await server.json<ProcessBody>('GET', `/api/v1/processes/${processId}`)).retention_months,
      ).toBeNull();
      await expectSchedules({ a: null, b: null, c: null, d: null, e: null, f: null, n: null });
    });

    it('leaves a neutralised run neutralised and a soft-deleted run deleted', async () => {
      await expectStatus(await setRetention(processId, 1), 200);
      const neutralised = await server.json<RunBody>('GET', `/api/v1/runs/${runs.n}`);
      expect(neutralised).toMatchObject({
        entity_id: `NEUTRALIZED_${runs.n}`,
        entity_name: null,
        is_neutralized: true,
        meta: {},
        scheduled_deletion_at: expectedFor(1).n,
      });
      expect((await call('GET', `/api/v1/runs/${runs.f}`)).status).toBe(404);
      const connection = server.container.orm.em.fork().getConnection();
      const [row] = await connection.execute<{ deleted_at: unknown }[]>(
        'select deleted_at from process_run where id = ?',
        [runs.f],
      );
      expect(row.deleted_at).not.toBeNull();
    });

    it('refuses retention_months outside 1–1200 or not an integer with 422, and changes nothing', async () => {
      await expectStatus(await setRetention(processId, 12), 200);
      for (const value of [0, -1, 1201, 1.5, '12', true, {}]) {
        const problem = await expectProblem(await setRetention(processId, value), 422);
        expect(problem.errors, JSON.stringify(value)).toEqual(
          expect.arrayContaining([expect.objectContaining({ location: 'body', field: '/retention_months' })]),
        );
      }
      const missing = await expectProblem(
        await call('PUT', `/api/v1/processes/${processId}/retention`, {}),
        422,
      );
      expect(missing.errors).toEqual(expect.arrayContaining([expect.objectContaining({ location: 'body' })]));
      expect((await server.json<ProcessBody>('GET', `/api/v1/processes/${processId}`)).retention_months).toBe(
        12,
      );
      await expectSchedules(expectedFor(12));
    });

    it('refuses user keys (403) and requests without a key (401), and changes nothing', async () => {
      await expectStatus(await setRetention(processId, 12), 200);
      await expectProblem(await setRetention(processId, 1, server.userKey), 403);
      await expectProblem(await setRetention(processId, null, server.userKey), 403);
      const anonymous = await fetch(`${server.baseUrl}/api/v1/processes/${processId}/retention`, {
        method: 'PUT',
        body: JSON.stringify({ retention_months: 1 }),
        headers: { 'Content-Type': 'application/json' },
      });
      expect(anonymous.status).toBe(401);
      expect((await server.json<ProcessBody>('GET', `/api/v1/processes/${processId}`)).retention_months).toBe(
        12,
      );
      await expectSchedules(expectedFor(12));
    });
  });

  describe('PUT /api/v1/processes/{process_id}/retention on a process that is not there', () => {
    it('answers 404 for a process that never existed', async () => {
      const problem = await expectProblem(await setRetention(987654, 12), 404);
      expect(problem.instance).toBe('/api/v1/processes/987654/retention');
    });

    it('answers 404 for a soft-deleted process, and leaves its runs alone', async () => {
      const processId = await newProcess({ name: 'Slettet', retention_months: 2 });
      const runId = await runCreatedAt(processId, '2025-01-31T10:00:00.000Z');
      await expectStatus(await setRetention(processId, 2), 200);
      expect(await storedSchedule(runId)).toBe('2025-03-31 10:00:00.000');
      const deleted = await call('DELETE', `/api/v1/processes/${processId}`);
      expect(deleted.status, await deleted.text()).toBe(204);
      await expectProblem(await setRetention(processId, 1), 404);
      await expectProblem(await setRetention(processId, null), 404);
      expect(await storedSchedule(runId)).toBe('2025-03-31 10:00:00.000');
    });
  });

  describe('runs created after a retention change', () => {
    it('get created_at plus the new retention, or null once it is cleared', async () => {
      const processId = await newProcess({ name: 'Senere' });
      const before = await newRun(processId, 'før');
      expect(before.scheduled_deletion_at).toBeNull();
      await expectStatus(await setRetention(processId, 3), 200);
      const run = await newRun(processId, 'efter');
      expect(run.scheduled_deletion_at).toBe(plusCalendarMonths(run.created_at, 3));
      expect(await servedSchedule(run.id)).toBe(plusCalendarMonths(run.created_at, 3));
      expect(await storedSchedule(run.id)).toBe(asUtcText(plusCalendarMonths(run.created_at, 3)));
      expect(await servedSchedule(before.id)).toBe(plusCalendarMonths(before.created_at, 3));

      await expectStatus(await setRetention(processId, null), 200);
      const later = await newRun(processId, 'senere');
      expect(later.scheduled_deletion_at).toBeNull();
      expect(await storedSchedule(later.id)).toBeNull();
    });
  });

  describe('PATCH /api/v1/processes/{process_id} with retention_months', () => {
    let processId: number;
    let runs: Record<'a' | 'c' | 'f', number>;
    let otherRun: number;
    const schedules = async () => ({
      a: await storedSchedule(runs.a),
      c: await storedSchedule(runs.c),
      f: await storedSchedule(runs.f),
      other: await storedSchedule(otherRun),
    });
    /** What `schedules()` reads with a retention of `months` (the other process keeps its 1 month). */
    const schedulesFor = (months: number) => ({
      a: asUtcText(EXPECTED[months].a),
      c: asUtcText(EXPECTED[months].c),
      f: asUtcText(EXPECTED[months].f),
      other: asUtcText(EXPECTED[1].c),
    });
    const patch = (body: unknown, key = server.adminKey) =>
      call('PATCH', `/api/v1/processes/${processId}`, body, key);

    beforeAll(async () => {
      processId = await newProcess({ name: 'Rettes' });
      runs = {
        a: await runCreatedAt(processId, CREATED.a),
        c: await runCreatedAt(processId, CREATED.c),
        f: await runCreatedAt(processId, CREATED.f),
      };
      const deleted = await call('DELETE', `/api/v1/runs/${runs.f}`);
      expect(deleted.status, await deleted.text()).toBe(204);
      const other = await newProcess({ name: 'Anden', retention_months: 1 });
      otherRun = await runCreatedAt(other, CREATED.c);
      await expectStatus(await setRetention(other, 1), 200);
    });

    it('recomputes every run exactly like PUT …/retention (admin)', async () => {
      const body = await expectStatus<ProcessBody>(await patch({ retention_months: 1 }), 200);
      expect(body.retention_months).toBe(1);
      expect(await schedules()).toEqual(schedulesFor(1));
      expect(await servedSchedule(runs.a)).toBe(EXPECTED[1].a);

      const renamed = await expectStatus<ProcessBody>(
        await patch({ name: 'Rettet', retention_months: 25 }),
        200,
      );
      expect(renamed).toMatchObject({ name: 'Rettet', retention_months: 25 });
      expect(await schedules()).toEqual(schedulesFor(25));
      expect(await servedSchedule(runs.c)).toBe(EXPECTED[25].c);

      await expectStatus(await patch({ retention_months: null }), 200);
      expect(await schedules()).toEqual({ a: null, c: null, f: null, other: asUtcText(EXPECTED[1].c) });
    });

    it('a PATCH that leaves retention_months out leaves the schedules alone', async () => {
      await expectStatus(await patch({ retention_months: 12 }), 200);
      await expectStatus(await patch({ name: 'Kun navnet', meta: { x: 1 } }), 200);
      expect(await schedules()).toEqual(schedulesFor(12));
    });

    it('refuses retention_months from a user key with 403 and changes nothing, not even the name sent with it', async () => {
      await expectStatus(await patch({ name: 'Før', retention_months: 12 }), 200);
      const before = await schedules();
      await expectProblem(await patch({ retention_months: 1 }, server.userKey), 403);
      await expectProblem(await patch({ name: 'Efter', retention_months: 1 }, server.userKey), 403);
      await expectProblem(await patch({ retention_months: null }, server.userKey), 403);
      const process = await server.json<ProcessBody>('GET', `/api/v1/processes/${processId}`);
      expect(process).toMatchObject({ name: 'Før', retention_months: 12 });
      expect(await schedules()).toEqual(before);
      expect(before.a).toBe(asUtcText(EXPECTED[12].a));
    });

    it('refuses retention_months outside 1–1200 with 422', async () => {
      await expectStatus(await patch({ retention_months: 12 }), 200);
      for (const value of [0, 1201, 2.5, '6']) {
        const problem = await expectProblem(await patch({ retention_months: value }), 422);
        expect(problem.errors).toEqual(
          expect.arrayContaining([expect.objectContaining({ location: 'body', field: '/retention_months' })]),
        );
      }
      expect((await server.json<ProcessBody>('GET', `/api/v1/processes/${processId}`)).retention_months).toBe(
        12,
      );
      expect((await schedules()).a).toBe(asUtcText(EXPECTED[12].a));
    });
  });
});
