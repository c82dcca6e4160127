/**
 * PostgreSQL's trigram indexes (src/db/postgres-trigram-indexes.ts) serve the queries they were made for:
 * the `entity_name` "contains" filter of `GET /runs` and the search of `GET /runs/search`, totals and pages,
 * as the services build them. 20,000 runs are seeded and analysed; for a selective text (one name of 320,
 * a digit sequence in few ids) the planner then chooses the trigram index by itself — which it can only if
 * the index's expression is exactly the query's. The other databases have no trigram index: the test says
 * so too.
 */
import type { SqlEntityManager } from '@mikro-orm/sql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ormDialect } from '../../src/db/orm.ts';
import { trigramIndexName } from '../../src/db/postgres-trigram-indexes.ts';
import { runCountQuery, runPageQuery } from '../../src/db/run-queries.ts';
import {
  runSearchCountQuery,
  runSearchPageQuery,
  SEARCHED_RUN_COLUMNS,
  type RunSearchQuery,
} from '../../src/db/run-search-queries.ts';
import { RUN_METADATA_SCHEMA, seedRuns } from '../bench/seed-runs.ts';
import { startTestServer, type TestServer } from '../support/app.ts';

/** One first and last name of the seeded 16 × 20: about 1 run in 320. */
const RARE_NAME = 'åse æbelø';

const SEARCH: RunSearchQuery = {
  text: '0101',
  fields: SEARCHED_RUN_COLUMNS.map((column) => ({ column })),
  offset: 0,
  limit: 50,
};
/** A sagsnummer of process 1 (seeded `S2026-` and the run's sequence number): one run. */
const SEARCH_IN_PROCESS: RunSearchQuery = {
  text: 's2026-000011',
  process_id: 1,
  fields: [...SEARCH.fields, ...Object.keys(RUN_METADATA_SCHEMA).map((metaField) => ({ metaField }))],
  indexedMetaFields: new Set(Object.keys(RUN_METADATA_SCHEMA)),
  offset: 0,
  limit: 50,
};
const PAGE = { order: { column: 'created_at' as const }, direction: 'desc' as const, offset: 0, limit: 50 };

describe('trigram indexes for "contains" searches', () => {
  let server: TestServer;
  let em: SqlEntityManager;

  beforeAll(async () => {
    server = await startTestServer();
    em = server.container.orm.em.fork();
  });
  afterAll(() => server?.close());

  /** The indexes of process_run and process_run_field whose name says trigram. */
  async function trigramIndexes(): Promise<string[]> {
    const dialect = ormDialect(server.container.orm);
    const sql =
      dialect === 'postgresql'
        ? "select indexname as name from pg_indexes where tablename like 'process_run%' and indexname like '%trgm%'"
        : dialect === 'sqlite'
          ? "select name from sqlite_master where type = 'index' and tbl_name = 'process_run' and name like '%trgm%'"
          : "select name from sys.indexes where object_id = object_id('process_run') and name like '%trgm%'";
    return (await em.getConnection().execute<{ name: string }[]>(sql)).map((row) => row.name).sort();
  }

  if (process.env['TEST_DATABASE_URL']?.startsWith('postgres') === true) {
    beforeAll(async () => {
      await seedRuns(server.container.orm, 20_000);
      await em.getConnection().execute('analyze process_run, process_run_field');
    });

    it("exist on PostgreSQL for entity_id, entity_name and the declared run fields' values", async () => {
      expect(await trigramIndexes()).toEqual([
        trigramIndexName('process_run', 'entity_id'),
        trigramIndexName('process_run', 'entity_name'),
        trigramIndexName('process_run_field', 'value'),
      ]);
    });

    const formatted = (statement: { sql: string; params: unknown[] }) =>
      em.getPlatform().formatQuery(statement.sql, statement.params);
    it.each([
      [
        'the entity_name filter: total',
        () => runCountQuery(em, 'postgresql', { entity_name: RARE_NAME }).getFormattedQuery(),
      ],
      [
        'the entity_name filter: page',
        () =>
          runPageQuery(em, 'postgresql', {
            filters: { entity_name: RARE_NAME },
            ...PAGE,
          }).getFormattedQuery(),
      ],
      ['the search: total', () => formatted(runSearchCountQuery(em, 'postgresql', SEARCH))],
      ['the search: page', () => runSearchPageQuery(em, 'postgresql', SEARCH).getFormattedQuery()],
      [
        'the search in a process and its declared fields: total',
        () => formatted(runSearchCountQuery(em, 'postgresql', { ...SEARCH_IN_PROCESS, textIndex: true })),
      ],
      [
        'the search in a process and its declared fields: page of the matches read first',
        () =>
          runSearchPageQuery(em, 'postgresql', { ...SEARCH_IN_PROCESS, textIndex: true }).getFormattedQuery(),
      ],
    ])('serve %s', async (_name, query) => {
      const sql = query();
      const plan = await em
        .getConnection()
        .execute<{ 'QUERY PLAN': string }[]>(`explain (analyze, costs off, timing off) ${sql}`);
      const text = plan.map((row) => row['QUERY PLAN']).join('\n');
      expect(text).toMatch(/_trgm_index/);
      expect(text).not.toMatch(/Seq Scan on process_run/);
    });
  } else {
    it('do not exist on this database (SQLite and SQL Server have no trigram index)', async () => {
      expect(await trigramIndexes()).toEqual([]);
    });
  }
});
