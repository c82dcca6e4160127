/**
 * `node src/db/mssql-queries.ts <out.sql>`: renders, offline (no SQL Server here), the T-SQL that MikroORM
 * emits for the queries the service runs, so `tsql-check.py` can parse them (`make check-tsql`). Add a
 * query here when a service adds one, above all paging and filtering queries: SQL Server needs ORDER BY
 * with OFFSET, rejects TOP together with OFFSET, and takes at most 2,100 parameters per statement.
 */
import { writeFileSync } from 'node:fs';
import { raw } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { ApiKey, Process, ProcessRun, ProcessStep, ProcessStepRun } from '../entities/index.ts';
import {
  auditLogCountQuery,
  auditLogPageQuery,
  auditStatsByActionQuery,
  auditStatsByMethodQuery,
  auditStatsTopUsersQuery,
  auditStatsTotalsQuery,
  distinctAuditValuesQuery,
  type AuditLogFilters,
  type AuditLogStatsScope,
} from './audit-log-queries.ts';
import { liveStepsSql, lockRunOfStepRunSql, runRecordsSql, stepRunRecordsSql } from './records.ts';
import {
  hasUnknownValuesSql,
  unvaluedRunsPageSql,
  valuedRunsCountSql,
  valuedRunsPageSql,
  type FieldOrderPage,
} from './run-field-order.ts';
import { newestRunsQuery, runStatisticsQuery, successRatesQuery } from './dashboard-queries.ts';
import {
  addRunCountRowsSql,
  adjustRunCountsSql,
  countedTotalSql,
  countsOfProcessSql,
  recountRunsSql,
} from './run-counts.ts';
import {
  indexedMetaCountSql,
  indexRunFieldsSql,
  lockProcessMetaSql,
  touchProcessRowSql,
  reindexProcessFieldsSql,
} from './run-fields.ts';
import { runCountQuery, runPageQuery, type RunListQuery, type SqlFragment } from './run-queries.ts';
import {
  distinctMetaValuesQueries,
  MAX_SEARCHED_META_FIELDS,
  runSearchCountQuery,
  runSearchPageQuery,
  type RunSearchQuery,
} from './run-search-queries.ts';
import {
  deleteProcessStatements,
  deleteRunStatements,
  processSql,
  rescheduleRunsSql,
  restoreStatements,
} from './lifecycle-queries.ts';
import { anyDueJobSql, claimJobsSql } from './rerun-queue-queries.ts';
import { topEndpointsQuery } from '../services/api-key-usage-stats.ts';
import { LATEST_LAST_USED_AT } from '../services/api-key-usage.ts';
import { applySoftDeleteFilter } from './soft-delete.ts';
import { closeOrm, createOrm } from './orm.ts';

type Render = (em: SqlEntityManager) => Promise<string> | string;

/** A global search scoped to a process that declares the most meta fields searched, with wildcards in q. */
const WIDEST_SEARCH: RunSearchQuery = {
  text: 'Æblegård_%[ 🚀',
  process_id: 1,
  fields: [
    { column: 'entity_id' },
    { column: 'entity_name' },
    { column: 'status' },
    ...Array.from({ length: MAX_SEARCHED_META_FIELDS }, (_, i) => ({ metaField: `felt_${i}æ` })),
  ],
  offset: 100,
  limit: 100,
};

/** Every filter of listRuns at once, with 50 meta filters (the contract's maximum) on 25 fields. */
const EVERY_FILTER: Omit<RunListQuery, 'order' | 'direction'> = {
  filters: {
    process_id: 1,
    entity_id: '0101901234',
    entity_name: 'hansen_%[',
    statuses: ['failed', 'running', 'pending', 'completed', 'cancelled'],
    failed_at: 3,
    created_after: new Date('2026-01-01T00:00:00Z'),
    created_before: new Date('2026-01-31T23:59:59Z'),
    started_after: new Date('2026-01-01T00:00:00Z'),
    started_before: new Date('2026-01-31T23:59:59Z'),
    finished_after: new Date('2026-01-01T00:00:00Z'),
    finished_before: new Date('2026-01-31T23:59:59Z'),
    meta: new Map(Array.from({ length: 25 }, (_, i) => [`felt_${i}æ`, ['a:b, c', 'Ærø 🚀']])),
  },
  offset: 100,
  limit: 50,
};

/** The most fields a process's runs are indexed for, with non-Latin names: the first 20 of EVERY_FILTER's. */
const INDEXED_FIELDS = Array.from({ length: 20 }, (_, i) => `felt_${i}æ`);

/** A page deep into a process's runs sorted by a meta field, failed or cancelled (run-field-order.ts). */
const FIELD_ORDER_PAGE: FieldOrderPage = {
  processId: 7,
  field: 'sagsnummer',
  statuses: ['failed', 'cancelled'],
  direction: 'desc',
  offset: 150,
  limit: 50,
};

/** EVERY_FILTER with its first 20 meta fields answered by process_run_field for 3 processes (run-fields.ts). */
const EVERY_FILTER_INDEXED: Omit<RunListQuery, 'order' | 'direction'> = {
  ...EVERY_FILTER,
  filters: {
    ...EVERY_FILTER.filters,
    metaIndex: { processIds: [1, 2, 3], fields: new Set(INDEXED_FIELDS) },
  },
};

/** Every filter of listAuditLogs at once, with LIKE wildcards and non-Latin text in the path. */
const EVERY_AUDIT_FILTER: AuditLogFilters = {
  user_email: 'søren.østergård@aarhus.dk',
  action: 'Genstart fejlet trin 🚀',
  method: 'PATCH',
  path: '/Step-Runs/100%_[ Æble',
  status_code: 409,
  min_duration: 500.5,
  api_key_id: 5,
  created_after: new Date('2026-01-01T00:00:00Z'),
  created_before: new Date('2026-01-31T23:59:59Z'),
  resource_type: 'step_run',
  resource_id: 123,
};

/** The period of getAuditLogStats, for one user. */
const AUDIT_STATS_SCOPE: AuditLogStatsScope = {
  since: new Date('2026-01-04T10:15:00.123Z'),
  user_email: 'jens.hansen@aarhus.dk',
};

const DELETION = {
  deleted_at: new Date('2026-11-26T12:00:00Z'),
  deletion_token: '8f14e45f-ceea-467f-a0e6-0a3b1c2d4e5f',
};

const QUERIES: Record<string, Render> = {
  'api key candidates by prefix (authentication)': (em) =>
    em.createQueryBuilder(ApiKey).select('*').where({ key_prefix: 'pd_AbCdE' }).getFormattedQuery(),
  'api key count (first start)': (em) => em.createQueryBuilder(ApiKey).count().getFormattedQuery(),
  'api key usage batch (one per key per flush)': (em) =>
    em
      .createQueryBuilder(ApiKey)
      .update({
        usage_count: raw('usage_count + ?', [17]),
        last_used_at: raw(LATEST_LAST_USED_AT, [
          new Date('2026-01-05T10:15:00.123Z'),
          new Date('2026-01-05T10:15:00.123Z'),
        ]),
      })
      .where({ id: 5 })
      .getFormattedQuery(),
  'first page of API keys (listApiKeys)': (em) =>
    em.createQueryBuilder(ApiKey).select('*').orderBy({ id: 'asc' }).limit(50).offset(0).getFormattedQuery(),
  'third page of API keys (listApiKeys)': (em) =>
    em
      .createQueryBuilder(ApiKey)
      .select('*')
      .orderBy({ id: 'asc' })
      .limit(50)
      .offset(100)
      .getFormattedQuery(),
  'a page of live processes by id (listProcesses)': async (em) => {
    const qb = em.createQueryBuilder(Process).select('*').orderBy({ id: 'asc' }).limit(50).offset(100);
    return (await applySoftDeleteFilter(qb)).getFormattedQuery();
  },
  'live process count (listProcesses total)': async (em) =>
    (await applySoftDeleteFilter(em.createQueryBuilder(Process).count())).getFormattedQuery(),
  'live steps of a page of processes, by index (listProcesses, getProcess)': async (em) => {
    const qb = em
      .createQueryBuilder(ProcessStep)
      .select('*')
      .where({ process: { $in: [1, 2, 3] } })
      .orderBy({ process: 'asc', index: 'asc' });
    return (await applySoftDeleteFilter(qb)).getFormattedQuery();
  },
  'live rerunnable steps of a process, by index (listRerunnableProcessSteps)': async (em) => {
    const qb = em
      .createQueryBuilder(ProcessStep)
      .select('*')
      .where({ process: 1, is_rerunnable: true })
      .orderBy({ index: 'asc' });
    return (await applySoftDeleteFilter(qb)).getFormattedQuery();
  },
  'live step with an index (createStep conflict check)': async (em) => {
    const qb = em.createQueryBuilder(ProcessStep).count().where({ process: 1, index: 2 });
    return (await applySoftDeleteFilter(qb)).getFormattedQuery();
  },
  'a page of runs with every filter, by a meta field (listRuns)': (em) =>
    runPageQuery(em, 'mssql', {
      ...EVERY_FILTER,
      order: { metaField: 'prioritet' },
      direction: 'desc',
    }).getFormattedQuery(),
  'a page of runs by a nullable column, nulls last (listRuns)': (em) =>
    runPageQuery(em, 'mssql', {
      filters: { statuses: ['failed'] },
      order: { column: 'finished_at' },
      direction: 'asc',
      offset: 0,
      limit: 50,
    }).getFormattedQuery(),
  'a page of runs, default order, no filter (listRuns)': (em) =>
    runPageQuery(em, 'mssql', {
      filters: {},
      order: { column: 'created_at' },
      direction: 'desc',
      offset: 0,
      limit: 50,
    }).getFormattedQuery(),
  'the number of runs with every filter (listRuns total)': (em) =>
    runCountQuery(em, 'mssql', EVERY_FILTER.filters).getFormattedQuery(),
  'a page of runs with every filter, 20 meta fields from process_run_field (listRuns)': (em) =>
    runPageQuery(em, 'mssql', {
      ...EVERY_FILTER_INDEXED,
      order: { column: 'created_at' },
      direction: 'desc',
    }).getFormattedQuery(),
  'a page of runs with every filter, 20 meta fields probed in process_run_field (listRuns, common values)': (
    em,
  ) =>
    runPageQuery(em, 'mssql', {
      ...EVERY_FILTER_INDEXED,
      filters: {
        ...EVERY_FILTER_INDEXED.filters,
        metaIndex: { processIds: [1, 2, 3], fields: new Set(INDEXED_FIELDS), probe: true },
      },
      order: { column: 'created_at' },
      direction: 'desc',
    }).getFormattedQuery(),
  'the number of runs with every filter, 20 meta fields from process_run_field (listRuns total)': (em) =>
    runCountQuery(em, 'mssql', EVERY_FILTER_INDEXED.filters).getFormattedQuery(),
  'the number of runs with 3 indexed meta fields, counted in process_run_field alone (listRuns total)': (
    em,
  ) =>
    formatted(
      em,
      indexedMetaCountSql(
        em.getPlatform(),
        [1, 2, 3],
        new Map([
          ['kommune', ['Aarhus', 'Ærø 🚀']],
          ['afdeling', ['Salg']],
          ['prioritet', ['høj', 'lav']],
        ]),
      ),
    ),
  "a process's declared fields, its row share-locked (createRun, updateRunMetadata, neutralizeRun)": (em) =>
    formatted(em, lockProcessMetaSql('mssql', 1)),
  'the declared meta values of a new run, 20 fields (createRun, updateRunMetadata, neutralizeRun)': (em) =>
    formatted(
      em,
      indexRunFieldsSql(em.getPlatform(), 'mssql', INDEXED_FIELDS, { sql: 'r.id = ?', params: [42] }),
    ),
  'the declared meta values of every run of a process again (updateProcess, make recount-runs)': (em) =>
    reindexProcessFieldsSql(em.getPlatform(), 'mssql', 1, INDEXED_FIELDS)
      .map((statement) => formatted(em, statement))
      .join(';\n'),
  'whether the index holds a value it does not know (listRuns sorted by a meta field)': (em) =>
    formatted(em, hasUnknownValuesSql(em.getPlatform(), 7, 'sagsnummer')),
  'a page of runs with a value, in the index order, with statuses (listRuns sorted by a meta field)': (em) =>
    formatted(em, valuedRunsPageSql(em.getPlatform(), 'mssql', FIELD_ORDER_PAGE)),
  'the runs with a value, counted, with and without statuses (listRuns sorted by a meta field)': (em) =>
    [FIELD_ORDER_PAGE, { ...FIELD_ORDER_PAGE, statuses: [] }]
      .map((page) => formatted(em, valuedRunsCountSql(em.getPlatform(), page)))
      .join(';\n'),
  'a page of runs without a value, by id (listRuns sorted by a meta field, its last pages)': (em) =>
    formatted(em, unvaluedRunsPageSql(em.getPlatform(), 'mssql', { ...FIELD_ORDER_PAGE, statuses: [] })),
  'lock a live run by writing it (lockRun: step-run reports, metadata)': (em) =>
    em
      .createQueryBuilder(ProcessRun)
      .update({ updated_at: new Date('2026-01-05T10:15:00.123Z') })
      .where({ id: 42, deleted_at: null })
      .getFormattedQuery(),
  'live runs by id, as records (getRun, listRuns, searchRuns)': (em) =>
    formatted(em, runRecordsSql([1, 2, 3])),
  'live step runs of runs, as records (getRun, listRuns, updateStepRun)': (em) =>
    formatted(em, stepRunRecordsSql([1, 2, 3])),
  'lock the live run of a live step run, answering its row (updateStepRun)': (em) =>
    formatted(em, lockRunOfStepRunSql(em.getPlatform(), 42, new Date('2026-01-05T10:15:00.123Z'))),
  'the live process written unchanged, to lock it and give it a new version (createStep)': (em) =>
    formatted(em, touchProcessRowSql(7)),
  'the process read and share-locked, as a record (createRun)': (em) =>
    formatted(em, lockProcessMetaSql('mssql', 7, '*')),
  'a process by id, deleted or not, as a record (after createRun, createStep; listRuns sorted by a meta field)':
    (em) => formatted(em, processSql(7)),
  'the live steps of a process in index order, as records (createRun)': (em) =>
    formatted(em, liveStepsSql(em.getPlatform(), 7)),
  'live step runs of a page of runs (getRun, listRuns, step-run lists)': async (em) => {
    const qb = em
      .createQueryBuilder(ProcessStepRun)
      .select('*')
      .where({ run: { $in: [1, 2, 3] } })
      .orderBy({ run: 'asc', step_index: 'asc', id: 'asc' });
    return (await applySoftDeleteFilter(qb)).getFormattedQuery();
  },
  'a page of live runs, newest first (paging shape of every list)': async (em) => {
    const qb = em
      .createQueryBuilder(ProcessRun)
      .select('*')
      .where({ process: 1, status: { $in: ['failed', 'running'] } })
      .orderBy({ created_at: 'desc', id: 'desc' })
      .limit(50)
      .offset(100);
    return (await applySoftDeleteFilter(qb)).getFormattedQuery();
  },
  'run counts per status and average completion time of a process (dashboards)': (em) =>
    runStatisticsQuery(em, 'mssql', 1).getFormattedQuery(),
  'the newest runs of a process, as many as runs_limit allows (dashboards)': (em) =>
    newestRunsQuery(em, 'mssql', 1, 10000).getFormattedQuery(),
  'success rates of the newest runs, joined to their page (getProcessDashboard)': (em) =>
    successRatesQuery(em, 'mssql', 1, 10000).getFormattedQuery(),
  'live step runs of 1,000 runs, one chunk of the overview (getProcessOverview)': async (em) => {
    const qb = em
      .createQueryBuilder(ProcessStepRun)
      .select('*')
      .where({ run: { $in: Array.from({ length: 1000 }, (_, i) => i + 1) } })
      .orderBy({ run: 'asc', step_index: 'asc', id: 'asc' });
    return (await applySoftDeleteFilter(qb)).getFormattedQuery();
  },
  'a page of runs found by global search, with the most meta fields (searchRuns)': (em) =>
    runSearchPageQuery(em, 'mssql', WIDEST_SEARCH).getFormattedQuery(),
  'the number of runs found by global search, with the most meta fields (searchRuns total)': (em) =>
    formatted(em, runSearchCountQuery(em, 'mssql', WIDEST_SEARCH)),
  'the number of runs found by search in a process, its first 20 fields from process_run_field (searchRuns total)':
    (em) =>
      formatted(
        em,
        runSearchCountQuery(em, 'mssql', {
          ...WIDEST_SEARCH,
          indexedMetaFields: new Set(INDEXED_FIELDS),
          textIndex: true,
        }),
      ),
  'a page of the runs found by search in a process, read from process_run_field first (searchRuns)': (em) =>
    runSearchPageQuery(em, 'mssql', {
      ...WIDEST_SEARCH,
      indexedMetaFields: new Set(INDEXED_FIELDS),
      textIndex: true,
    }).getFormattedQuery(),
  'a page of the runs found by search in a process, walking its runs and probing process_run_field (searchRuns)':
    (em) =>
      runSearchPageQuery(em, 'mssql', {
        ...WIDEST_SEARCH,
        indexedMetaFields: new Set(INDEXED_FIELDS),
      }).getFormattedQuery(),
  'the first page of runs found by global search without process_id (searchRuns)': (em) =>
    runSearchPageQuery(em, 'mssql', {
      text: 'hansen',
      fields: [{ column: 'entity_id' }, { column: 'entity_name' }, { column: 'status' }],
      offset: 0,
      limit: 50,
    }).getFormattedQuery(),
  'distinct values of 50 meta fields of a process, 20 from process_run_field, at most 1000 each (getProcessFilterMetadata)':
    (em) =>
      distinctMetaValuesQueries(
        em,
        'mssql',
        1,
        Array.from({ length: 50 }, (_, i) => `felt_${i}æ`),
        new Set(INDEXED_FIELDS),
      )
        .map((statement) => formatted(em, statement))
        .join(';\n'),
  'soft delete of a process with its steps, runs and step runs (deleteProcess)': (em) =>
    deleteProcessStatements(em, 1, DELETION)
      .map((statement) => statement.getFormattedQuery())
      .join(';\n'),
  'soft delete of a run with its step runs (deleteRun)': (em) =>
    deleteRunStatements(em, 1, DELETION)
      .map((statement) => statement.getFormattedQuery())
      .join(';\n'),
  'restore of what one delete hid (restoreProcess, restoreRun)': (em) =>
    restoreStatements(em, DELETION.deletion_token)
      .map((statement) => statement.getFormattedQuery())
      .join(';\n'),
  'rescheduling the runs of a process for a new retention (setProcessRetention)': (em) =>
    formatted(em, rescheduleRunsSql('mssql', 1, 600)),
  'rescheduling the runs of a process for no retention (setProcessRetention null)': (em) =>
    formatted(em, rescheduleRunsSql('mssql', 1, null)),
  'the zero run counts of a new process (createProcess)': (em) => formatted(em, addRunCountRowsSql(1)),
  'a run counted from one status to another (recomputeRunStatus)': (em) =>
    formatted(
      em,
      adjustRunCountsSql('mssql', 1, {
        running: { runs: -1, timed: 0, durationMs: 0 },
        completed: { runs: 1, timed: 1, durationMs: 93_000 },
      }),
    ),
  'the run counts of a process counted again (deleteProcess, restoreProcess)': (em) =>
    recountRunsSql('mssql', 1)
      .map((statement) => formatted(em, statement))
      .join(';\n'),
  'the run counts of every process counted again (adoption, the run counts migration)': (em) =>
    recountRunsSql('mssql')
      .map((statement) => formatted(em, statement))
      .join(';\n'),
  'a list total from the run counts: a process and two statuses (listRuns)': (em) =>
    formatted(em, countedTotalSql({ process_id: 1, statuses: ['failed', 'running'] })),
  'a list total from the run counts: no filter (listRuns)': (em) => formatted(em, countedTotalSql({})),
  'the run counts of a process (getProcessDashboard, getProcessOverview)': (em) =>
    formatted(em, countsOfProcessSql(1)),
  "a key's most-called paths of the last 7 days (getApiKeyUsageStats)": (em) =>
    topEndpointsQuery(em, 5, new Date('2026-11-19T12:00:00Z')).getFormattedQuery(),
  'runs due for neutralisation, longest due first (getCleanupStats, neutralizeDueRuns)': async (em) => {
    const qb = em
      .createQueryBuilder(ProcessRun)
      .select(['id'])
      .where({ scheduled_deletion_at: { $lte: new Date('2026-11-26T12:00:00Z') }, is_neutralized: false })
      .orderBy({ scheduled_deletion_at: 'asc', id: 'asc' })
      .limit(1000);
    return (await applySoftDeleteFilter(qb)).getFormattedQuery();
  },
  "is any rerun job due (an idle worker's poll)": (em) =>
    formatted(em, anyDueJobSql('mssql', new Date('2026-11-26T12:00:00Z'))),
  'a worker claims up to 4 due rerun jobs (UPDLOCK, READPAST)': (em) => {
    const now = new Date('2026-11-26T12:00:00Z');
    return formatted(
      em,
      claimJobsSql('mssql', {
        worker: 'api-1:2817:9f3a1c',
        token: '7d7f2b1e-2a4c-4f1e-9b7a-3c2d1e0f9a8b',
        now,
        leaseExpiresAt: new Date(now.getTime() + 30_000),
        limit: 4,
      }),
    );
  },
  'a page of audit entries with every filter, newest first (listAuditLogs)': (em) =>
    auditLogPageQuery(em, 'mssql', {
      filters: EVERY_AUDIT_FILTER,
      offset: 100,
      limit: 50,
    }).getFormattedQuery(),
  'the first page of audit entries without filters (listAuditLogs)': (em) =>
    auditLogPageQuery(em, 'mssql', { filters: {}, offset: 0, limit: 50 }).getFormattedQuery(),
  'the number of audit entries with every filter (listAuditLogs total)': (em) =>
    auditLogCountQuery(em, 'mssql', EVERY_AUDIT_FILTER).getFormattedQuery(),
  'distinct users of the audit log (listAuditLogUsers)': (em) =>
    distinctAuditValuesQuery(em, 'user_email').getFormattedQuery(),
  'distinct actions of the audit log (listAuditLogActions)': (em) =>
    distinctAuditValuesQuery(em, 'action').getFormattedQuery(),
  'audit totals, success/error counts and average duration of a period (getAuditLogStats)': (em) =>
    auditStatsTotalsQuery(em, AUDIT_STATS_SCOPE).getFormattedQuery(),
  'audit entries per method of a period, without a user filter (getAuditLogStats)': (em) =>
    auditStatsByMethodQuery(em, { since: AUDIT_STATS_SCOPE.since }).getFormattedQuery(),
  'audit entries per action of a period (getAuditLogStats)': (em) =>
    auditStatsByActionQuery(em, AUDIT_STATS_SCOPE).getFormattedQuery(),
  'the 10 users with the most audit entries of a period (getAuditLogStats)': (em) =>
    auditStatsTopUsersQuery(em, { since: AUDIT_STATS_SCOPE.since }, 10).getFormattedQuery(),
};

/** A statement with its parameters inlined, as MikroORM sends it. */
function formatted(em: SqlEntityManager, statement: SqlFragment | undefined): string {
  if (statement === undefined) throw new Error('no statement to render');
  return em.getPlatform().formatQuery(statement.sql, statement.params);
}

const out = process.argv[2];
if (out === undefined) {
  process.stderr.write('usage: node src/db/mssql-queries.ts <out.sql>\n');
  process.exit(2);
}
const orm = await createOrm('mssql://offline:offline@127.0.0.1:1/offline', { connect: false });
try {
  const parts: string[] = [];
  for (const [name, render] of Object.entries(QUERIES)) {
    parts.push(`-- query: ${name}\n${await render(orm.em.fork())}`);
  }
  writeFileSync(out, parts.join('\n') + '\n');
  process.stdout.write(`rendered ${parts.length} SQL Server queries into ${out}\n`);
} finally {
  await closeOrm(orm);
}
