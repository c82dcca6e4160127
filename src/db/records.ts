/**
 * Rows of runs and step runs as plain objects ("records"), for the pages that only show them (list,
 * search, the overview, GET run) and the robots' hot write paths (a new run, a step-run report). Building
 * MikroORM entities (factory, hydration, identity map, change-tracking snapshots) was half the CPU of a
 * list page of 50 runs with their 250 step runs, and most of a step-run report (`make bench`'s profiles);
 * a record is the statement's row, mapped to property names with its dates and booleans by MikroORM's
 * result mapper, and converted here by the properties' own custom types (JSON, the upper-case status
 * names, SQL Server's Unicode strings) — the same conversions hydration applies. Relations are their ids.
 *
 * Entities satisfy the same shapes (`RunShape`, `StepRunShape`), so a mapper serves both: the other write
 * paths answer with the entities they changed, the rest with records.
 */
import type { EntityMetadata, EntityName, EntityProperty, Platform } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { ProcessRun, ProcessStepRun, type RunStatus, type StepRunStatus } from '../entities/index.ts';
import { placeholders, type SqlFragment } from './run-queries.ts';

/** A many-to-one relation: an entity (write paths) or its id (records). */
export type Ref = number | { readonly id: number };

export function refId(ref: Ref): number {
  return typeof ref === 'number' ? ref : ref.id;
}

/** What the contract shows of a run; a ProcessRun entity and a RunRecord both have it. */
export interface RunShape {
  readonly id: number;
  readonly process: Ref;
  readonly entity_id: string;
  readonly entity_name?: string | null;
  readonly status: RunStatus;
  readonly meta: Record<string, unknown>;
  readonly started_at?: Date | null;
  readonly finished_at?: Date | null;
  readonly is_neutralized: boolean;
  readonly scheduled_deletion_at?: Date | null;
  readonly created_at: Date;
  readonly updated_at: Date;
}

/** What the contract shows of a step run; a ProcessStepRun entity and a StepRunRecord both have it. */
export interface StepRunShape {
  readonly id: number;
  readonly run: Ref;
  readonly step: Ref;
  readonly step_index: number;
  readonly status: StepRunStatus;
  readonly started_at?: Date | null;
  readonly finished_at?: Date | null;
  readonly failure?: Record<string, unknown> | null;
  readonly meta?: Record<string, unknown> | null;
  readonly last_modified_by?: string | null;
  readonly can_rerun: boolean;
  readonly rerun_config: Record<string, unknown>;
  readonly rerun_count: number;
  readonly max_reruns: number;
  readonly rerun_of?: Ref | null;
  readonly created_at: Date;
  readonly updated_at: Date;
}

export type RunRecord = RunShape & { readonly process: number };
export type StepRunRecord = StepRunShape & {
  readonly run: number;
  readonly step: number;
  readonly rerun_of: number | null;
};

/** The properties of `meta` whose values the result mapper leaves as stored: those with a custom type. */
const converted = new WeakMap<EntityMetadata, EntityProperty[]>();

function customTyped(meta: EntityMetadata): EntityProperty[] {
  let props = converted.get(meta);
  if (props === undefined) {
    props = meta.props.filter((prop) => prop.customType !== undefined);
    converted.set(meta, props);
  }
  return props;
}

/** Converts the values of `row` (mapped to property names) that have a custom type, in place. */
function convertCustomTypes(
  row: Record<string, unknown>,
  props: readonly EntityProperty[],
  platform: Platform,
) {
  for (const prop of props) {
    const value = row[prop.name];
    if (value !== null && value !== undefined) {
      row[prop.name] = prop.customType?.convertToJSValue(value, platform);
    }
  }
}

/**
 * Runs `query` (a QueryBuilder of `entity`) and answers its rows as records: mapped to property names by
 * `execute('all')`, then converted by the custom types.
 */
export async function queryRecords<T>(
  em: SqlEntityManager,
  entity: EntityName,
  query: { execute<R>(method: 'all'): Promise<R> },
): Promise<T[]> {
  const rows = await query.execute<Record<string, unknown>[]>('all');
  const props = customTyped(em.getMetadata().get(entity));
  const platform: Platform = em.getPlatform();
  for (const row of rows) convertCustomTypes(row, props, platform);
  return rows as unknown as T[];
}

/**
 * Runs `statement` (a SELECT of `entity`'s columns, `select * from <its table> …`) and answers its rows as
 * records, as `queryRecords` does: MikroORM's result mapper (the one a QueryBuilder's `execute('all')`
 * calls: property names, dates, booleans), then the custom types. Without a QueryBuilder: building and
 * rendering one costs more than the statement itself on the hot paths (GET run, a step-run report).
 */
export async function statementRecords<T>(
  em: SqlEntityManager,
  entity: EntityName,
  statement: SqlFragment,
): Promise<T[]> {
  const rows = await em.execute<Record<string, unknown>[]>(statement.sql, [...statement.params], 'all');
  return rowRecords<T>(em, entity, rows);
}

/** Rows of `entity`'s columns as a statement answered them, as records (see `statementRecords`). */
export function rowRecords<T>(
  em: SqlEntityManager,
  entity: EntityName,
  rows: readonly Record<string, unknown>[],
): T[] {
  const meta = em.getMetadata().get(entity);
  const props = customTyped(meta);
  const driver = em.getDriver();
  const platform: Platform = em.getPlatform();
  return rows.map((row) => {
    const record = driver.mapResult(row, meta) as Record<string, unknown>;
    convertCustomTypes(record, props, platform);
    return record as T;
  });
}

/** The SELECT of live runs by id (`runRecords`); `ids` must be at most a statement's worth. */
export function runRecordsSql(ids: readonly number[]): SqlFragment {
  return {
    sql: `select * from process_run where id in (${placeholders(ids)}) and deleted_at is null`,
    params: [...ids],
  };
}

/** Live runs by id, as records, in no particular order. `ids` must be at most a statement's worth. */
export async function runRecords(em: SqlEntityManager, ids: readonly number[]): Promise<RunRecord[]> {
  if (ids.length === 0) return [];
  return statementRecords<RunRecord>(em, ProcessRun, runRecordsSql(ids));
}

/** The SELECT of the live step runs of these runs, by run, step_index and id (`stepRunRecords`). */
export function stepRunRecordsSql(runIds: readonly number[]): SqlFragment {
  return {
    sql:
      `select * from process_step_run where run_id in (${placeholders(runIds)}) and deleted_at is null ` +
      'order by run_id, step_index, id',
    params: [...runIds],
  };
}

/** Live step runs of these runs (at most a statement's worth), ordered by run, step_index and id. */
export async function stepRunRecords(
  em: SqlEntityManager,
  runIds: readonly number[],
): Promise<StepRunRecord[]> {
  if (runIds.length === 0) return [];
  return statementRecords<StepRunRecord>(em, ProcessStepRun, stepRunRecordsSql(runIds));
}

/** The SELECT of the live steps of process `processId` in index order (records of ProcessStep). */
export function liveStepsSql(platform: Platform, processId: number): SqlFragment {
  return {
    sql: `select * from process_step where process_id = ? and deleted_at is null order by ${platform.quoteIdentifier('index')}`,
    params: [processId],
  };
}

/**
 * The UPDATE that locks the live run of the live step run `stepRunId` by writing its `updated_at` (see
 * `lockRun`), answering the run's row (RETURNING; SQL Server: OUTPUT inserted.*).
 */
export function lockRunOfStepRunSql(platform: Platform, stepRunId: number, now: Date): SqlFragment {
  const output = platform.usesOutputStatement();
  return {
    sql:
      `update process_run set updated_at = ?${output ? ' output inserted.*' : ''} where id = ` +
      '(select s.run_id from process_step_run s where s.id = ? and s.deleted_at is null) ' +
      `and deleted_at is null${output ? '' : ' returning *'}`,
    params: [now, stepRunId],
  };
}
