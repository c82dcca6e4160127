/**
 * Read-only rows of runs and step runs as plain objects ("records"), for the pages that only show them:
 * list, search, the overview and GET run. Building MikroORM entities (factory, hydration, identity map,
 * change-tracking snapshots) was half the CPU of a list page of 50 runs with their 250 step runs
 * (`make bench`'s profile); a record is the QueryBuilder's row, mapped to property names with its dates
 * and booleans by MikroORM's result mapper, and converted here by the properties' own custom types
 * (JSON, the upper-case status names, SQL Server's Unicode strings) — the same conversions hydration
 * applies. Relations are their ids.
 *
 * Entities satisfy the same shapes (`RunShape`, `StepRunShape`), so a mapper serves both: write paths
 * answer with the entities they changed, read paths with records.
 */
import type { EntityMetadata, EntityName, EntityProperty, Platform } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { ProcessRun, ProcessStepRun, type RunStatus, type StepRunStatus } from '../entities/index.ts';

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
  for (const row of rows) {
    for (const prop of props) {
      const value = row[prop.name];
      if (value !== null && value !== undefined) {
        row[prop.name] = prop.customType?.convertToJSValue(value, platform);
      }
    }
  }
  return rows as unknown as T[];
}

/** Live runs by id, as records, in no particular order. `ids` must be at most a statement's worth. */
export async function runRecords(em: SqlEntityManager, ids: readonly number[]): Promise<RunRecord[]> {
  if (ids.length === 0) return [];
  return queryRecords<RunRecord>(
    em,
    ProcessRun,
    em
      .createQueryBuilder(ProcessRun, 'r')
      .select('*')
      .where({ id: { $in: [...ids] }, deleted_at: null }),
  );
}

/** Live step runs of these runs (at most a statement's worth), ordered by run, step_index and id. */
export async function stepRunRecords(
  em: SqlEntityManager,
  runIds: readonly number[],
): Promise<StepRunRecord[]> {
  if (runIds.length === 0) return [];
  return queryRecords<StepRunRecord>(
    em,
    ProcessStepRun,
    em
      .createQueryBuilder(ProcessStepRun, 's')
      .select('*')
      .where({ run: { $in: [...runIds] }, deleted_at: null })
      .orderBy([{ run: 'asc' }, { step_index: 'asc' }, { id: 'asc' }]),
  );
}
