/**
 * `make bench`: throughput and latency of the API over real HTTP on 127.0.0.1, with autocannon in this
 * process and the server (`node src/server.ts`) in its own process, so the load generator does not steal
 * the server's event loop. Each scenario starts a fresh server on a fresh SQLite database (or on
 * BENCH_DATABASE_URL's PostgreSQL) and reports requests/s, p50/p95/p99 latency and the server's RSS.
 * Ratios between scenarios isolate the cost of one layer (auth, response validation).
 *
 *   make bench                    # BENCH_SECONDS=5 BENCH_CONNECTIONS=32 by default
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { BOOTSTRAP_KEY_PATTERN, freePort, spawnServer } from '../support/processes.ts';

const seconds = Number(process.env['BENCH_SECONDS'] ?? 5);
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 32);

interface Server {
  baseUrl: string;
  adminKey: string;
  rssMb(): number;
  /** Peak RSS of the server process so far (VmHWM). */
  peakRssMb(): number;
  stop(): Promise<void>;
}

async function startServer(env: Record<string, string>): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'pd-bench-'));
  const port = await freePort();
  const server = await spawnServer({
    cwd: dir,
    port,
    env: {
      API_PORT: String(port),
      DATABASE_URL: process.env['BENCH_DATABASE_URL'] ?? `sqlite:${join(dir, 'bench.sqlite')}`,
      LOG_LEVEL: 'error',
      ...env,
    },
  });
  const [, adminKey = ''] = await server.waitForOutput(BOOTSTRAP_KEY_PATTERN);
  return {
    baseUrl: server.baseUrl,
    adminKey,
    rssMb: () => statusMb(server.child.pid, 'VmRSS'),
    peakRssMb: () => statusMb(server.child.pid, 'VmHWM'),
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function statusMb(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
}

interface Row {
  scenario: string;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  rssMb: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const value = sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
  return Math.round(value * 100) / 100;
}

async function measure(
  scenario: string,
  server: Server,
  path: string,
  headers: Record<string, string>,
  expectStatus: number,
): Promise<Row> {
  // Warm-up: JIT, caches (the key cache among them), database pages.
  await autocannon({ url: server.baseUrl + path, connections, duration: 1, headers });
  const latencies: number[] = [];
  let unexpected = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      { url: server.baseUrl + path, connections, duration: seconds, headers },
      (error: Error | null, finished) => (error ? reject(error) : resolve(finished)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      latencies.push(responseTime);
      if (statusCode !== expectStatus) unexpected++;
    });
  });
  latencies.sort((a, b) => a - b);
  return {
    scenario,
    rps: Math.round(result.requests.average),
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    errors: unexpected + result.errors + result.timeouts,
    rssMb: Math.round(server.rssMb()),
  };
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
const memory = await measureMemory();

for (const { env, runs } of scenarios) {
  const server = await startServer(env);
  try {
    rows.push(...(await runs(server)));
  } finally {
    await server.stop();
  }
}

const database = process.env['BENCH_DATABASE_URL'] ? 'PostgreSQL' : 'SQLite';
console.log(
  `\n${connections} connections, ${seconds} s per scenario, ${database}, Node ${process.version}\n`,
);
console.log('| scenario | req/s | p50 ms | p95 ms | p99 ms | non-2xx/errors | server RSS MB |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const row of rows) {
  console.log(
    `| ${row.scenario} | ${row.rps} | ${row.p50} | ${row.p95} | ${row.p99} | ${row.errors} | ${row.rssMb} |`,
  );
}
console.log(
  `\nmemory, 8 connections alternating GET / and GET /health (${memory.requests} requests): ` +
    `RSS ${Math.round(memory.idle)} MB after start, ${Math.round(memory.end)} MB at the end, ` +
    `${Math.round(memory.peak)} MB peak`,
);
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
console.log(
  '\nHot paths (create run, patch step run, get run, list runs) are measured here once they are implemented.',
);
