/**
 * SQL Server cannot run here, so its dialect is checked offline: the generated SQL (values rendered by
 * MikroORM, which inlines parameters) and the checked-in migrations.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeOrm, createOrm, type Orm } from '../../src/db/orm.ts';
import { migrationsPath } from '../../src/db/orm-config.ts';
import { Process, ProcessRun } from '../../src/entities/index.ts';
import { runCountQuery, runPageQuery } from '../../src/db/run-queries.ts';
import type { SqlEntityManager } from '@mikro-orm/sql';

describe('SQL Server dialect (offline)', () => {
  let orm: Orm;

  beforeAll(async () => {
    orm = await createOrm('mssql://offline:offline@127.0.0.1:1/offline', { connect: false });
  });

  afterAll(async () => {
    if (orm) await closeOrm(orm);
  });

  it('sends JSON and strings as N-prefixed (Unicode) literals and dates as UTC with milliseconds', () => {
    const sql = orm.em
      .fork()
      .createQueryBuilder(ProcessRun)
      .insert({
        process: 1,
        entity_id: 'Ærø-1',
        status: 'pending',
        meta: { note: 'æøå 🚀' },
        started_at: new Date('2024-01-02T03:04:05.678Z'),
      })
      .getFormattedQuery();
    expect(sql).toContain(`N'{"note":"æøå 🚀"}'`);
    expect(sql).toContain(`N'Ærø-1'`);
    expect(sql).toContain(`'2024-01-02 03:04:05.678'`);
    expect(sql).not.toMatch(/[^N]'\{"note"/);
  });

  it('binds the text of raw list filters and orderings as N-prefixed literals (entity_name, meta_filter, meta sort)', () => {
    const em = orm.em.fork() as unknown as SqlEntityManager;
    const filters = { entity_name: 'Łukasz 🚀', meta: new Map([['område', ['Ærø 🚀', 'Žižkov']]]) };
    const page = runPageQuery(em, 'mssql', {
      filters,
      order: { metaField: 'område' },
      direction: 'asc',
      offset: 0,
      limit: 50,
    }).getFormattedQuery();
    const count = runCountQuery(em, 'mssql', filters).getFormattedQuery();
    for (const sql of [page, count]) {
      expect(sql).toContain(`like N'%łukasz 🚀%'`);
      expect(sql).toContain(`json_value(r.meta, N'$."område"') in (N'Ærø 🚀', N'Žižkov')`);
      // No string literal without the N prefix except the statuses and SQL keywords' own text.
      expect(sql).not.toMatch(/[^N]'%/);
    }
    expect(page).toContain(`order by (case when json_value(r.meta, N'$."område"') is null`);
  });

  it('uses the Unicode JSON type for every JSON property (including future ones declared with p.json())', () => {
    for (const meta of orm.getMetadata().getAll().values()) {
      for (const prop of meta.props) {
        if (prop.columnTypes?.[0] === 'nvarchar(max)' && prop.customType) {
          expect(prop.customType.constructor.name, `${meta.className}.${prop.name}`).toBe('UnicodeJsonType');
        }
      }
    }
    expect(orm.getMetadata().get(Process).properties.meta?.customType?.constructor.name).toBe(
      'UnicodeJsonType',
    );
  });

  it('has migrations that use only SQL Server types and no cascading foreign keys', () => {
    const dir = migrationsPath('mssql');
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const up = readFileSync(join(dir, file), 'utf8').split(/override down\(\)/)[0] ?? '';
      const statements = [...up.matchAll(/this\.addSql\(`([\s\S]*?)`\);/g)].map((m) => m[1] ?? '');
      // A migration with nothing to do on SQL Server says so with an empty up(); one that only runs
      // statements of src/db (rendered for `make check-tsql` in mssql-queries.ts) imports them; any other
      // must be read.
      const fromSrcDb =
        /from '\.\.\/\.\.\/src\/db\/[\w-]+\.ts'/.test(up) && /for \(const \{ sql, params \} of/.test(up);
      if (!/override up\(\): void \| Promise<void> \{\}/.test(up) && !fromSrcDb)
        expect(statements.length, file).toBeGreaterThan(0);
      for (const sql of statements) {
        expect(sql, file).not.toMatch(
          /(?<![n\w])varchar\(|\btext\b|\bjsonb?\b|\btimestamptz\b|\bboolean\b|\bserial\b|\bdatetime\b/i,
        );
        expect(sql, file).not.toMatch(/\bcascade\b|set null|`/i);
      }
      const all = statements.join('\n');
      if (file.endsWith('_initial.ts')) {
        expect(all).toContain('[meta] nvarchar(max) not null');
        expect(all).toContain('[created_at] datetime2 not null');
        expect(all).toMatch(/\[is_neutralized\] bit not null/);
        expect(all).toContain(
          'create unique index [process_steps_process_id_index_live_unique] on [process_steps] ([process_id], [index]) where [deleted_at] is null',
        );
      }
    }
  });
});
