/**
 * The invariant of `process_run_count` (src/db/run-counts.ts): every process has a row per run status,
 * and each row holds the number of live runs of its process with its status, how many of them have both
 * times and the sum of their durations. `runCountDrift` lists every
 * row that says otherwise; every test server checks it when it closes (app.ts), so each test file that
 * changes runs through the service checks that the counts followed.
 */
import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { emDialect, type Dialect } from '../../src/db/database-url.ts';
import { durationMsSql } from '../../src/db/run-counts.ts';
import { reindexAllRunFields } from '../../src/db/meta-fields.ts';
import { RUN_STATUSES } from '../../src/entities/index.ts';
import { RUN_TEXT_SOURCE_SQL, RUN_TEXT_TABLE } from '../../src/db/sqlite-run-text.ts';

export async function runCountDrift(em: EntityManager): Promise<string[]> {
  const sql = em as SqlEntityManager;
  const runsOfRow =
    'from process_run r where r.process_id = c.process_id and r.status = c.status and r.deleted_at is null';
  const timed = 'and r.started_at is not null and r.finished_at is not null';
  const rows = await sql.execute<
    {
      process_id: number;
      status: string;
      run_count: number | string;
      actual: number | string;
      timed_count: number | string;
      actual_timed: number | string;
      duration_ms_sum: number | string;
      actual_duration: number | string;
    }[]
  >(
    `select c.process_id, c.status, c.run_count, (select count(*) ${runsOfRow}) as actual, ` +
      `c.timed_count, (select count(*) ${runsOfRow} ${timed}) as actual_timed, c.duration_ms_sum, ` +
      `(select coalesce(sum(${durationMsSql(emDialect(em))}), 0) ${runsOfRow} ${timed}) as actual_duration ` +
      'from process_run_count c order by c.process_id, c.status',
  );
  const drift = rows
    .filter(
      (row) =>
        Number(row.run_count) !== Number(row.actual) ||
        Number(row.timed_count) !== Number(row.actual_timed) ||
        Number(row.duration_ms_sum) !== Number(row.actual_duration),
    )
    .map(
      (row) =>
        `process ${row.process_id} ${row.status}: counted ${Number(row.run_count)}, live runs ${Number(row.actual)}` +
        (Number(row.timed_count) !== Number(row.actual_timed) ||
        Number(row.duration_ms_sum) !== Number(row.actual_duration)
          ? `; timed ${Number(row.timed_count)} of ${Number(row.duration_ms_sum)} ms, ` +
            `the runs ${Number(row.actual_timed)} of ${Number(row.actual_duration)} ms`
          : ''),
    );
  const missing = await sql.execute<{ id: number; statuses: number | string }[]>(
    'select p.id, (select count(*) from process_run_count c where c.process_id = p.id) as statuses from process p',
  );
  for (const row of missing) {
    if (Number(row.statuses) !== RUN_STATUSES.length) {
      drift.push(`process ${row.id}: ${Number(row.statuses)} count rows, not ${RUN_STATUSES.length}`);
    }
  }
  return drift;
}

/**
 * The invariant of `process_run_field` (src/db/run-fields.ts): its rows are what a rebuild from the runs'
 * `meta` and their processes' declared fields writes. `runFieldDrift` rebuilds in a transaction it rolls
 * back and lists the rows that differ (at most 20); every test server checks it when it closes (app.ts).
 */
export async function runFieldDrift(em: EntityManager, dialect: Dialect): Promise<string[]> {
  const read = async (tx: EntityManager) =>
    (
      await (tx as SqlEntityManager).execute<
        { run_id: number; field: string; process_id: number; value: string | null }[]
      >('select run_id, field, process_id, value from process_run_field order by run_id, field')
    ).map(
      (row) => `run ${row.run_id} ${row.field} (process ${row.process_id}): ${JSON.stringify(row.value)}`,
    );
  const kept = await read(em);
  let rebuilt: string[] = [];
  const rollback = new Error('rolled back on purpose');
  await em
    .transactional(async (tx) => {
      await reindexAllRunFields(tx, dialect);
      rebuilt = await read(tx);
      throw rollback;
    })
    .catch((error: unknown) => {
      if (error !== rollback) throw error;
    });
  const keptSet = new Set(kept);
  const rebuiltSet = new Set(rebuilt);
  return [
    ...kept.filter((row) => !rebuiltSet.has(row)).map((row) => `kept but not rebuilt: ${row}`),
    ...rebuilt.filter((row) => !keptSet.has(row)).map((row) => `rebuilt but missing: ${row}`),
  ].slice(0, 20);
}

/**
 * The invariant of SQLite's trigram index `process_run_text` (src/db/sqlite-run-text.ts): it holds exactly
 * the entity_id, entity_name and meta text (`RUN_TEXT_SOURCE_SQL`) every run has, and its index agrees with
 * what it holds (FTS5's own integrity check).
 */
export async function runTextDrift(em: EntityManager, dialect: Dialect): Promise<string[]> {
  if (dialect !== 'sqlite') return [];
  const sql = em as SqlEntityManager;
  try {
    await sql.execute(
      "insert into process_run_text (process_run_text, rank) values ('integrity-check', 1)",
      [],
      'run',
    );
  } catch (error) {
    return [`process_run_text's index differs from its text: ${String(error)}`];
  }
  const held = `select rowid as id, entity_id, entity_name, meta from ${RUN_TEXT_TABLE}`;
  const differences = await sql.execute<Record<string, unknown>[]>(
    `select 'held, not the run''s' as drift, * from (${held} except ${RUN_TEXT_SOURCE_SQL}) ` +
      `union all select 'the run''s, not held', * from (${RUN_TEXT_SOURCE_SQL} except ${held}) limit 20`,
  );
  return differences.map((row) => `process_run_text: ${JSON.stringify(row)}`);
}
