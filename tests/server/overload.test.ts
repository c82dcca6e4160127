/**
 * Overload (REQUIREMENTS §9): the original hung for good when 32 clients called at once. Ours bounds the
 * work in progress (src/middleware/admission.ts) and the wait for a database connection; past those
 * bounds a request gets a 503 problem with Retry-After within a second, and the server recovers by
 * itself. Small bounds are configured here so a test can reach them.
 */
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { closeOrm, createOrm, ormDialect, type Orm } from '../../src/db/orm.ts';
import { startTestServer, type TestServer } from '../support/app.ts';

interface Outcome {
  status: number;
  ms: number;
  retryAfter: string | null;
  contentType: string | null;
  body: Record<string, unknown>;
}

async function timed(server: TestServer, path: string, init: RequestInit = {}): Promise<Outcome> {
  const start = performance.now();
  const response = await server.request(path, init);
  const body = (await response.json()) as Record<string, unknown>;
  return {
    status: response.status,
    ms: performance.now() - start,
    retryAfter: response.headers.get('retry-after'),
    contentType: response.headers.get('content-type'),
    body,
  };
}

function expectCapacityProblem(outcome: Outcome, detail = /capacity|busy|unavailable/i): void {
  expect(outcome.status).toBe(503);
  expect(outcome.retryAfter).toBe('1');
  expect(outcome.contentType).toMatch(/^application\/problem\+json/);
  expect(outcome.body['status']).toBe(503);
  expect(String(outcome.body['detail'])).toMatch(detail);
}

/**
 * A burst beyond a gate's bounds: every request served (200) or refused within a second with a capacity
 * problem whose detail matches `detail`; at least `minServed` served and one refused. Returns the served.
 */
function expectBoundedBurst(outcomes: Outcome[], minServed: number, detail?: RegExp): Outcome[] {
  const refused = outcomes.filter((outcome) => outcome.status === 503);
  const served = outcomes.filter((outcome) => outcome.status === 200);
  expect(served.length + refused.length).toBe(outcomes.length);
  expect(served.length).toBeGreaterThanOrEqual(minServed);
  expect(refused.length).toBeGreaterThan(0);
  for (const outcome of refused) {
    expectCapacityProblem(outcome, detail);
    expect(outcome.ms).toBeLessThan(1000);
  }
  return served;
}

async function seed(server: TestServer) {
  const post = (path: string, body: unknown) =>
    server.json<{ id: number; steps: { id: number }[] }>('POST', path, body, 201);
  const process = await post('/api/v1/processes', { name: 'Travl proces' });
  await post('/api/v1/steps', { process_id: process.id, index: 0, name: 'Trin' });
  const run = await post('/api/v1/runs', { process_id: process.id, entity_id: 'travl' });
  return { process, run };
}

describe('overload', () => {
  let server: TestServer | undefined;
  let holder: Orm | undefined;
  afterEach(async () => {
    if (holder) await closeOrm(holder);
    holder = undefined;
    await server?.close();
    server = undefined;
  });

  it('answers a burst beyond its bounds with quick 503 problems, and then serves every request', async () => {
    server = await startTestServer({
      MAX_CONCURRENT_REQUESTS: '2',
      MAX_QUEUED_REQUESTS: '4',
      QUEUE_TIMEOUT_MS: '300',
      // Every request verifies its key (argon2, on the thread pool), so requests overlap even on SQLite,
      // whose synchronous driver would otherwise finish each request before the next one is read.
      AUTH_CACHE_TTL_SECONDS: '0',
    });
    const { process } = await seed(server);
    const active = server;
    const burst = await Promise.all(
      Array.from({ length: 64 }, () => timed(active, `/api/v1/runs?process_id=${process.id}`)),
    );
    expectBoundedBurst(burst, 2);
    // Recovered: requests within the bounds are all served.
    for (let round = 0; round < 3; round += 1) {
      const calm = await Promise.all(
        Array.from({ length: 2 }, () => timed(active, `/api/v1/runs?process_id=${process.id}`)),
      );
      expect(calm.map((outcome) => outcome.status)).toEqual([200, 200]);
    }
  });

  it('holds process overviews to bounds of their own: those beyond are refused at once, other requests go on', async () => {
    server = await startTestServer({
      MAX_CONCURRENT_OVERVIEWS: '1',
      MAX_QUEUED_OVERVIEWS: '1',
      // Every request verifies its key (argon2, on the thread pool) while it holds its place, so requests
      // overlap even on SQLite (see above).
      AUTH_CACHE_TTL_SECONDS: '0',
    });
    const { process, run } = await seed(server);
    const active = server;
    const overviews = Array.from({ length: 16 }, () =>
      timed(active, `/api/v1/dashboard/overview/${process.id}`),
    );
    const reads = Array.from({ length: 16 }, () => timed(active, `/api/v1/runs/${run.id}`));
    const [overviewOutcomes, readOutcomes] = await Promise.all([Promise.all(overviews), Promise.all(reads)]);
    // One at work and one waiting at least; the rest found the queue full.
    const served = expectBoundedBurst(overviewOutcomes, 2, /overviews/);
    for (const outcome of served) expect((outcome.body['process'] as { id: number }).id).toBe(process.id);
    // The overviews' bounds hold back no other request.
    expect(readOutcomes.map((outcome) => outcome.status)).toEqual(Array.from({ length: 16 }, () => 200));
    // Recovered: one at a time, every overview is served.
    for (let round = 0; round < 3; round += 1) {
      expect((await timed(active, `/api/v1/dashboard/overview/${process.id}`)).status).toBe(200);
    }
  });

  it('while another session holds a run locked: bounded waits, 503 within a second, health answers, then recovery', async () => {
    server = await startTestServer({
      MAX_CONCURRENT_REQUESTS: '4',
      MAX_QUEUED_REQUESTS: '4',
      QUEUE_TIMEOUT_MS: '300',
      DB_POOL_SIZE: '2',
      DB_ACQUIRE_TIMEOUT_MS: '500',
      // The background writers (audit trail, usage counts) are kept out of the lock's seconds: on SQLite
      // any write, theirs too, blocks the synchronous driver and so the event loop while another process
      // holds the database lock (the README's "one instance per SQLite file"); this test is about how
      // requests are admitted and refused meanwhile.
      AUDIT_FLUSH_INTERVAL_MS: '60000',
      USAGE_FLUSH_INTERVAL_MS: '600000',
    });
    const active = server;
    const { run } = await seed(active);
    holder = await createOrm(active.container.config.databaseUrl, { poolMax: 1 });
    const connection = holder.em.fork().getConnection();
    const dialect = ormDialect(holder);
    const report = (status: string) =>
      timed(active, `/api/v1/step-runs/${run.steps[0].id}`, {
        method: 'PATCH',
        body: JSON.stringify({ status }),
        headers: { 'Content-Type': 'application/json' },
      });

    // Another session (a report, a migration, a DBA) holds the run's row — on SQLite the database's
    // write lock — in an open transaction. Every report of a step run of that run must wait for it.
    const trx = await connection.begin();
    let held = true;
    const release = async () => {
      if (held) await connection.rollback(trx);
      held = false;
    };
    onTestFinished(release);
    const hold = 'update process_run set updated_at = updated_at where id = ?';
    await connection.execute(hold, [run.id], 'run', trx);

    if (dialect === 'sqlite') {
      // One process, one connection, a synchronous driver: a write waits for the other writer for the
      // busy timeout (5 s) and then gets a 503 problem; reads go on meanwhile (WAL).
      const read = await timed(active, `/api/v1/runs/${run.id}`);
      expect(read.status).toBe(200);
      const blocked = await report('running');
      expect(blocked.status).toBe(503);
      expect(blocked.retryAfter).not.toBeNull();
    } else {
      const settled: Outcome[] = [];
      const reports = Array.from({ length: 24 }, () =>
        report('running').then((outcome) => {
          settled.push(outcome);
          return outcome;
        }),
      );
      // While they wait the health check still answers, within a second: it is never held back, and its
      // database probe waits for a connection no longer than the acquire timeout (then it says so: 503).
      await new Promise((resolve) => setTimeout(resolve, 100));
      const health = await timed(active, '/health');
      expect([200, 503]).toContain(health.status);
      expect(health.ms).toBeLessThan(1000);
      // 4 in flight (2 holding connections and waiting for the row, 2 waiting for a connection) and 4
      // queued: the rest are refused at once, the queued after 300 ms, those waiting for a connection
      // after 500 ms. Only the two holding a connection are still waiting a second later.
      await new Promise((resolve) => setTimeout(resolve, 1200));
      const refused = [...settled];
      expect(refused.length).toBeGreaterThanOrEqual(24 - 2);
      for (const outcome of refused) {
        expect(outcome.status).toBe(503);
        expect(outcome.retryAfter).not.toBeNull();
        expect(outcome.contentType).toMatch(/^application\/problem\+json/);
        expect(outcome.ms).toBeLessThan(1000);
      }
      await release();
      // The two that waited for the row go through once it is free.
      const all = await Promise.all(reports);
      expect(all.filter((outcome) => outcome.status === 200).length).toBe(24 - refused.length);
    }

    await release();
    // Recovered by itself: every report goes through, and the run is served.
    const after = await Promise.all([report('running'), report('running')]);
    const statuses = after.map((outcome) => outcome.status);
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect((await timed(active, `/api/v1/runs/${run.id}`)).body['status']).toBe('running');
  }, 30_000);
});
