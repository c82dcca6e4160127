import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_DATABASE_URL, loadConfig } from '../../src/config/config.ts';

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8000,
      databaseUrl: DEFAULT_DATABASE_URL,
      corsOrigins: [],
      logLevel: 'info',
      bodyLimitBytes: 1024 * 1024,
      validateResponses: 'fail',
      bootstrapAdminKey: true,
      trustProxy: false,
      dbPoolSize: 10,
      sqliteReadThreads: 2,
      dbAcquireTimeoutMs: 5000,
      maxConcurrentRequests: 64,
      maxQueuedRequests: 1024,
      queueTimeoutMs: 500,
      maxConcurrentOverviews: 2,
      maxQueuedOverviews: 32,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("reads CORS_ORIGINS both as the original's JSON list and as a comma list", () => {
    expect(
      loadConfig({ CORS_ORIGINS: '["http://localhost:3000","https://dashboard.example.com/"]' }).corsOrigins,
    ).toEqual(['http://localhost:3000', 'https://dashboard.example.com']);
    expect(loadConfig({ CORS_ORIGINS: 'http://a.example, http://b.example' }).corsOrigins).toEqual([
      'http://a.example',
      'http://b.example',
    ]);
  });

  it('names every invalid variable in one error', () => {
    const attempt = () =>
      loadConfig({
        API_PORT: '70000',
        LOG_LEVEL: 'loud',
        DATABASE_URL: 'mysql://x',
        CORS_ORIGINS: '[1]',
        DB_POOL_SIZE: '0',
        SQLITE_READ_THREADS: '-1',
        MAX_CONCURRENT_REQUESTS: 'many',
        QUEUE_TIMEOUT_MS: '-1',
        MAX_CONCURRENT_OVERVIEWS: '0',
        MAX_QUEUED_OVERVIEWS: 'some',
      });
    expect(attempt).toThrow(ConfigError);
    for (const variable of [
      'API_PORT',
      'LOG_LEVEL',
      'DATABASE_URL',
      'CORS_ORIGINS',
      'DB_POOL_SIZE',
      'SQLITE_READ_THREADS',
      'MAX_CONCURRENT_REQUESTS',
      'QUEUE_TIMEOUT_MS',
      'MAX_CONCURRENT_OVERVIEWS',
      'MAX_QUEUED_OVERVIEWS',
    ]) {
      expect(attempt).toThrow(new RegExp(`- ${variable} `));
    }
  });

  it('reads SQLITE_READ_THREADS, 0 for none', () => {
    expect(loadConfig({ SQLITE_READ_THREADS: '0' }).sqliteReadThreads).toBe(0);
    expect(loadConfig({ SQLITE_READ_THREADS: '4' }).sqliteReadThreads).toBe(4);
  });

  it('reads TRUST_PROXY as Express does: boolean, hop count or addresses', () => {
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.1' }).trustProxy).toBe('10.0.0.0/8, 192.168.1.1');
  });

  it('accepts every supported database URL form', () => {
    for (const url of [
      'sqlite::memory:',
      'sqlite:data/x.sqlite',
      'postgresql://u:p@127.0.0.1:5432/db',
      'postgres://u:p@127.0.0.1/db',
      'mssql://sa:secret@db:1433/ProcessDashboard?encrypt=true',
    ]) {
      expect(loadConfig({ DATABASE_URL: url }).databaseUrl).toBe(url);
    }
  });
});
