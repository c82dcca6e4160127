/**
 * `make bench`: throughput and latency of the API over real HTTP on 127.0.0.1, with autocannon in this
 * process and the server (`node src/server.ts`) in its own process, so the load generator does not steal
 * the server's event loop. Each scenario starts a fresh server on a fresh SQLite database (or on
 * BENCH_DATABASE_URL's PostgreSQL) and reports requests/s, p50/p95/p99 latency and the server's RSS.
 * Ratios between scenarios isolate the cost of one layer (auth, response validation).
 *
 * The run scenarios (group `runs`) measure the hot paths of the robots and the dashboard — create a run,
 * report on a step run, get a run, list runs (no filter, meta_filter, entity_name) — on a database seeded
 * in bulk with BENCH_RUNS (default 100,000) runs and 5 step runs each (seed-runs.ts), on SQLite and, when
 * BENCH_POSTGRES_URL names a PostgreSQL server (a role with CREATEDB), on a fresh database created there
 * for the bench and dropped afterwards.
 *
 * The lifecycle group (`lifecycle`, lifecycle-bench.ts) times the data lifecycle's set-based operations on
 * such a database, freshly seeded, on the process with the most runs: its retention (rescheduling all its
 * runs), the cleanup stats and batch neutralisation of 5,000 due runs, the delete and restore of the
 * process (cascading to its steps, runs and step runs) and of single runs; each checked as it goes.
 *
 * The rerun group (`reruns`, rerun-bench.ts) measures the rerun queue (issue 11 item 7): BENCH_RERUN_JOBS
 * reruns queued through `POST /step-runs/{id}/rerun` on a fresh database while no worker runs, then
 * executed by 1 and by 4 worker processes (`node src/worker.ts`, 4 jobs at once each) against an external
 * system in this process answering 200 at once: jobs completed per second, each result checked.
 *
 *   make bench                    # BENCH_SECONDS=5 BENCH_CONNECTIONS=32 by default
 *   BENCH_ONLY=runs BENCH_POSTGRES_URL=$(bash .ci/postgres.sh) make bench   # only the run scenarios
 *   BENCH_ONLY=lifecycle BENCH_POSTGRES_URL=$(bash .ci/postgres.sh) make bench   # only the lifecycle
 *   BENCH_ONLY=reruns BENCH_POSTGRES_URL=$(bash .ci/postgres.sh) make bench      # only the rerun queue
 *
 * Environment:
 *   BENCH_ONLY            groups to run, comma-separated: memory, http (the GET / … scenarios), security
 *                         (audit trail and rate limits off and on), runs, lifecycle, reruns (default: all
 *                         six)
 *   BENCH_SECONDS         measured seconds per http scenario (default 5; each also warms up for 2 s first);
 *                         BENCH_RUNS_SECONDS for run scenarios (default 10); BENCH_MEMORY_SECONDS for
 *                         the memory measurement (default 20)
 *   BENCH_CONNECTIONS     concurrent connections (default 32)
 *   BENCH_RUNS            runs seeded for the run and lifecycle groups (default 100000)
 *   BENCH_RERUN_JOBS      rerun jobs queued for each measurement of the rerun group (default 2000)
 *   BENCH_POSTGRES_URL    PostgreSQL server to run the run, lifecycle and rerun groups on as well (any
 *                         database in the URL; the bench creates `pd_test_bench_*` next to it and drops it at
 *                         the end)
 *   BENCH_RUNS_ON         databases of the run, lifecycle and rerun groups, comma-separated: sqlite,
 *                         postgresql (default: sqlite, and postgresql when BENCH_POSTGRES_URL is set)
 *   BENCH_DATABASE_URL    database of the memory and http groups (default: a fresh SQLite file each)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { parseDatabaseUrl } from '../../src/db/database-url.ts';
import { closeOrm, createOrm, migrateToLatest, type Orm } from '../../src/db/orm.ts';
import { ApiKeyService } from '../../src/services/api-key.service.ts';
import { dropServerDatabase, onAdminDatabase, TEST_DATABASE_PREFIX } from '../support/database.ts';
import { BOOTSTRAP_KEY_PATTERN, freePort, spawnServer } from '../support/processes.ts';
import { measureLifecycle, printLifecycleTable, type LifecycleReport } from './lifecycle-bench.ts';
import { measureReruns, printRerunTable, RERUN_WORKER_PROCESSES, type RerunReport } from './rerun-bench.ts';
import { newRunsStepRuns, robotReports } from './robot-flow.ts';
import { danishName, entityId, prng, runMeta, seedRuns, type SeededData } from './seed-runs.ts';

const seconds = Number(process.env['BENCH_SECONDS'] ?? 5);
const runsSeconds = Number(process.env['BENCH_RUNS_SECONDS'] ?? 10);
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const seededRuns = Number(process.env['BENCH_RUNS'] ?? 100_000);
const rerunJobs = Number(process.env['BENCH_RERUN_JOBS'] ?? 2000);
const postgresUrl = process.env['BENCH_POSTGRES_URL']?.trim() || undefined;

const GROUPS = ['memory', 'http', 'security', 'runs', 'lifecycle', 'reruns'] as const;
type Group = (typeof GROUPS)[number];
const groups = new Set<Group>(
  (process.env['BENCH_ONLY']?.trim() || GROUPS.join(','))
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '')
    .map((name) => {
      if (!(GROUPS as readonly string[]).includes(name)) {
        throw new Error(`BENCH_ONLY: unknown group "${name}" (use ${GROUPS.join(', ')})`);
      }
      return name as Group;
    }),
);

type RunsDatabase = 'sqlite' | 'postgresql';
const runsDatabases: RunsDatabase[] = (
  process.env['BENCH_RUNS_ON']?.trim() || (postgresUrl ? 'sqlite,postgresql' : 'sqlite')
)
  .split(',')
  .map((name) => name.trim())
  .filter((name) => name !== '')
  .map((name) => {
    if (name !== 'sqlite' && name !== 'postgresql') {
      throw new Error(`BENCH_RUNS_ON: unknown database "${name}" (use sqlite, postgresql)`);
    }
    if (name === 'postgresql' && postgresUrl === undefined) {
      throw new Error('BENCH_RUNS_ON=postgresql needs BENCH_POSTGRES_URL (e.g. $(bash .ci/postgres.sh))');
    }
    return name;
  });

interface Server {
  baseUrl: string;
  adminKey: string;
  rssMb(): number;
  /** Peak RSS of the server process so far (VmHWM). */
  peakRssMb(): number;
  /** On PostgreSQL: the queries its database is running for others (the server's, left in flight). */
  runningQueries?(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * A server on `databaseUrl` (default: BENCH_DATABASE_URL, else a new SQLite file in its folder). The admin
 * key is `adminKey` when given, the bootstrap key a server prints on an empty SQLite database, or else one
 * created in the database before the server starts (servers on other databases print none).
 */
async function startServer(
  env: Record<string, string>,
  options: { databaseUrl?: string; adminKey?: string } = {},
): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'pd-bench-'));
  const port = await freePort();
  const databaseUrl =
    options.databaseUrl ?? process.env['BENCH_DATABASE_URL'] ?? `sqlite:${join(dir, 'bench.sqlite')}`;
  let presetKey = options.adminKey;
  if (presetKey === undefined && parseDatabaseUrl(databaseUrl).dialect !== 'sqlite') {
    presetKey = await withOrm(databaseUrl, createAdminKey);
  }
  const server = await spawnServer({
    cwd: dir,
    port,
    env: {
      API_PORT: String(port),
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'error',
      // The load generator makes thousands of requests a minute with one key.
      RATE_LIMITS: 'off',
      ...env,
    },
  });
  const adminKey = presetKey ?? (await server.waitForOutput(BOOTSTRAP_KEY_PATTERN))[1] ?? '';
  const watcher =
    parseDatabaseUrl(databaseUrl).dialect === 'postgresql'
      ? await createOrm(databaseUrl, { poolMax: 1 })
      : undefined;
  return {
    baseUrl: server.baseUrl,
    adminKey,
    rssMb: () => statusMb(server.child.pid, 'VmRSS'),
    peakRssMb: () => statusMb(server.child.pid, 'VmHWM'),
    ...(watcher === undefined
      ? {}
      : {
          runningQueries: async () => {
            const [row] = await watcher.em
              .fork()
              .getConnection()
              .execute<{ running: number | string }[]>(
                "select count(*) as running from pg_stat_activity where datname = current_database() and state = 'active' and pid <> pg_backend_pid()",
              );
            return Number(row?.running ?? 0);
          },
        }),
    stop: async () => {
      await server.stop();
      if (watcher !== undefined) await closeOrm(watcher);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function statusMb(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
}

/** An ORM on `databaseUrl` with the migrations applied, closed after `work`. */
async function withOrm<T>(databaseUrl: string, work: (orm: Orm) => Promise<T>): Promise<T> {
  const orm = await createOrm(databaseUrl, { poolMax: 2 });
  try {
    await migrateToLatest(orm);
    return await work(orm);
  } finally {
    await closeOrm(orm);
  }
}

async function createAdminKey(orm: Orm): Promise<string> {
  const { plaintext } = await new ApiKeyService({ cacheTtlSeconds: 0 }).create(orm.em.fork(), {
    name: 'Bench admin key',
    role: 'admin',
  });
  return plaintext;
}

interface Row {
  scenario: string;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  rssMb: number;
  /** What the errors were: unexpected statuses, connection errors, timeouts. */
  errorDetail?: string;
}

/**
 * Waits until the server has worked off what the last scenario left in flight (a heavy scenario at 32
 * connections leaves seconds of queued work when autocannon stops): until `GET /health` answers within
 * 50 ms and, on PostgreSQL, the database runs no query of the server's any more (a query whose client gave
 * up runs on in the database while the server's event loop is idle), at most 60 s. Otherwise the next
 * scenario would measure the previous one's backlog.
 */
async function settled(server: Server): Promise<void> {
  const deadline = performance.now() + 60_000;
  while (performance.now() < deadline) {
    const started = performance.now();
    await fetch(`${server.baseUrl}/health`).catch(() => undefined);
    const idle =
      performance.now() - started < 50 &&
      (server.runningQueries === undefined || (await server.runningQueries()) === 0);
    if (idle) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const value = sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
  return Math.round(value * 100) / 100;
}

/** What autocannon sends: one fixed request, or one built per request by `setupRequest`. */
interface Load {
  path: string;
  method?: 'GET' | 'POST' | 'PATCH';
  /** Builds each request (path, body) anew; autocannon calls it before every request. */
  setupRequest?: (request: autocannon.Request) => autocannon.Request;
  seconds?: number;
  /** Concurrent connections of this scenario (default BENCH_CONNECTIONS). */
  connections?: number;
}

/**
 * Seconds of each scenario spent warming up before anything is counted: JIT, caches (the key cache among
 * them), database pages, and the connections themselves. The warm-up runs on the same autocannon instance,
 * so the measured seconds see the connections already open: libuv accepts one connection per event-loop
 * turn, and on a server whose turns are long (SQLite's synchronous queries under load) opening 32
 * connections takes a second or two, which a fresh instance would count as latency of its first requests.
 */
const WARM_UP_SECONDS = 2;

async function measure(
  scenario: string,
  server: Server,
  target: string | Load,
  headers: Record<string, string>,
  expectStatus: number,
): Promise<Row> {
  const load: Load = typeof target === 'string' ? { path: target } : target;
  const measuredSeconds = load.seconds ?? seconds;
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let unexpected = 0;
  let errors = 0;
  let timeouts = 0;
  let countFrom = Number.POSITIVE_INFINITY;
  let countUntil = 0;
  await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: server.baseUrl + load.path,
        connections: load.connections ?? connections,
        duration: WARM_UP_SECONDS + measuredSeconds,
        headers,
        ...(load.setupRequest === undefined
          ? {}
          : {
              requests: [{ method: load.method ?? 'GET', path: load.path, setupRequest: load.setupRequest }],
            }),
      },
      (error: Error | null, finished) => {
        countUntil = performance.now();
        return error ? reject(error) : resolve(finished);
      },
    );
    countFrom = performance.now() + WARM_UP_SECONDS * 1000;
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (performance.now() < countFrom) return;
      latencies.push(responseTime);
      if (statusCode !== expectStatus) {
        unexpected++;
        statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
      }
    });
    instance.on('reqError', (error: unknown) => {
      if (performance.now() < countFrom) return;
      errors++;
      if (error instanceof Error && /timed out/.test(error.message)) timeouts++;
    });
  });
  await settled(server);
  latencies.sort((a, b) => a - b);
  const details = [
    ...[...statuses].map(([status, count]) => `${count}× status ${status}`),
    ...(errors > timeouts ? [`${errors - timeouts} connection errors`] : []),
    ...(timeouts > 0 ? [`${timeouts} timeouts`] : []),
  ];
  return {
    scenario,
    rps: Math.round(latencies.length / ((countUntil - countFrom) / 1000)),
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    errors: unexpected + errors,
    rssMb: Math.round(server.rssMb()),
    ...(details.length > 0 ? { errorDetail: details.join(', ') } : {}),
  };
}

function printTable(rows: readonly Row[]): void {
  console.log('| scenario | req/s | p50 ms | p95 ms | p99 ms | non-2xx/errors | server RSS MB |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    console.log(
      `| ${row.scenario} | ${row.rps} | ${row.p50} | ${row.p95} | ${row.p99} | ${row.errors} | ${row.rssMb} |`,
    );
  }
  for (const row of rows) {
    if (row.errorDetail !== undefined) console.log(`  ${row.scenario}: ${row.errorDetail}`);
  }
}

const rows: Row[] = [];
const scenarios: { env: Record<string, string>; runs: (s: Server) => Promise<Row[]> }[] = [
  {
    env: {},
    runs: async (s) => [
      await measure('GET / (no key; request+response validation)', s, '/', {}, 200),
      await measure('GET / with a valid key (cached auth)', s, '/', { 'X-API-Key': s.adminKey }, 200),
      await measure(
        'GET /api/v1/auth/verify (cached auth + key read)',
        s,
        '/api/v1/auth/verify',
        { 'X-API-Key': s.adminKey },
        200,
      ),
      await measure('GET /health (database round trip)', s, '/health', {}, 200),
      await measure('GET /api/v1/nope (404 from the router, no key)', s, '/api/v1/nope', {}, 404),
    ],
  },
  {
    env: { VALIDATE_RESPONSES: 'off' },
    runs: async (s) => [await measure('GET / (no key; response validation off)', s, '/', {}, 200)],
  },
  {
    env: { LOG_LEVEL: 'info' },
    runs: async (s) => [
      await measure('GET / (no key) with the access log on (LOG_LEVEL=info)', s, '/', {}, 200),
    ],
  },
  {
    env: { AUTH_CACHE_TTL_SECONDS: '0' },
    runs: async (s) => [
      await measure(
        'GET / with a valid key, cache off (argon2 per request)',
        s,
        '/',
        { 'X-API-Key': s.adminKey },
        200,
      ),
    ],
  },
];

/**
 * What the audit trail and the rate limits cost (issue 12): a read (`GET /api/v1/auth/verify`) and a write
 * (`POST /api/v1/processes`) with an admin key, each scenario on a fresh server and database (SQLite, and
 * PostgreSQL with BENCH_POSTGRES_URL, as the runs group), with each switched off and on, and the limits
 * counted in the database (`RATE_LIMIT_STORE=database`).
 * The limit is set beyond reach, so every request is counted and none refused.
 */
const securityScenarios: { label: string; env: Record<string, string> }[] = [
  { label: 'audit off, rate limits off', env: { AUDIT_TRAIL: 'off', RATE_LIMITS: 'off' } },
  { label: 'audit on, rate limits off', env: { AUDIT_TRAIL: 'on', RATE_LIMITS: 'off' } },
  {
    label: 'audit off, rate limits on',
    env: { AUDIT_TRAIL: 'off', RATE_LIMITS: 'on', RATE_LIMIT_ADMIN_PER_MINUTE: '10000000' },
  },
  {
    label: 'audit on, rate limits on',
    env: { AUDIT_TRAIL: 'on', RATE_LIMITS: 'on', RATE_LIMIT_ADMIN_PER_MINUTE: '10000000' },
  },
  {
    label: 'audit on, rate limits on, database store',
    env: {
      AUDIT_TRAIL: 'on',
      RATE_LIMITS: 'on',
      RATE_LIMIT_ADMIN_PER_MINUTE: '10000000',
      RATE_LIMIT_STORE: 'database',
    },
  },
];

async function measureSecurity(): Promise<Row[]> {
  const measured: Row[] = [];
  for (const on of runsDatabases) {
    for (const scenario of securityScenarios) {
      measured.push(...(await measureSecurityScenario(on, scenario)));
    }
  }
  return measured;
}

/** One scenario of `securityScenarios` on a fresh database of its own. */
async function measureSecurityScenario(
  on: RunsDatabase,
  scenario: (typeof securityScenarios)[number],
): Promise<Row[]> {
  const measured: Row[] = [];
  const database = await createRunsDatabase(on);
  const label = `${scenario.label}; ${database.label}`;
  const server = await startServer(scenario.env, { databaseUrl: database.url });
  try {
    const headers = { 'X-API-Key': server.adminKey };
    measured.push(
      await measure(`GET /api/v1/auth/verify (${label})`, server, '/api/v1/auth/verify', headers, 200),
    );
    measured.push(
      await measure(
        `POST /api/v1/processes (${label})`,
        server,
        {
          path: '/api/v1/processes',
          method: 'POST',
          setupRequest: (request) => ({
            ...request,
            headers: { ...request.headers, 'Content-Type': 'application/json' },
            body: JSON.stringify({ name: 'Måling', meta: { afdeling: 'Borgerservice' } }),
          }),
        },
        headers,
        201,
      ),
    );
  } finally {
    await server.stop();
    await database.dispose();
  }
  return measured;
}

/**
 * Memory as the review measured it: a fresh server, 8 connections alternating `GET /` and `GET /health`
 * for `BENCH_MEMORY_SECONDS` (default 20); RSS after start, at the end and at its peak (VmHWM).
 */
async function measureMemory(): Promise<{ idle: number; end: number; peak: number; requests: number }> {
  const server = await startServer({});
  try {
    const idle = server.rssMb();
    const result = await autocannon({
      url: server.baseUrl,
      connections: 8,
      duration: Number(process.env['BENCH_MEMORY_SECONDS'] ?? 20),
      requests: [{ path: '/' }, { path: '/health' }],
    });
    return { idle, end: server.rssMb(), peak: server.peakRssMb(), requests: result.requests.total };
  } finally {
    await server.stop();
  }
}
/** A fresh database for the run scenarios: a SQLite file in a new folder, or a new database on the server. */
async function createRunsDatabase(
  on: RunsDatabase,
): Promise<{ url: string; label: string; dispose(): Promise<void> }> {
  if (on === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'pd-bench-runs-'));
    return {
      url: `sqlite:${join(dir, 'bench.sqlite')}`,
      label: 'SQLite',
      dispose: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
    };
  }
  const adminUrl = postgresUrl as string;
  // The prefix of test databases: dropServerDatabase drops nothing else, and leftovers are recognisable.
  const name = `${TEST_DATABASE_PREFIX}bench_${Date.now().toString(36)}_${process.pid}`;
  await onAdminDatabase(adminUrl, [[`create database "${name}"`, []]]);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const [versionRows] = await onAdminDatabase(adminUrl, [['show server_version', []]]);
  const version = (versionRows?.[0] as { server_version?: string } | undefined)?.server_version ?? '?';
  return {
    url: url.toString(),
    label: `PostgreSQL ${version}`,
    dispose: () => dropServerDatabase(adminUrl, name),
  };
}

interface RunsReport {
  database: string;
  seeded: SeededData;
  analyzeMs?: number;
  /** `total` of each list scenario's first page: how many runs its filter matches. */
  totals: string[];
  rows: Row[];
}

/**
 * Seeds BENCH_RUNS runs in bulk into the migrated, empty database of `orm`, then on PostgreSQL runs
 * VACUUM ANALYZE, as autovacuum would soon after such a load, and a CHECKPOINT (when the role may: the
 * `pg_checkpoint` role, which .ci/postgres.sh grants), so the load's dirty pages are written before the
 * scenarios rather than by the checkpointer during them, spread over minutes.
 */
async function seedRunsDatabase(
  orm: Orm,
  on: RunsDatabase,
): Promise<{ seeded: SeededData; analyzeMs?: number }> {
  const seeded = await seedRuns(orm, seededRuns);
  if (on !== 'postgresql') return { seeded };
  const started = performance.now();
  await orm.em
    .fork()
    .getConnection()
    .execute(
      'vacuum analyze process, process_step, process_run, process_step_run, process_run_count, process_run_field',
    );
  const analyzeMs = performance.now() - started;
  try {
    const checkpointStarted = performance.now();
    await orm.em.fork().getConnection().execute('checkpoint');
    console.log(
      `CHECKPOINT after the seed: ${((performance.now() - checkpointStarted) / 1000).toFixed(1)} s`,
    );
  } catch (error) {
    console.log(`no CHECKPOINT after the seed (${error instanceof Error ? error.message : String(error)})`);
  }
  return { seeded, analyzeMs };
}

/** Runs `work` on a fresh database `on`, dropping it afterwards, on Ctrl-C too. */
async function onRunsDatabase<T>(
  on: RunsDatabase,
  work: (database: { url: string; label: string }) => Promise<T>,
): Promise<T> {
  const database = await createRunsDatabase(on);
  // Ctrl-C: the server (same process group) gets the signal too; the database is dropped, not left over.
  const onInterrupt = () => void database.dispose().finally(() => process.exit(130));
  process.once('SIGINT', onInterrupt);
  try {
    return await work(database);
  } finally {
    process.off('SIGINT', onInterrupt);
    await database.dispose();
  }
}

/**
 * The run scenarios on a fresh database `on`: migrate, seed in bulk (seedRunsDatabase), then one server
 * and the scenarios of `runsSeconds` each. Reads come first, so they see exactly the seeded data; then
 * creates and reports.
 */
async function measureRuns(on: RunsDatabase): Promise<RunsReport> {
  return onRunsDatabase(on, async (database) => {
    const { seeded, analyzeMs, adminKey } = await withOrm(database.url, async (orm) => ({
      ...(await seedRunsDatabase(orm, on)),
      adminKey: await createAdminKey(orm),
    }));
    const server = await startServer({}, { databaseUrl: database.url, adminKey });
    try {
      const headers = { 'X-API-Key': server.adminKey };
      const json = { ...headers, 'Content-Type': 'application/json' };
      const randomId = (max: number) => 1 + Math.floor(Math.random() * max);
      const random = prng(Date.now());
      let sequence = seededRuns;
      let reports = 0;
      const first = seeded.processIds[0];
      const lists = [
        ['GET /api/v1/runs (no filter, page 1 of 50)', '/api/v1/runs'],
        ['GET /api/v1/runs?status=failed', '/api/v1/runs?status=failed'],
        ['GET /api/v1/runs?meta_filter=kommune:Aarhus', '/api/v1/runs?meta_filter=kommune:Aarhus'],
        ['GET /api/v1/runs?entity_name=hansen', '/api/v1/runs?entity_name=hansen'],
        // One name of the seed's 320 (about 3,000 runs at a million): what an operator looks for.
        ['GET /api/v1/runs?entity_name=Åse+Æbelø', '/api/v1/runs?entity_name=%C3%85se+%C3%86bel%C3%B8'],
        [
          'GET /api/v1/runs?process_id=…&order_by=meta.sagsnummer',
          `/api/v1/runs?process_id=${first}&order_by=meta.sagsnummer&sort_direction=asc`,
        ],
        ['GET /api/v1/runs/search?q=hansen', '/api/v1/runs/search?q=hansen'],
        ['GET /api/v1/runs/search?q=aarhus&process_id=…', `/api/v1/runs/search?q=aarhus&process_id=${first}`],
        ['GET /api/v1/dashboard/process/{id}', `/api/v1/dashboard/process/${first}`],
        ['GET /api/v1/dashboard/overview/{id}', `/api/v1/dashboard/overview/${first}`],
        ['GET /api/v1/processes/{id}/filter-metadata', `/api/v1/processes/${first}/filter-metadata`],
      ] as const;
      const totals: string[] = [];
      for (const [, path] of lists) {
        const response = await fetch(server.baseUrl + path, { headers });
        const text = await response.text();
        const body = JSON.parse(text) as {
          total?: number;
          total_runs?: number;
          statistics?: { total_runs?: number };
        };
        const total = body.total ?? body.total_runs ?? body.statistics?.total_runs;
        totals.push(`${path}: ${response.status}, total ${total}, ${Math.round(text.length / 1024)} KiB`);
      }
      const rows: Row[] = [
        await measure(
          'GET /api/v1/runs/{id} (random seeded run)',
          server,
          {
            path: '/api/v1/runs/1',
            seconds: runsSeconds,
            setupRequest: (request) => ({ ...request, path: `/api/v1/runs/${randomId(seededRuns)}` }),
          },
          headers,
          200,
        ),
      ];
      for (const [scenario, path] of lists) {
        rows.push(await measure(scenario, server, { path, seconds: runsSeconds }, headers, 200));
      }
      // A page's own latency, with nothing queued before it: at 32 connections a page waits for the 31
      // ahead of it (Little's law), and that wait is most of the p95 above.
      rows.push(
        await measure(
          'GET /api/v1/runs (no filter) at 1 connection',
          server,
          { path: '/api/v1/runs', seconds: runsSeconds, connections: 1 },
          headers,
          200,
        ),
      );
      // Past the server's bounds (MAX_CONCURRENT_REQUESTS 64): 256 clients at once. The surplus is
      // answered with 503 + Retry-After (counted as non-2xx), never left hanging.
      for (const [scenario, path] of [
        ['GET /api/v1/runs/{id} at 256 connections', '/api/v1/runs/1'],
        ['GET /api/v1/runs?status=failed at 256 connections', '/api/v1/runs?status=failed'],
      ] as const) {
        rows.push(
          await measure(
            scenario,
            server,
            {
              path,
              seconds: runsSeconds,
              connections: 256,
              ...(path === '/api/v1/runs/1'
                ? {
                    setupRequest: (request) => ({ ...request, path: `/api/v1/runs/${randomId(seededRuns)}` }),
                  }
                : {}),
            },
            headers,
            200,
          ),
        );
      }
      rows.push(
        await measure(
          'POST /api/v1/runs (random process, entity, meta)',
          server,
          {
            path: '/api/v1/runs',
            method: 'POST',
            seconds: runsSeconds,
            setupRequest: (request) => ({
              ...request,
              body: JSON.stringify({
                process_id: seeded.processIds[Math.floor(random() * seeded.processIds.length)],
                entity_id: entityId(random),
                entity_name: danishName(random),
                meta: runMeta(random, ++sequence),
              }),
            }),
          },
          json,
          201,
        ),
        await measure(
          'PATCH /api/v1/step-runs/{id} (random seeded step run; running/success)',
          server,
          {
            path: '/api/v1/step-runs/1',
            method: 'PATCH',
            seconds: runsSeconds,
            setupRequest: (request) => ({
              ...request,
              path: `/api/v1/step-runs/${randomId(seeded.stepRuns)}`,
              body: JSON.stringify({ status: ++reports % 2 === 0 ? 'success' : 'running' }),
            }),
          },
          json,
          200,
        ),
      );
      // The robots' flow: the runs just created (by the POST row) reported on in order, as robots do.
      const flow = robotReports(await withOrm(database.url, (orm) => newRunsStepRuns(orm, seeded.runs)));
      if (flow.length === 0) throw new Error("robots' flow: the POST row created no run with step runs");
      let flowSent = 0;
      rows.push(
        await measure(
          "PATCH /api/v1/step-runs/{id} (robots' flow: the new runs' step runs in order, running then success)",
          server,
          {
            path: '/api/v1/step-runs/1',
            method: 'PATCH',
            seconds: runsSeconds,
            setupRequest: (request) => {
              const report = flow[flowSent++ % flow.length];
              return {
                ...request,
                path: `/api/v1/step-runs/${report.id}`,
                body: JSON.stringify({ status: report.status }),
              };
            },
          },
          json,
          200,
        ),
      );
      if (flowSent > flow.length) {
        console.log(`robots' flow: ${flowSent} reports sent, ${flow.length} in the flow (began again)`);
      }
      return {
        database: database.label,
        seeded,
        ...(analyzeMs === undefined ? {} : { analyzeMs }),
        totals,
        rows,
      };
    } finally {
      await server.stop();
    }
  });
}

interface LifecycleRunsReport extends LifecycleReport {
  database: string;
  seeded: SeededData;
  analyzeMs?: number;
  /** Peak RSS of the server (VmHWM), MB. */
  peakRssMb: number;
}

/**
 * The lifecycle group on a fresh database `on` seeded as for the run scenarios: one server, and the
 * lifecycle operations of lifecycle-bench.ts on it, with this process's own connection to the database
 * for their setup and checks.
 */
async function measureLifecycleOn(on: RunsDatabase): Promise<LifecycleRunsReport> {
  return onRunsDatabase(on, (database) =>
    withOrm(database.url, async (orm) => {
      const { seeded, analyzeMs } = await seedRunsDatabase(orm, on);
      const adminKey = await createAdminKey(orm);
      const server = await startServer({}, { databaseUrl: database.url, adminKey });
      try {
        const report = await measureLifecycle(server, orm, seeded);
        return {
          ...report,
          database: database.label,
          seeded,
          ...(analyzeMs === undefined ? {} : { analyzeMs }),
          peakRssMb: Math.round(server.peakRssMb()),
        };
      } finally {
        await server.stop();
      }
    }),
  );
}

/**
 * The rerun group on a fresh database `on` for `workers` worker processes: one server executing nothing
 * (`RERUN_WORKER=off`), and the queue measured by rerun-bench.ts, with this process's own connection to
 * the database for its checks.
 */
async function measureRerunsOn(
  on: RunsDatabase,
  workers: number,
): Promise<RerunReport & { database: string }> {
  return onRunsDatabase(on, (database) =>
    withOrm(database.url, async (orm) => {
      const adminKey = await createAdminKey(orm);
      const server = await startServer(
        { RERUN_WORKER: 'off', RERUN_ALLOWED_HOSTS: '127.0.0.1' },
        { databaseUrl: database.url, adminKey },
      );
      try {
        const report = await measureReruns(server, orm, {
          databaseUrl: database.url,
          workers,
          jobs: rerunJobs,
        });
        return { ...report, database: database.label };
      } finally {
        await server.stop();
      }
    }),
  );
}

console.log(
  `load average at the start: ${loadavg()
    .map((load) => load.toFixed(2))
    .join(' ')} (1, 5, 15 min)`,
);
const memory = groups.has('memory') ? await measureMemory() : undefined;

if (groups.has('http')) {
  for (const { env, runs } of scenarios) {
    const server = await startServer(env);
    try {
      rows.push(...(await runs(server)));
    } finally {
      await server.stop();
    }
  }
}

if (groups.has('security')) rows.push(...(await measureSecurity()));

const runsReports: RunsReport[] = [];
if (groups.has('runs')) {
  for (const on of runsDatabases) runsReports.push(await measureRuns(on));
}

const lifecycleReports: LifecycleRunsReport[] = [];
if (groups.has('lifecycle')) {
  for (const on of runsDatabases) lifecycleReports.push(await measureLifecycleOn(on));
}

const rerunReports: (RerunReport & { database: string })[] = [];
if (groups.has('reruns')) {
  for (const on of runsDatabases) {
    for (const workers of RERUN_WORKER_PROCESSES) rerunReports.push(await measureRerunsOn(on, workers));
  }
}

const database = process.env['BENCH_DATABASE_URL'] ? 'PostgreSQL' : 'SQLite';
if (rows.length > 0) {
  console.log(
    `\n${connections} connections, ${seconds} s per scenario, ${database}, Node ${process.version}\n`,
  );
  printTable(rows);
}
if (memory !== undefined) {
  console.log(
    `\nmemory, 8 connections alternating GET / and GET /health (${memory.requests} requests): ` +
      `RSS ${Math.round(memory.idle)} MB after start, ${Math.round(memory.end)} MB at the end, ` +
      `${Math.round(memory.peak)} MB peak`,
  );
}
const by = (prefix: string) => rows.find((row) => row.scenario.startsWith(prefix));
const base = by('GET / (no key; request+response');
const withKey = by('GET / with a valid key (cached');
const noResponseValidation = by('GET / (no key; response validation off');
const argon = by('GET / with a valid key, cache off');
const accessLogged = by('GET / (no key) with the access log on');
if (base && withKey && noResponseValidation && argon && accessLogged) {
  console.log('\nratios (req/s):');
  console.log(
    `  cached auth costs            ${(100 * (1 - withKey.rps / base.rps)).toFixed(1)} % of throughput on GET /`,
  );
  console.log(
    `  response validation costs    ${(100 * (1 - base.rps / noResponseValidation.rps)).toFixed(1)} % of throughput on GET /`,
  );
  console.log(
    `  the access log costs         ${(100 * (1 - accessLogged.rps / base.rps)).toFixed(1)} % of throughput on GET /`,
  );
  console.log(
    `  the verification cache gives ${(withKey.rps / argon.rps).toFixed(1)}x the throughput of argon2 per request`,
  );
}
for (const report of runsReports) {
  const { seeded } = report;
  console.log(
    `\nruns: ${connections} connections, ${runsSeconds} s per scenario, ${report.database}, Node ${process.version}; ` +
      `${seeded.runs} runs and ${seeded.stepRuns} step runs of ${seeded.processIds.length} processes seeded in ` +
      `${(seeded.seedMs / 1000).toFixed(1)} s` +
      (report.analyzeMs === undefined
        ? ''
        : ` (then VACUUM ANALYZE ${(report.analyzeMs / 1000).toFixed(1)} s)`) +
      '\n',
  );
  printTable(report.rows);
  console.log(`  runs matched by the lists (first page before the scenarios): ${report.totals.join('; ')}`);
}
for (const report of lifecycleReports) {
  const { seeded } = report;
  console.log(
    `\nlifecycle: ${report.database}, Node ${process.version}; ${seeded.runs} runs and ${seeded.stepRuns} step ` +
      `runs of ${seeded.processIds.length} processes seeded in ${(seeded.seedMs / 1000).toFixed(1)} s` +
      (report.analyzeMs === undefined
        ? ''
        : ` (then VACUUM ANALYZE ${(report.analyzeMs / 1000).toFixed(1)} s)`) +
      `; process ${report.process.id} (${report.process.name}), the one with the most runs: ` +
      `${report.process.runs} runs; server peak RSS ${report.peakRssMb} MB\n`,
  );
  printLifecycleTable(report);
}
if (rerunReports.length > 0) {
  console.log(
    `\nreruns: jobs completed per second by the rerun queue, Node ${process.version}; an external system ` +
      'answering 200 at once; workers = worker processes (node src/worker.ts), each executing up to 4 jobs ' +
      'at once; seconds = all workers up to the last job finished\n',
  );
  printRerunTable(rerunReports);
}
