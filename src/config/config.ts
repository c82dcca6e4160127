/**
 * Configuration, read once from the environment by the entry points (`src/process-entry.ts`) and the CLIs,
 * validated, typed and frozen. Nothing else reads `process.env`.
 */
import { parseAllowedHostEntry } from '../reruns/outbound-guard.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type ResponseValidation = 'fail' | 'log' | 'off';

export interface Config {
  /** `API_HOST`: interface to listen on (default 127.0.0.1; use 0.0.0.0 in a container). */
  readonly host: string;
  /** `API_PORT`: TCP port (default 8000, as the original service). */
  readonly port: number;
  /** `DATABASE_URL`: `sqlite:<path>`, `sqlite::memory:`, `postgresql://…` or `mssql://…`. */
  readonly databaseUrl: string;
  /** `CORS_ORIGINS`: origins allowed to call the API from a browser (JSON array or comma list). */
  readonly corsOrigins: readonly string[];
  /** `LOG_LEVEL`: debug, info, warn, error or silent (default info). */
  readonly logLevel: LogLevel;
  /** `BODY_LIMIT_BYTES`: largest accepted request body after decompression (default 1 MiB). */
  readonly bodyLimitBytes: number;
  /** `VALIDATE_RESPONSES`: fail (500 on a response that breaks the contract), log, or off. */
  readonly validateResponses: ResponseValidation;
  /** `BOOTSTRAP_ADMIN_KEY`: on first start of an empty database, create an admin key and print it once. */
  readonly bootstrapAdminKey: boolean;
  /** `AUTH_CACHE_TTL_SECONDS`: how long a verified key is trusted without re-checking the database. */
  readonly authCacheTtlSeconds: number;
  /** `USAGE_FLUSH_INTERVAL_MS`: how often API key usage counts are written (batched, one row update per key). */
  readonly usageFlushIntervalMs: number;
  /** `SHUTDOWN_TIMEOUT_MS`: how long a SIGTERM waits for in-flight requests before closing anyway. */
  readonly shutdownTimeoutMs: number;
  /**
   * `REQUEST_TIMEOUT_MS`: how long a client may take to send a whole request, headers and body; a slower
   * one gets 408 and its connection is closed (a slow-body client cannot hold a connection for Node's
   * default five minutes).
   */
  readonly requestTimeoutMs: number;
  /** `HEADERS_TIMEOUT_MS`: how long a client may take to send the request's headers (at most the above). */
  readonly headersTimeoutMs: number;
  /**
   * `TRUST_PROXY`: whether `X-Forwarded-For/-Proto/-Host` are believed (client IP in logs, scheme and host
   * of pagination links): `false` (default), `true`, a number of proxy hops, or addresses/subnets
   * (comma list), as Express's `trust proxy` setting.
   */
  readonly trustProxy: boolean | number | string;
  /** `APP_ENV`: a label reported by `GET /` (development, production, …). */
  readonly environment: string;
  /** `DB_POOL_SIZE`: connections to PostgreSQL / SQL Server per instance (default 10; SQLite has one). */
  readonly dbPoolSize: number;
  /**
   * `SQLITE_READ_THREADS`: SQLite on a file: read connections on worker threads for the reads of the lists,
   * searches and dashboards (default 2; 0 runs every query on the one connection, on the event loop).
   */
  readonly sqliteReadThreads: number;
  /** `DB_ACQUIRE_TIMEOUT_MS`: how long a query waits for a free connection before the request gets 503. */
  readonly dbAcquireTimeoutMs: number;
  /** `MAX_CONCURRENT_REQUESTS`: requests worked on at once (src/middleware/admission.ts). */
  readonly maxConcurrentRequests: number;
  /** `MAX_QUEUED_REQUESTS`: requests waiting for a slot; beyond them a request gets 503 at once. */
  readonly maxQueuedRequests: number;
  /** `QUEUE_TIMEOUT_MS`: how long a request waits for a slot before it gets 503. */
  readonly queueTimeoutMs: number;
  /** `MAX_CONCURRENT_OVERVIEWS`: process overviews worked on at once (src/app.ts). */
  readonly maxConcurrentOverviews: number;
  /** `MAX_QUEUED_OVERVIEWS`: overviews waiting their turn; beyond them an overview gets 503 at once. */
  readonly maxQueuedOverviews: number;
  /**
   * `NEUTRALIZE_KEEP_KEYS`: the meta keys whose values survive neutralisation, for processes without
   * their own list (comma list or JSON array; default the original's `category,type,department,status_code`).
   */
  readonly neutralizeKeepKeys: readonly string[];
  /**
   * `RETENTION_CLEANUP_INTERVAL`: how often the in-process cleanup neutralises due runs, in seconds or with
   * a unit (`90s`, `15m`, `1h`, `1d`); unset or `off`: never (the admin endpoint still works). Milliseconds.
   */
  readonly retentionCleanupIntervalMs: number | null;
  /** `RETENTION_CLEANUP_BATCH_SIZE`: runs neutralised per batch by the scheduled cleanup (default 100). */
  readonly retentionCleanupBatchSize: number;
  /**
   * `RETENTION_CLEANUP_LEASE_SECONDS`: how long one instance holds the cleanup lease without renewing it;
   * a crashed holder's lease expires after this (default 300).
   */
  readonly retentionCleanupLeaseSeconds: number;
  /**
   * `AUDIT_TRAIL`: `on` (default). `off` records nothing — only for measuring what the trail costs
   * (`make bench`); an installation holding personal data keeps it on.
   */
  readonly auditTrail: boolean;
  /** `AUDIT_FLUSH_INTERVAL_MS`: how often queued audit entries are written, in batches (default 1000). */
  readonly auditFlushIntervalMs: number;
  /** `AUDIT_MAX_QUEUED`: audit entries kept in memory while the database refuses them (default 100,000). */
  readonly auditMaxQueued: number;
  /** `RATE_LIMITS`: `on` (default) or `off` (a gateway in front limits instead). */
  readonly rateLimits: boolean;
  /** `RATE_LIMIT_PER_KEY_PER_MINUTE`: requests a user key may make per minute (default 1000, seed 004). */
  readonly rateLimitPerKey: number;
  /** `RATE_LIMIT_ADMIN_PER_MINUTE`: the same for admin keys (default 5000: dashboards and batch jobs). */
  readonly rateLimitPerAdminKey: number;
  /** `RATE_LIMIT_PER_IP_PER_MINUTE`: requests without a key per client IP and minute (default 100). */
  readonly rateLimitPerIp: number;
  /** `RATE_LIMIT_AUTH_FAILURES_PER_MINUTE`: failed authentications per client IP and minute (default 10). */
  readonly rateLimitAuthFailures: number;
  /** `RATE_LIMIT_STORE`: `memory` (per instance, default) or `database` (one limit for every instance). */
  readonly rateLimitStore: 'memory' | 'database';
  /**
   * `RERUN_ALLOWED_HOSTS`: the hosts a rerun may call (comma list of `host`, `host:port`, `*.suffix`, IP
   * literals); empty (default): no generic HTTP rerun target is allowed.
   */
  readonly rerunAllowedHosts: readonly string[];
  /**
   * `RERUN_ALLOW_PRIVATE_ADDRESSES`: whether an allowed host NAME may resolve to a private, loopback or
   * link-local address (default false; an IP literal on the list is always allowed).
   */
  readonly rerunAllowPrivateAddresses: boolean;
  /** `RERUN_WORKER`: run the rerun worker inside the API process (default on; `make worker` runs one alone). */
  readonly rerunWorker: boolean;
  /** `RERUN_WORKER_CONCURRENCY`: rerun jobs one worker executes at once (default 4). */
  readonly rerunWorkerConcurrency: number;
  /** `RERUN_POLL_INTERVAL_MS`: how often an idle worker looks for due jobs (default 1000). */
  readonly rerunPollIntervalMs: number;
  /**
   * `RERUN_LEASE_MARGIN_SECONDS`: a claimed job's lease lasts its call's timeout plus this (default 30);
   * a job whose worker died is claimed again once its lease has expired.
   */
  readonly rerunLeaseMarginSeconds: number;
  /** `AUTOMATION_SERVER_URL`: base URL of the original's automation server (rerun target `workitem_id`). */
  readonly automationServerUrl: string | null;
  /** `AUTOMATION_SERVER_TOKEN`: its bearer token. */
  readonly automationServerToken: string | null;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];
const RESPONSE_VALIDATION: readonly ResponseValidation[] = ['fail', 'log', 'off'];
export const DEFAULT_DATABASE_URL = 'sqlite:data/process-dashboard.sqlite';

type Env = Readonly<Record<string, string | undefined>>;

/** Reads and validates the configuration; throws a ConfigError naming every bad variable. */
export function loadConfig(env: Env): Config {
  const problems: string[] = [];
  const text = (name: string, fallback: string): string => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? fallback : value;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = text(name, String(fallback));
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };
  const oneOf = <T extends string>(name: string, fallback: T, allowed: readonly T[]): T => {
    const raw = text(name, fallback).toLowerCase();
    if (!(allowed as readonly string[]).includes(raw)) {
      problems.push(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
      return fallback;
    }
    return raw as T;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = text(name, String(fallback)).toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name} must be true or false, got "${raw}"`);
    return fallback;
  };

  const databaseUrl = text('DATABASE_URL', DEFAULT_DATABASE_URL);
  if (!/^(sqlite:|postgres(ql)?:\/\/|mssql:\/\/|sqlserver:\/\/)/.test(databaseUrl)) {
    problems.push(
      'DATABASE_URL must start with sqlite: (sqlite:<path> or sqlite::memory:), postgresql:// or mssql://',
    );
  }

  const config: Config = {
    host: text('API_HOST', '127.0.0.1'),
    port: int('API_PORT', 8000, 0, 65535),
    databaseUrl,
    corsOrigins: parseOrigins(text('CORS_ORIGINS', ''), problems),
    logLevel: oneOf('LOG_LEVEL', 'info', LOG_LEVELS),
    bodyLimitBytes: int('BODY_LIMIT_BYTES', 1024 * 1024, 1024, 100 * 1024 * 1024),
    validateResponses: oneOf('VALIDATE_RESPONSES', 'fail', RESPONSE_VALIDATION),
    bootstrapAdminKey: bool('BOOTSTRAP_ADMIN_KEY', true),
    authCacheTtlSeconds: int('AUTH_CACHE_TTL_SECONDS', 5, 0, 300),
    usageFlushIntervalMs: int('USAGE_FLUSH_INTERVAL_MS', 5_000, 100, 600_000),
    shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', 10_000, 0, 120_000),
    requestTimeoutMs: int('REQUEST_TIMEOUT_MS', 30_000, 1_000, 600_000),
    headersTimeoutMs: int('HEADERS_TIMEOUT_MS', 10_000, 1_000, 600_000),
    trustProxy: parseTrustProxy(text('TRUST_PROXY', 'false')),
    environment: text('APP_ENV', 'development'),
    dbPoolSize: int('DB_POOL_SIZE', 10, 1, 1000),
    sqliteReadThreads: int('SQLITE_READ_THREADS', 2, 0, 64),
    dbAcquireTimeoutMs: int('DB_ACQUIRE_TIMEOUT_MS', 5_000, 100, 120_000),
    maxConcurrentRequests: int('MAX_CONCURRENT_REQUESTS', 64, 1, 100_000),
    maxQueuedRequests: int('MAX_QUEUED_REQUESTS', 1024, 0, 1_000_000),
    queueTimeoutMs: int('QUEUE_TIMEOUT_MS', 500, 1, 60_000),
    maxConcurrentOverviews: int('MAX_CONCURRENT_OVERVIEWS', 2, 1, 1000),
    maxQueuedOverviews: int('MAX_QUEUED_OVERVIEWS', 32, 0, 100_000),
    neutralizeKeepKeys: parseKeepKeys(env['NEUTRALIZE_KEEP_KEYS'], problems),
    retentionCleanupIntervalMs: parseInterval(
      'RETENTION_CLEANUP_INTERVAL',
      text('RETENTION_CLEANUP_INTERVAL', 'off'),
      problems,
    ),
    retentionCleanupBatchSize: int('RETENTION_CLEANUP_BATCH_SIZE', 100, 1, 1000),
    retentionCleanupLeaseSeconds: int('RETENTION_CLEANUP_LEASE_SECONDS', 300, 5, 86_400),
    auditTrail: bool('AUDIT_TRAIL', true),
    auditFlushIntervalMs: int('AUDIT_FLUSH_INTERVAL_MS', 1000, 50, 60_000),
    auditMaxQueued: int('AUDIT_MAX_QUEUED', 100_000, 1000, 10_000_000),
    rateLimits: bool('RATE_LIMITS', true),
    rateLimitPerKey: int('RATE_LIMIT_PER_KEY_PER_MINUTE', 1000, 1, 10_000_000),
    rateLimitPerAdminKey: int('RATE_LIMIT_ADMIN_PER_MINUTE', 5000, 1, 10_000_000),
    rateLimitPerIp: int('RATE_LIMIT_PER_IP_PER_MINUTE', 100, 1, 10_000_000),
    rateLimitAuthFailures: int('RATE_LIMIT_AUTH_FAILURES_PER_MINUTE', 10, 1, 10_000_000),
    rateLimitStore: oneOf('RATE_LIMIT_STORE', 'memory', ['memory', 'database'] as const),
    rerunAllowedHosts: parseAllowedHosts(text('RERUN_ALLOWED_HOSTS', ''), problems),
    rerunAllowPrivateAddresses: bool('RERUN_ALLOW_PRIVATE_ADDRESSES', false),
    rerunWorker: bool('RERUN_WORKER', true),
    rerunWorkerConcurrency: int('RERUN_WORKER_CONCURRENCY', 4, 1, 256),
    rerunPollIntervalMs: int('RERUN_POLL_INTERVAL_MS', 1000, 10, 600_000),
    rerunLeaseMarginSeconds: int('RERUN_LEASE_MARGIN_SECONDS', 30, 1, 3600),
    automationServerUrl: parseAutomationServerUrl(text('AUTOMATION_SERVER_URL', ''), problems),
    automationServerToken: text('AUTOMATION_SERVER_TOKEN', '') || null,
  };
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
  return Object.freeze(config);
}

/** `RERUN_ALLOWED_HOSTS`: a comma list of entries the outbound guard understands; a bad entry is refused. */
function parseAllowedHosts(raw: string, problems: string[]): readonly string[] {
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const entry of entries) {
    if (parseAllowedHostEntry(entry) === undefined) {
      problems.push(`RERUN_ALLOWED_HOSTS entry "${entry}" is not a host, host:port, *.suffix or IP address`);
    }
  }
  return Object.freeze(entries);
}

/** `AUTOMATION_SERVER_URL`: an http(s) URL without credentials, query or fragment; unset → null. */
function parseAutomationServerUrl(raw: string, problems: string[]): string | null {
  if (raw === '') return null;
  const url = URL.parse(raw);
  if (
    url === null ||
    !['http:', 'https:'].includes(url.protocol) ||
    url.username !== '' ||
    url.password !== '' ||
    url.search !== '' ||
    url.hash !== ''
  ) {
    problems.push('AUTOMATION_SERVER_URL must be an http(s) URL without credentials, query or fragment');
    return null;
  }
  return raw.replace(/\/+$/, '');
}

/** The original's keep-list (reference/original-rules.md "Lifecycle"). */
export const DEFAULT_NEUTRALIZE_KEEP_KEYS: readonly string[] = [
  'category',
  'type',
  'department',
  'status_code',
];

/** `NEUTRALIZE_KEEP_KEYS`: unset → the default; empty → keep nothing; a comma list or a JSON array of names. */
function parseKeepKeys(raw: string | undefined, problems: string[]): readonly string[] {
  if (raw === undefined) return DEFAULT_NEUTRALIZE_KEEP_KEYS;
  const trimmed = raw.trim();
  let list: unknown = trimmed === '' ? [] : trimmed.split(',').map((key) => key.trim());
  if (trimmed.startsWith('[')) {
    try {
      list = JSON.parse(trimmed);
    } catch {
      list = undefined;
    }
  }
  if (!Array.isArray(list) || !list.every((key) => typeof key === 'string' && key !== '')) {
    problems.push('NEUTRALIZE_KEEP_KEYS must be a comma list or a JSON array of non-empty key names');
    return DEFAULT_NEUTRALIZE_KEEP_KEYS;
  }
  return Object.freeze([...new Set(list as string[])]);
}

const INTERVAL_UNITS: Readonly<Record<string, number>> = {
  '': 1000,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** A duration in seconds or with a unit (s, m, h, d), at least 1 s and at most 30 days; `off` → null. */
function parseInterval(name: string, raw: string, problems: string[]): number | null {
  if (['off', 'false', 'none', '0'].includes(raw.toLowerCase())) return null;
  const match = /^(\d+)\s*([smhd]?)$/i.exec(raw);
  const ms = match ? Number(match[1]) * INTERVAL_UNITS[match[2]!.toLowerCase()]! : NaN;
  if (!Number.isSafeInteger(ms) || ms < 1000 || ms > 30 * 86_400_000) {
    problems.push(`${name} must be off or a duration from 1s to 30d (e.g. 3600, 15m, 1h, 1d), got "${raw}"`);
    return null;
  }
  return ms;
}

function parseTrustProxy(raw: string): boolean | number | string {
  const lower = raw.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  if (/^\d+$/.test(raw)) return Number(raw);
  return raw;
}

/** Accepts the original's JSON list (`["http://a","http://b"]`) and a plain comma list. */
function parseOrigins(raw: string, problems: string[]): readonly string[] {
  if (raw === '') return Object.freeze([]);
  let list: unknown = raw.split(',');
  if (raw.startsWith('[')) {
    try {
      list = JSON.parse(raw);
    } catch {
      problems.push('CORS_ORIGINS is not valid JSON');
      return Object.freeze([]);
    }
  }
  if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) {
    problems.push('CORS_ORIGINS must be a JSON array of strings or a comma-separated list');
    return Object.freeze([]);
  }
  const origins = list.map((origin) => origin.trim().replace(/\/$/, '')).filter((origin) => origin !== '');
  for (const origin of origins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      problems.push(`CORS_ORIGINS entry "${origin}" is not an origin like https://dashboard.example.com`);
    }
  }
  return Object.freeze(origins);
}
