/**
 * `node tests/bench/query-plans.ts <database-url>`: the plans and times of the hot queries, as Markdown
 * (docs/query-plans.md is its output at 1,000,000 runs). An empty database is migrated and seeded first
 * with BENCH_RUNS runs (default 1,000,000; seed-runs.ts, 5 step runs each); PostgreSQL is then vacuumed
 * and analysed, as autovacuum would soon do. The SQL is what the services send: the same builders.
 *
 *   node tests/bench/query-plans.ts sqlite:/tmp/plans.sqlite
 *   node tests/bench/query-plans.ts postgresql://pd_test:pd_test@127.0.0.1:5432/pd_test_plans
 *
 * PostgreSQL: `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF)`; SQLite: `EXPLAIN QUERY PLAN`. Each time is one
 * run of the query right after its plan (warm cache).
 */
import type { SqlEntityManager } from '@mikro-orm/sql';
import { runStatisticsQuery, successRatesQuery } from '../../src/db/dashboard-queries.ts';
import { countedTotalSql, countsOfProcessSql } from '../../src/db/run-counts.ts';
import { closeOrm, createOrm, migrateToLatest, ormDialect } from '../../src/db/orm.ts';
import {
  hasUnknownValuesSql,
  unvaluedRunsPageSql,
  valuedRunsCountSql,
  valuedRunsPageSql,
} from '../../src/db/run-field-order.ts';
import { indexedMetaCountSql } from '../../src/db/run-fields.ts';
import { runCountQuery, runPageQuery, type SqlFragment } from '../../src/db/run-queries.ts';
import {
  distinctMetaValuesQueries,
  runSearchCountQuery,
  runSearchPageQuery,
  SEARCHED_RUN_COLUMNS,
} from '../../src/db/run-search-queries.ts';
import { ProcessRun } from '../../src/entities/index.ts';
import { RUN_METADATA_SCHEMA, seedRuns } from './seed-runs.ts';

const url = process.argv[2];
if (url === undefined) throw new Error('usage: node tests/bench/query-plans.ts <database-url>');
const orm = await createOrm(url, { poolMax: 2 });
try {
  await migrateToLatest(orm);
  const dialect = ormDialect(orm);
  const em = orm.em.fork() as SqlEntityManager;
  const connection = em.getConnection();
  let runs = await em.count(ProcessRun, {});
  if (runs === 0) {
    runs = Number(process.env['BENCH_RUNS'] ?? 1_000_000);
    await seedRuns(orm, runs);
    if (dialect === 'postgresql') {
      await connection.execute(
        'vacuum analyze process, process_step, process_run, process_step_run, process_run_count, process_run_field',
      );
    }
  }
  const page = { order: { column: 'created_at' as const }, direction: 'desc' as const, offset: 0, limit: 50 };
  const aarhus = new Map([['kommune', ['Aarhus']]]);
  const processIds = (await connection.execute<{ id: number }[]>('select id from process')).map((row) =>
    Number(row.id),
  );
  const [third] = await connection.execute<{ id: number }[]>(
    'select id from process_step where process_id = 1 order by "index" limit 1 offset 2',
  );
  const failedStep = Number(third?.id);
  const everyProcess = { processIds, fields: new Set(['kommune']) };
  const processOne = { processIds: [1], fields: new Set(['kommune']) };
  const declared = Object.keys(RUN_METADATA_SCHEMA);
  const search = (text: string) => ({
    text,
    fields: SEARCHED_RUN_COLUMNS.map((column) => ({ column })),
    offset: 0,
    limit: 50,
  });
  /** Search in process 1 and its declared fields; `indexed`: as the service searches on PostgreSQL. */
  const searchInProcess = (text: string, indexed: boolean) => ({
    ...search(text),
    process_id: 1,
    fields: [...search(text).fields, ...declared.map((metaField) => ({ metaField }))],
    indexedMetaFields: indexed ? new Set(declared) : undefined,
  });
  const fieldOrder = {
    processId: 1,
    field: 'sagsnummer',
    statuses: [],
    direction: 'asc' as const,
    offset: 0,
    limit: 50,
  };
  const formatted = (statement: SqlFragment) => em.getPlatform().formatQuery(statement.sql, statement.params);
  const cases: [string, string][] = [
    ['list runs, no filter: total from the run counts', formatted(countedTotalSql({}))],
    [
      'list runs, no filter: total by counting the runs (what any other filter does)',
      runCountQuery(em, dialect, {}).getFormattedQuery(),
    ],
    [
      'list runs, no filter: first page',
      runPageQuery(em, dialect, { filters: {}, ...page }).getFormattedQuery(),
    ],
    [
      'list runs, process_id=1&status=failed: total from the run counts',
      formatted(countedTotalSql({ process_id: 1, statuses: ['failed'] })),
    ],
    [
      'list runs, status=failed: total by counting the runs',
      runCountQuery(em, dialect, { statuses: ['failed'] }).getFormattedQuery(),
    ],
    [
      'list runs, status=failed: first page',
      runPageQuery(em, dialect, { filters: { statuses: ['failed'] }, ...page }).getFormattedQuery(),
    ],
    [
      'list runs, meta_filter=kommune:Aarhus: total',
      runCountQuery(em, dialect, { meta: aarhus }).getFormattedQuery(),
    ],
    [
      'list runs, meta_filter=kommune:Aarhus: first page',
      runPageQuery(em, dialect, { filters: { meta: aarhus }, ...page }).getFormattedQuery(),
    ],
    [
      'list runs, process_id=1&meta_filter=kommune:Aarhus: total',
      runCountQuery(em, dialect, { process_id: 1, meta: aarhus }).getFormattedQuery(),
    ],
    [
      'list runs, meta_filter=kommune:Aarhus: total counted in process_run_field alone (what the service sends)',
      formatted(indexedMetaCountSql(em.getPlatform(), processIds, aarhus)),
    ],
    [
      'list runs, process_id=1&meta_filter=kommune:Aarhus: total counted in process_run_field alone',
      formatted(indexedMetaCountSql(em.getPlatform(), [1], aarhus)),
    ],
    [
      'list runs, meta_filter=kommune:Aarhus from process_run_field, joined to the runs: total (with any other filter)',
      runCountQuery(em, dialect, { meta: aarhus, metaIndex: everyProcess }).getFormattedQuery(),
    ],
    [
      'list runs, meta_filter=kommune:Aarhus from process_run_field: first page',
      runPageQuery(em, dialect, {
        filters: { meta: aarhus, metaIndex: everyProcess },
        ...page,
      }).getFormattedQuery(),
    ],
    [
      'list runs, meta_filter=kommune:Aarhus probing process_run_field (a common value): first page',
      runPageQuery(em, dialect, {
        filters: { meta: aarhus, metaIndex: { ...everyProcess, probe: true } },
        ...page,
      }).getFormattedQuery(),
    ],
    [
      'list runs, process_id=1&meta_filter=kommune:Aarhus from process_run_field, joined to the runs: total',
      runCountQuery(em, dialect, { process_id: 1, meta: aarhus, metaIndex: processOne }).getFormattedQuery(),
    ],
    [
      'list runs, process_id=1&meta_filter=kommune:Aarhus&status=failed from process_run_field: first page',
      runPageQuery(em, dialect, {
        filters: { process_id: 1, statuses: ['failed'], meta: aarhus, metaIndex: processOne },
        ...page,
      }).getFormattedQuery(),
    ],
    [
      `list runs, process_id=1&failed_at=${failedStep} (its third step): total`,
      runCountQuery(em, dialect, { process_id: 1, failed_at: failedStep }).getFormattedQuery(),
    ],
    [
      `list runs, process_id=1&failed_at=${failedStep}: first page`,
      runPageQuery(em, dialect, {
        filters: { process_id: 1, failed_at: failedStep },
        ...page,
      }).getFormattedQuery(),
    ],
    [
      'filter metadata of process 1 (4 declared fields) from process_run_field',
      distinctMetaValuesQueries(em, dialect, 1, declared, new Set(declared))
        .map((statement) => formatted(statement))
        .join(';\n'),
    ],
    [
      'filter metadata of process 1 (4 declared fields) from the JSON of its runs',
      distinctMetaValuesQueries(em, dialect, 1, declared)
        .map((statement) => formatted(statement))
        .join(';\n'),
    ],
    [
      'list runs, entity_name=hansen (contains): total',
      runCountQuery(em, dialect, { entity_name: 'hansen' }).getFormattedQuery(),
    ],
    [
      'list runs, entity_name=hansen (contains): first page',
      runPageQuery(em, dialect, { filters: { entity_name: 'hansen' }, ...page }).getFormattedQuery(),
    ],
    [
      'list runs, entity_name=Åse Æbelø (contains, one name of 320): total',
      runCountQuery(em, dialect, { entity_name: 'Åse Æbelø' }).getFormattedQuery(),
    ],
    [
      'list runs, entity_name=Æbelø (contains, rarer): total',
      runCountQuery(em, dialect, { entity_name: 'Æbelø' }).getFormattedQuery(),
    ],
    [
      'list runs, entity_name=hansen: total narrowed by the trigram index (SQLite; what the service sends)',
      runCountQuery(em, dialect, { entity_name: 'hansen', entityNameIndex: true }).getFormattedQuery(),
    ],
    [
      'list runs, entity_name=Åse Æbelø: total narrowed by the trigram index (SQLite; what the service sends)',
      runCountQuery(em, dialect, { entity_name: 'Åse Æbelø', entityNameIndex: true }).getFormattedQuery(),
    ],
    [
      'list runs, entity_name=Åse Æbelø: first page from the trigram index (SQLite; a rare name)',
      runPageQuery(em, dialect, {
        filters: { entity_name: 'Åse Æbelø', entityNameIndex: true },
        ...page,
      }).getFormattedQuery(),
    ],
    ['search q=hansen: total', formatted(runSearchCountQuery(em, dialect, search('hansen')))],
    [
      'search q=hansen: total narrowed by the trigram index (SQLite; what the service sends)',
      formatted(runSearchCountQuery(em, dialect, { ...search('hansen'), textIndex: true })),
    ],
    [
      'search q=0101: total narrowed by the trigram index (SQLite; what the service sends)',
      formatted(runSearchCountQuery(em, dialect, { ...search('0101'), textIndex: true })),
    ],
    ['search q=hansen: first page', runSearchPageQuery(em, dialect, search('hansen')).getFormattedQuery()],
    [
      'search q=aarhus&process_id=1: total reading the JSON of the declared fields of every run (before)',
      formatted(runSearchCountQuery(em, dialect, searchInProcess('aarhus', false))),
    ],
    [
      'search q=aarhus&process_id=1: total narrowed by the trigram index of the meta values (SQLite; what the service sends)',
      formatted(runSearchCountQuery(em, dialect, { ...searchInProcess('aarhus', false), textIndex: true })),
    ],
    [
      'search q=aarhus&process_id=1: total from the trigram index of process_run_field (PostgreSQL; what the service sends)',
      formatted(runSearchCountQuery(em, dialect, { ...searchInProcess('aarhus', true), textIndex: true })),
    ],
    [
      'search q=aarhus&process_id=1: first page walking the runs in order (a common text; what the service sends)',
      runSearchPageQuery(
        em,
        dialect,
        searchInProcess('aarhus', dialect === 'postgresql'),
      ).getFormattedQuery(),
    ],
    [
      'search q=S2026-000042&process_id=1: first page of the matches read first (a rare text; what the service sends)',
      runSearchPageQuery(em, dialect, {
        ...searchInProcess('S2026-000042', dialect === 'postgresql'),
        textIndex: true,
      }).getFormattedQuery(),
    ],
    [
      'search q=0101 (an entity_id prefix): total',
      formatted(runSearchCountQuery(em, dialect, search('0101'))),
    ],
    [
      'list runs, process_id=1&order_by=meta.sagsnummer: first page sorting the JSON (a field the process does not index)',
      runPageQuery(em, dialect, {
        filters: { process_id: 1 },
        ...page,
        order: { metaField: 'sagsnummer' },
        direction: 'asc',
      }).getFormattedQuery(),
    ],
    [
      'list runs, process_id=1&order_by=meta.sagsnummer: does the index hold a value it does not know',
      formatted(hasUnknownValuesSql(em.getPlatform(), 1, 'sagsnummer')),
    ],
    [
      'list runs, process_id=1&order_by=meta.sagsnummer: first page in the index order (what the service sends)',
      formatted(valuedRunsPageSql(em.getPlatform(), dialect, fieldOrder)),
    ],
    [
      'list runs, process_id=1&status=failed&order_by=meta.sagsnummer&sort_direction=desc: page 20 in the index order',
      formatted(
        valuedRunsPageSql(em.getPlatform(), dialect, {
          ...fieldOrder,
          statuses: ['failed'],
          direction: 'desc',
          offset: 950,
        }),
      ),
    ],
    [
      'list runs, process_id=1&order_by=meta.sagsnummer: the runs with a value, counted (a page past them)',
      formatted(valuedRunsCountSql(em.getPlatform(), fieldOrder)),
    ],
    [
      'list runs, process_id=1&order_by=meta.sagsnummer: the runs without a value (the last pages)',
      formatted(unvaluedRunsPageSql(em.getPlatform(), dialect, fieldOrder)),
    ],
    ['dashboards: run counts of process 1', formatted(countsOfProcessSql(1))],
    [
      'dashboards: statistics of process 1 by counting its runs (a process without run counts)',
      runStatisticsQuery(em, dialect, 1).getFormattedQuery(),
    ],
    [
      'dashboard: success rates of the newest 1000 runs of process 1',
      successRatesQuery(em, dialect, 1, 1000).getFormattedQuery(),
    ],
  ];
  const { version } = (
    await connection.execute<{ version: string }[]>(
      dialect === 'sqlite'
        ? 'select sqlite_version() as version'
        : "select current_setting('server_version') as version",
    )
  )[0];
  const out: string[] = [`## ${dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'} ${version}, ${runs} runs\n`];
  // The trigram index narrowing is SQLite's (PostgreSQL's own trigram indexes serve the cases above), the
  // search in process_run_field's values PostgreSQL's.
  const shown = cases.filter(
    ([title]) => !title.includes(dialect === 'sqlite' ? '(PostgreSQL;' : '(SQLite;'),
  );
  for (const [title, sql] of shown) {
    const explain =
      dialect === 'sqlite'
        ? `explain query plan ${sql}`
        : `explain (analyze, costs off, timing off, summary off) ${sql}`;
    const rows = await connection.execute<Record<string, unknown>[]>(explain);
    const started = performance.now();
    await connection.execute(sql);
    const ms = performance.now() - started;
    const plan =
      dialect === 'sqlite'
        ? rows.map((row) => String(row['detail'])).join('\n')
        : rows.map((row) => String(row['QUERY PLAN'])).join('\n');
    out.push(`### ${title} — ${ms.toFixed(1)} ms\n\n\`\`\`sql\n${sql}\n\`\`\`\n\n\`\`\`\n${plan}\n\`\`\`\n`);
  }
  console.log(out.join('\n'));
} finally {
  await closeOrm(orm);
}
