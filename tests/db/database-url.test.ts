import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { MsSqlDriver } from '@mikro-orm/mssql';
import { BoundParameterPostgreSqlDriver } from '../../src/db/postgres-bound-parameters.ts';
import { UtcTextSqliteDriver } from '../../src/db/sqlite-utc-text.ts';
import { describe, expect, it } from 'vitest';
import { parseDatabaseUrl, redactDatabaseUrl } from '../../src/db/database-url.ts';
import { buildOrmConfig, migrationsPath } from '../../src/db/orm-config.ts';
import { entities } from '../../src/entities/index.ts';

describe('parseDatabaseUrl', () => {
  it('accepts relative and absolute SQLite paths and :memory:', () => {
    expect(parseDatabaseUrl('sqlite:data/app.db')).toEqual({
      dialect: 'sqlite',
      path: 'data/app.db',
      inMemory: false,
    });
    expect(parseDatabaseUrl('sqlite:./data/app.db')).toEqual({
      dialect: 'sqlite',
      path: './data/app.db',
      inMemory: false,
    });
    expect(parseDatabaseUrl('sqlite:/var/lib/pd/app.db')).toEqual({
      dialect: 'sqlite',
      path: '/var/lib/pd/app.db',
      inMemory: false,
    });
    expect(parseDatabaseUrl('sqlite:///var/lib/pd/app.db')).toEqual({
      dialect: 'sqlite',
      path: '/var/lib/pd/app.db',
      inMemory: false,
    });
    expect(parseDatabaseUrl('sqlite::memory:')).toEqual({
      dialect: 'sqlite',
      path: ':memory:',
      inMemory: true,
    });
  });

  it('parses PostgreSQL URLs (both schemes) and URL-decodes credentials', () => {
    expect(parseDatabaseUrl('postgresql://pd:s%40cr%3At%2F%C3%A6@db.example:6543/dashboard')).toEqual({
      dialect: 'postgresql',
      host: 'db.example',
      port: 6543,
      user: 'pd',
      password: 's@cr:t/æ',
      database: 'dashboard',
    });
    expect(parseDatabaseUrl('postgres://u:p@localhost/db')).toMatchObject({
      dialect: 'postgresql',
      port: 5432,
      database: 'db',
    });
  });

  it('parses SQL Server URLs with encryption options', () => {
    expect(
      parseDatabaseUrl('mssql://sa:P%40ss@sql.example:14330/pd?encrypt=true&trustServerCertificate=false'),
    ).toEqual({
      dialect: 'mssql',
      host: 'sql.example',
      port: 14330,
      user: 'sa',
      password: 'P@ss',
      database: 'pd',
      encrypt: true,
      trustServerCertificate: false,
    });
    expect(
      parseDatabaseUrl('sqlserver://sa:x@localhost/pd?encrypt=false&trustServerCertificate=true'),
    ).toMatchObject({
      dialect: 'mssql',
      port: 1433,
      encrypt: false,
      trustServerCertificate: true,
    });
    expect(parseDatabaseUrl('mssql://sa:x@localhost/pd')).toMatchObject({
      encrypt: true,
      trustServerCertificate: false,
    });
  });

  it('rejects unknown schemes and malformed URLs with a message listing the accepted forms', () => {
    expect(() => parseDatabaseUrl('mysql://u:p@h/db')).toThrow(
      /unsupported scheme "mysql:".*sqlite:.*postgresql:\/\/.*mssql:\/\//,
    );
    expect(() => parseDatabaseUrl('app.db')).toThrow(/Accepted forms/);
    expect(() => parseDatabaseUrl('sqlite:')).toThrow(/path is missing/);
    expect(() => parseDatabaseUrl('postgresql://u:p@host:5432/')).toThrow(/database name/);
    expect(() => parseDatabaseUrl('mssql://u:p@host/db?encrypt=maybe')).toThrow(/encrypt/);
    expect(() => parseDatabaseUrl('mssql://u:p@host/db?ssl=true')).toThrow(/unknown query parameter "ssl"/);
  });

  it('redacts passwords for logging', () => {
    expect(redactDatabaseUrl('postgresql://pd:secret@h:5432/db')).toBe('postgresql://pd:***@h:5432/db');
    expect(redactDatabaseUrl('sqlite:data/app.db')).toBe('sqlite:data/app.db');
  });
});

describe('buildOrmConfig', () => {
  it('configures SQLite with an absolute path, the explicit entity list and per-dialect migrations', async () => {
    const config = await buildOrmConfig('sqlite:some/dir/app.db', { connect: false });
    expect(config.driver).toBe(UtcTextSqliteDriver);
    expect(isAbsolute(config.dbName as string)).toBe(true);
    expect(config.dbName).toBe(join(process.cwd(), 'some/dir/app.db'));
    expect(existsSync(join(process.cwd(), 'some'))).toBe(false); // connect: false creates no folder
    expect(config.entities).toBe(entities);
    expect(config.allowGlobalContext).toBe(false);
    expect(config.migrations).toMatchObject({
      path: migrationsPath('sqlite'),
      snapshot: true,
      snapshotName: '.snapshot-sqlite',
      snapshotOnMigrate: false,
    });
    expect(isAbsolute(config.migrations?.path as string)).toBe(true);
  });

  it('configures PostgreSQL and SQL Server with a bounded pool, UTC and TLS options', async () => {
    const pg = await buildOrmConfig('postgresql://u:p%21@h:5433/db', { poolMax: 3, connect: false });
    expect(pg).toMatchObject({
      driver: BoundParameterPostgreSqlDriver,
      host: 'h',
      port: 5433,
      user: 'u',
      password: 'p!',
      dbName: 'db',
      forceUtcTimezone: true,
    });
    expect(pg.pool?.max).toBe(3);
    expect(pg.migrations?.path).toBe(migrationsPath('postgresql'));

    const ms = await buildOrmConfig('mssql://sa:x@h:1433/pd?encrypt=true&trustServerCertificate=true');
    expect(ms).toMatchObject({ driver: MsSqlDriver, dbName: 'pd', forceUtcTimezone: true });
    expect(ms.pool?.max).toBe(10);
    expect(ms.driverOptions).toEqual({
      options: { encrypt: true, trustServerCertificate: true, fallbackToDefaultDb: false },
    });
    expect(ms.pool).toMatchObject({ propagateCreateError: true });
    expect(ms.migrations?.snapshotName).toBe('.snapshot-mssql');
  });
});
