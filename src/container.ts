/**
 * Composition root: builds the ORM, logger and services by hand (no DI library) for the server, the CLIs
 * and the tests, which all get the same wiring.
 */
import { RequestContext, type EntityManager } from '@mikro-orm/core';
import type { Config } from './config/config.ts';
import { createOrm, closeOrm, migrateToLatest, type Orm } from './db/orm.ts';
import { createLogger, type Logger } from './logger.ts';
import { ApiKeyUsageRecorder } from './services/api-key-usage.ts';
import { ApiKeyService } from './services/api-key.service.ts';

export interface Container {
  readonly config: Config;
  readonly logger: Logger;
  readonly orm: Orm;
  /** The EntityManager of the current request (MikroORM's RequestContext), or a fresh fork outside one. */
  readonly em: () => EntityManager;
  readonly apiKeys: ApiKeyService;
  readonly apiKeyUsage: ApiKeyUsageRecorder;
  readonly startedAt: Date;
  close(): Promise<void>;
}

export async function createContainer(
  config: Config,
  options: { logger?: Logger; migrate?: boolean } = {},
): Promise<Container> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const orm = await createOrm(config.databaseUrl, { debug: config.logLevel === 'debug' });
  if (options.migrate ?? true) {
    const applied = await migrateToLatest(orm);
    if (applied.length > 0) logger.info('applied migrations', { migrations: applied.map((m) => m.name) });
  }
  const em = () => RequestContext.getEntityManager() ?? orm.em.fork();
  const apiKeyUsage = new ApiKeyUsageRecorder({ em, logger, flushIntervalMs: config.usageFlushIntervalMs });
  return {
    config,
    logger,
    orm,
    em,
    apiKeys: new ApiKeyService({ cacheTtlSeconds: config.authCacheTtlSeconds }),
    apiKeyUsage,
    startedAt: new Date(),
    close: async () => {
      await apiKeyUsage.close();
      await closeOrm(orm);
    },
  };
}
