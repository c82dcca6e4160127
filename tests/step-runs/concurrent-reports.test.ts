/**
 * The run status under concurrent reports (issue: 32 parallel PATCHes of different step runs of one run
 * give the correct final status every time — no lost update, no deadlock, no 500). Runs on SQLite and, with
 * TEST_DATABASE_URL, on PostgreSQL (pool of 10 connections: the requests also queue for connections).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProcessRun, ProcessStepRun } from '../../src/entities/index.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import type { Schemas } from '../../src/contract.ts';

type RunBody = Schemas['ProcessRun'];

const STEPS = 32;
const ROUNDS = 5;

describe('concurrent step-run reports of one run', () => {
  let server: TestServer;
  let runId: number;
  let stepRunIds: number[];
  const send = async (method: string, path: string, body?: unknown) => {
    const response = await server.request(path, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', 'X-API-Key': server.userKey },
    });
    return { status: response.status, body: (await response.json()) as unknown };
  };
  /** Sends one report per step run at once; every answer must be 200. */
  const reportAll = async (statusOf: (index: number) => string) => {
    const answers = await Promise.all(
      stepRunIds.map((id, index) =>
        send('PATCH', `/api/v1/step-runs/${id}`, {
          status: statusOf(index),
          failure: statusOf(index) === 'failed' ? { message: `trin ${index} fejlede` } : null,
        }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(stepRunIds.map(() => 200));
    const run = await send('GET', `/api/v1/runs/${runId}`);
    expect(run.status).toBe(200);
    return run.body as RunBody;
  };

  beforeAll(async () => {
    server = await startTestServer();
    const process = await send('POST', '/api/v1/processes', { name: 'Mange trin' });
    const processId = (process.body as { id: number }).id;
    for (let index = 0; index < STEPS; index++) {
      expect(
        (await send('POST', '/api/v1/steps', { process_id: processId, index, name: `Trin ${index}` })).status,
      ).toBe(201);
    }
    const run = await send('POST', '/api/v1/runs', { process_id: processId, entity_id: '0101901234' });
    runId = (run.body as RunBody).id;
    stepRunIds = (run.body as RunBody).steps.map((step) => step.id);
    expect(stepRunIds).toHaveLength(STEPS);
  });
  afterAll(async () => {
    await server?.close();
  });

  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: all running → running; all success → completed; one failed among successes → failed`, async () => {
      const running = await reportAll(() => 'running');
      expect(running.status).toBe('running');
      expect(running.finished_at).toBeNull();
      expect(running.steps.map((step) => step.status)).toEqual(stepRunIds.map(() => 'running'));

      const completed = await reportAll(() => 'success');
      expect(completed.steps.map((step) => step.status)).toEqual(stepRunIds.map(() => 'success'));
      expect(completed.status).toBe('completed');
      expect(completed.finished_at).not.toBeNull();

      const failing = (round * 7) % STEPS;
      await reportAll(() => 'running');
      const failed = await reportAll((index) => (index === failing ? 'failed' : 'success'));
      expect(failed.status).toBe('failed');
      expect(failed.steps[failing]).toMatchObject({
        status: 'failed',
        failure: { message: `trin ${failing} fejlede` },
      });
    });
  }

  it('a report waits for the lock of its run and counts every change committed before it got the lock', async () => {
    const process = await send('POST', '/api/v1/processes', { name: 'To trin' });
    const processId = (process.body as { id: number }).id;
    for (const index of [0, 1]) {
      await send('POST', '/api/v1/steps', { process_id: processId, index, name: `Trin ${index}` });
    }
    const run = (await send('POST', '/api/v1/runs', { process_id: processId, entity_id: 'x' }))
      .body as RunBody;
    const [first, second] = run.steps.map((step) => step.id) as [number, number];
    // Another writer holds the run's lock (the same row write the service takes first) while it fails
    // the second step run, and commits only when told to.
    let release!: () => void;
    let locked!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    const holder = server.container.orm.em.fork().transactional(async (tx) => {
      await tx.nativeUpdate(ProcessRun, { id: run.id }, { updated_at: new Date() });
      await tx.nativeUpdate(ProcessStepRun, { id: second }, { status: 'failed' });
      locked();
      await released;
    });
    await lockTaken;
    const report = send('PATCH', `/api/v1/step-runs/${first}`, { status: 'success' });
    const early = await Promise.race([report.then(() => 'answered'), sleep(300).then(() => 'waiting')]);
    release();
    await holder;
    const answer = await report;
    expect(early).toBe('waiting');
    expect(answer.status).toBe(200);
    // Computed after the other writer committed: its failed step run counts.
    const after = (await send('GET', `/api/v1/runs/${run.id}`)).body as RunBody;
    expect(after.steps.map((step) => step.status)).toEqual(['success', 'failed']);
    expect(after.status).toBe('failed');
  });
});
