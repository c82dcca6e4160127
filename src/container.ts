/**
 * Composition root: builds the ORM, logger and services by hand (no DI library) for the server, the CLIs
 * and the tests, which all get the same wiring.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { EntityManager } from '@mikro-orm/core';
import type { RequestHandler } from 'express';
import type { Config } from './config/config.ts';
import { createOrm, closeOrm, migrateToLatest, ormDialect, type Orm } from './db/orm.ts';
import { createLogger, type Logger } from './logger.ts';
import { ApiKeyUsageRecorder } from './services/api-key-usage.ts';
import { AuditRecorder } from './services/audit-recorder.ts';
import {
  DatabaseRateLimitStore,
  MemoryRateLimitStore,
  type RateLimitStore,
} from './services/rate-limit-store.ts';
import { ApiKeyService } from './services/api-key.service.ts';
import { DashboardService } from './services/dashboard.service.ts';
import { JobLeases } from './services/job-lease.ts';
import { LifecycleService } from './services/lifecycle.service.ts';
import { ProcessFieldsService } from './services/process-fields.service.ts';
import { ProcessService } from './services/process.service.ts';
import { RetentionCleanup } from './services/retention-cleanup.ts';
import { RerunQueue } from './reruns/rerun-queue.ts';
import { RerunWorker } from './reruns/rerun-worker.ts';
import { RerunService } from './services/rerun.service.ts';
import { RunSearchService } from './services/run-search.service.ts';
import { RunService } from './services/run.service.ts';
import { StepRunService } from './services/step-run.service.ts';
import { KeptRuns } from './services/kept-runs.ts';
import { StepService } from './services/step.service.ts';

export interface Container {
  readonly config: Config;
  readonly logger: Logger;
  readonly orm: Orm;
  /**
   * The EntityManager of the current request (forked on first use, shared by everything the request
   * does), or a fresh fork outside a request.
   */
  readonly em: () => EntityManager;
  /** Middleware opening a request's scope for `em()`; forks nothing until the request needs the database. */
  readonly requestScope: RequestHandler;
  readonly apiKeys: ApiKeyService;
  readonly apiKeyUsage: ApiKeyUsageRecorder;
  /** The audit trail's batched writer (src/middleware/audit-trail.ts queues an entry per request). */
  readonly audit: AuditRecorder;
  /** Request counters of the rate limits; undefined when `RATE_LIMITS=off`. */
  readonly rateLimitStore: RateLimitStore | undefined;
  readonly processes: ProcessService;
  readonly steps: StepService;
  readonly runs: RunService;
  readonly runSearch: RunSearchService;
  readonly processFields: ProcessFieldsService;
  readonly stepRuns: StepRunService;
  readonly dashboards: DashboardService;
  readonly lifecycle: LifecycleService;
  /** The scheduled retention cleanup; `server.ts` starts it when `RETENTION_CLEANUP_INTERVAL` is set. */
  readonly retentionCleanup: RetentionCleanup;
  readonly reruns: RerunService;
  /** This process's rerun worker; `server.ts` starts it when `RERUN_WORKER` is on, `worker.ts` always. */
  readonly rerunWorker: RerunWorker;
  readonly startedAt: Date;
  close(): Promise<void>;
}

export async function createContainer(
  config: Config,
  options: { logger?: Logger; migrate?: boolean } = {},
): Promise<Container> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const orm = await createOrm(config.databaseUrl, {
    debug: config.logLevel === 'debug',
    poolMax: config.dbPoolSize,
    acquireTimeoutMs: config.dbAcquireTimeoutMs,
    sqliteReadThreads: config.sqliteReadThreads,
  });
  if (options.migrate ?? true) {
    const applied = await migrateToLatest(orm).catch(async (error: unknown) => {
      await closeOrm(orm).catch(() => undefined);
      throw error;
    });
    if (applied.length > 0) logger.info('applied migrations', { migrations: applied.map((m) => m.name) });
  }
  const scopes = new AsyncLocalStorage<{ em?: EntityManager }>();
  const em = () => {
    const scope = scopes.getStore();
    if (scope === undefined) return orm.em.fork();
    return (scope.em ??= orm.em.fork());
  };
  const requestScope: RequestHandler = (_req, _res, next) => scopes.run({}, next);
  const apiKeyUsage = new ApiKeyUsageRecorder({ em, logger, flushIntervalMs: config.usageFlushIntervalMs });
  const audit = new AuditRecorder({
    em: () => orm.em.fork(),
    logger,
    flushIntervalMs: config.auditFlushIntervalMs,
    maxQueued: config.auditMaxQueued,
  });
  const rateLimitStore = !config.rateLimits
    ? undefined
    : config.rateLimitStore === 'database'
      ? new DatabaseRateLimitStore(() => orm.em.fork())
      : new MemoryRateLimitStore();
  const dialect = ormDialect(orm);
  const processes = new ProcessService({ dialect });
  // Runs as this server last wrote them, for the next report on them (PostgreSQL, kept-runs.ts).
  const keptRuns = new KeptRuns();
  const runs = new RunService({ dialect, keptRuns });
  const lifecycle = new LifecycleService({ dialect, processes, runs, keepKeys: config.neutralizeKeepKeys });
  const retentionCleanup = new RetentionCleanup({
    em: () => orm.em.fork(),
    lifecycle,
    leases: new JobLeases(() => orm.em.fork()),
    logger,
    batchSize: config.retentionCleanupBatchSize,
    leaseMs: config.retentionCleanupLeaseSeconds * 1000,
    audit,
  });
  const rerunQueue = new RerunQueue({
    em: () => orm.em.fork(),
    dialect,
    leaseMarginSeconds: config.rerunLeaseMarginSeconds,
  });
  const rerunWorker = new RerunWorker({
    em: () => orm.em.fork(),
    queue: rerunQueue,
    settings: config,
    logger,
    concurrency: config.rerunWorkerConcurrency,
    pollIntervalMs: config.rerunPollIntervalMs,
  });
  return {
    config,
    logger,
    orm,
    em,
    requestScope,
    apiKeys: new ApiKeyService({ cacheTtlSeconds: config.authCacheTtlSeconds, logger }),
    apiKeyUsage,
    audit,
    rateLimitStore,
    processes,
    steps: new StepService(),
    runs,
    runSearch: new RunSearchService({ dialect }),
    processFields: new ProcessFieldsService({ dialect }),
    stepRuns: new StepRunService({ keptRuns }),
    dashboards: new DashboardService({ dialect, processes }),
    lifecycle,
    retentionCleanup,
    reruns: new RerunService({ settings: config, queue: rerunQueue, onQueued: () => rerunWorker.wake() }),
    rerunWorker,
    startedAt: new Date(),
    close: async () => {
      await rerunWorker.stop(config.shutdownTimeoutMs);
      await retentionCleanup.stop();
      await apiKeyUsage.close();
      await audit.close();
      await rateLimitStore?.close();
      await closeOrm(orm);
    },
  };
}
