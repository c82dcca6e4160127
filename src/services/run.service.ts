import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { Dialect } from '../db/database-url.ts';
import { indexedMetaFields, reindexRunIfFieldsChanged } from '../db/meta-fields.ts';
import {
  liveStepsSql,
  lockRunOfStepRunSql,
  refId,
  runRecords,
  statementRecords,
  stepRunRecords,
  queryRecords,
  type RunRecord,
  type RunShape,
  type StepRunRecord,
  type StepRunShape,
} from '../db/records.ts';
import { adjustRunCounts, countedRun, countedTotal, runMoved, runMovedSql } from '../db/run-counts.ts';
import {
  indexableValues,
  indexedMetaCountSql,
  indexRunFields,
  lockProcessMeta,
  lockProcessRecord,
  MAX_INDEXED_PROCESSES,
  type ProcessRecord,
  storedObject,
} from '../db/run-fields.ts';
import {
  hasUnknownValuesSql,
  unvaluedRunsPageSql,
  valuedRunsCountSql,
  valuedRunsPageSql,
} from '../db/run-field-order.ts';
import { processSql } from '../db/lifecycle-queries.ts';
import { trigramPhrase } from '../db/sqlite-run-text.ts';
import {
  runCountQuery,
  runPageQuery,
  type RunListQuery,
  type RunListFilters,
  type SqlFragment,
} from '../db/run-queries.ts';
import {
  insertNewRun,
  MAX_STEP_RUNS_PER_STATEMENT,
  readProcessWithSteps,
  type ProcessVersion,
  type ReportedRun,
  type StepToRun,
} from '../db/postgres-run-writes.ts';
import { Process, ProcessRun, ProcessStep, ProcessStepRun } from '../entities/index.ts';
import { BadRequestError, NotFoundError } from '../errors/domain-errors.ts';
import { addCalendarMonths, refuseIfProcessDeletedMeanwhile } from './process.service.ts';
import { applyRunStatus, currentAttempts, deriveRunStatus } from './run-status.ts';
import { LruMap } from '../util/lru-map.ts';
import { KeptRuns } from './kept-runs.ts';

export interface NewRun {
  process_id: number;
  entity_id: string;
  entity_name?: string | null;
  meta?: Record<string, unknown>;
}

/**
 * A run with its current step runs (the newest attempt of each step), ordered by step_index: entities on
 * write paths, records (src/db/records.ts) on read paths.
 */
export interface RunWithSteps {
  run: RunShape;
  steps: StepRunShape[];
}

/** Reruns allowed for step runs of `step`: `rerun_config.max_retries` (default 3) when rerunnable, else 0. */
export function maxRerunsOf(step: Pick<ProcessStep, 'is_rerunnable' | 'rerun_config'>): number {
  if (!step.is_rerunnable) return 0;
  const configured = step.rerun_config.max_retries;
  return typeof configured === 'number' &&
    Number.isInteger(configured) &&
    configured >= 0 &&
    configured <= 2147483647
    ? configured
    : 3;
}

/**
 * The row of a new pending step run of `step` in run `runId`, as the original created them: `step_index`
 * from the step unless given, and can_rerun, a copy of rerun_config and max_reruns from it.
 */
function newStepRunData(runId: number, step: StepToRun, now: Date, stepIndex: number = step.index) {
  return { run: runId, ...newStepRunValues(step, now, stepIndex) };
}

/** `newStepRunData` but the run. */
function newStepRunValues(step: StepToRun, now: Date, stepIndex: number = step.index) {
  return {
    step: step.id,
    step_index: stepIndex,
    status: 'pending' as const,
    can_rerun: step.is_rerunnable,
    rerun_config: structuredClone(step.rerun_config),
    max_reruns: maxRerunsOf(step),
    rerun_count: 0,
    created_at: now,
    updated_at: now,
  };
}

/** `newStepRunData` as an entity of `em`, persisted on the next flush. */
export function newStepRun(
  em: EntityManager,
  run: ProcessRun,
  step: ProcessStep,
  now: Date,
  stepIndex: number = step.index,
): ProcessStepRun {
  return em.create(ProcessStepRun, { ...newStepRunData(run.id, step, now, stepIndex), run, step });
}

/**
 * The process `processId` (deleted or not; undefined when there is none) under `lockProcessMeta`'s share lock,
 * and its live steps in index order (none when the process is deleted).
 */
async function lockProcessAndSteps(
  em: SqlEntityManager,
  dialect: Dialect,
  processId: number,
): Promise<{ process: ProcessRecord | undefined; steps: StepToRun[] }> {
  const process = await lockProcessRecord(em, dialect, processId);
  if (process === undefined || process.deleted_at != null) return { process, steps: [] };
  const steps = await statementRecords<StepToRun>(em, ProcessStep, liveStepsSql(em.getPlatform(), processId));
  return { process, steps };
}

/** The row of a new pending run of `process` from `input`. */
function newRunValues(input: NewRun, process: ProcessRecord, now: Date) {
  return {
    process: process.id,
    entity_id: input.entity_id,
    entity_name: input.entity_name ?? null,
    status: 'pending' as const,
    meta: input.meta ?? {},
    is_neutralized: false,
    started_at: null,
    finished_at: null,
    scheduled_deletion_at:
      process.retention_months == null ? null : addCalendarMonths(now, process.retention_months),
    created_at: now,
    updated_at: now,
  };
}

/** A new run as PostgreSQL's one statement wrote it: its row, its step runs, and the row's version (xmin). */
interface WrittenRun {
  run: RunRecord;
  steps: StepRunRecord[];
  version: string;
}

/**
 * PostgreSQL: a new run of `process` from `input` with one pending step run per step in `steps`, its values
 * of the declared meta `fields` and its count, in one statement (postgres-run-writes.ts) — with `unchanged`,
 * only while the process is that version (undefined otherwise: nothing written).
 */
async function insertRunOnPostgres(
  em: SqlEntityManager,
  input: NewRun,
  process: ProcessRecord,
  steps: readonly StepToRun[],
  fields: readonly string[],
  unchanged?: ProcessVersion,
): Promise<WrittenRun | undefined> {
  const now = new Date();
  const values = newRunValues(input, process, now);
  const stepRuns = steps.map((step) => newStepRunValues(step, now));
  const inserted = await insertNewRun(em, values, stepRuns, fields, unchanged);
  return inserted === undefined
    ? undefined
    : { run: { id: inserted.id, ...values }, steps: inserted.stepRuns, version: inserted.version };
}

/**
 * Locks the live run `runId` for the rest of the transaction `tx` by writing its `updated_at` (a row write
 * lock on every database: PostgreSQL, SQL Server, and SQLite's database lock), and loads it fresh.
 * Everything that changes a run's step runs takes this lock first, so changes to the step runs of one run
 * are serialised and each recomputation sees every earlier one; no other lock is taken before it, so two
 * transactions cannot wait for each other. Undefined when the run does not exist or is soft-deleted.
 */
export async function lockRun(tx: EntityManager, runId: number): Promise<ProcessRun | undefined> {
  const touched = await tx.nativeUpdate(
    ProcessRun,
    { id: runId, deleted_at: null },
    { updated_at: new Date() },
  );
  if (touched === 0) return undefined;
  return (await tx.findOne(ProcessRun, { id: runId }, { refresh: true })) ?? undefined;
}

/**
 * Runs `work` in one transaction that has locked the run of the live step run `id` (see `lockRun`) and read
 * the step run fresh after the lock; NotFoundError when the step run, or its run, does not exist or is
 * soft-deleted (before or while waiting for the lock).
 */
export async function withLockedStepRun<T>(
  em: EntityManager,
  id: number,
  work: (tx: EntityManager, run: ProcessRun, stepRun: ProcessStepRun) => Promise<T>,
): Promise<T> {
  const found = await em.findOne(ProcessStepRun, { id });
  if (found === null) throw new NotFoundError(`Step run ${id} not found`);
  const runId = found.run.id;
  return em.transactional(async (tx) => {
    const run = await lockRun(tx, runId);
    const stepRun = run === undefined ? null : await tx.findOne(ProcessStepRun, { id }, { refresh: true });
    if (run === undefined || stepRun === null) throw new NotFoundError(`Step run ${id} not found`);
    return work(tx, run, stepRun);
  });
}

/**
 * `lockRun` for a step-run report, in one statement: locks the live run of the live step run `stepRunId`
 * (the same write of `updated_at`) and answers it as a record (RETURNING; SQL Server: OUTPUT), with its live
 * step runs read after the lock (every attempt, ordered by step_index and id). Undefined when the step run
 * or its run does not exist or is soft-deleted; a step run deleted while this waited for the lock is
 * missing from the step runs.
 */
export async function lockRunOfStepRun(
  tx: EntityManager,
  stepRunId: number,
): Promise<{ run: RunRecord; stepRuns: StepRunRecord[] } | undefined> {
  const sql = tx as SqlEntityManager;
  const statement = lockRunOfStepRunSql(sql.getPlatform(), stepRunId, new Date());
  const [run] = await statementRecords<RunRecord>(sql, ProcessRun, statement);
  if (run === undefined) return undefined;
  return { run, stepRuns: await stepRunRecords(sql, [run.id]) };
}

/** What a report's recomputation writes to its run: the run's new status and times, and its count rows. */
export interface RunStatusMove {
  changes: Pick<RunRecord, 'status' | 'started_at' | 'finished_at' | 'updated_at'>;
  counts: SqlFragment | undefined;
}

/**
 * `recomputeRunStatus`'s derivation for a run read as a record (`lockRunOfStepRun`), given its live step
 * runs as they are now in this transaction: the changed status and times with `updated_at` (as a flush of
 * the entity would write them) and the count move (`onlyIf`: see `adjustRunCountsSql`); undefined when the
 * status stays.
 */
export function runStatusMove(
  dialect: Dialect,
  run: ReportedRun,
  stepRuns: readonly StepRunRecord[],
  now: Date,
  onlyIf?: string,
): RunStatusMove | undefined {
  const next = { status: run.status, started_at: run.started_at, finished_at: run.finished_at };
  const statuses = currentAttempts(stepRuns).map((stepRun) => stepRun.status);
  if (!applyRunStatus(next, deriveRunStatus(run.status, statuses), now)) return undefined;
  return {
    changes: { ...next, updated_at: now },
    counts: runMovedSql(dialect, run.process, run, next, onlyIf),
  };
}

/** Writes `runStatusMove`'s answer for `run`: the run's UPDATE, then the count rows'. */
export async function moveRunStatus(tx: EntityManager, run: ReportedRun, move: RunStatusMove): Promise<void> {
  await tx.nativeUpdate(ProcessRun, { id: run.id }, move.changes);
  if (move.counts !== undefined) {
    await (tx as SqlEntityManager).execute(move.counts.sql, move.counts.params, 'run');
  }
}

/**
 * Recomputes the status of `run` (locked with `lockRun` in this transaction) from its current step runs,
 * read fresh from the database, with the timestamp transitions of run-status.ts, and moves the run from
 * its old status's count to its new one's (run-counts.ts). The caller flushes.
 */
export async function recomputeRunStatus(tx: EntityManager, run: ProcessRun): Promise<void> {
  const current = (await currentStepRunsOf(tx, [run.id], { refresh: true })).get(run.id) ?? [];
  const before = { status: run.status, started_at: run.started_at, finished_at: run.finished_at };
  applyRunStatus(
    run,
    deriveRunStatus(
      run.status,
      current.map((stepRun) => stepRun.status),
    ),
    new Date(),
  );
  await runMoved(tx, run.process.id, before, run);
}

/** Run ids per step-run query: far below SQL Server's 2,100 parameters, however a driver sends them. */
const RUN_IDS_PER_QUERY = 1000;

/**
 * The current attempts (`currentAttempts`) among the step runs `read` finds for chunks of `runIds`, by run
 * id, each list in the order read. Bounded statements for any number of runs (the overview embeds up to
 * 10,000): one `read` per chunk.
 */
async function currentByRun<T extends StepRunShape>(
  runIds: readonly number[],
  read: (chunk: number[]) => Promise<T[]>,
): Promise<Map<number, T[]>> {
  const stepRuns: T[] = [];
  for (let start = 0; start < runIds.length; start += RUN_IDS_PER_QUERY) {
    for (const stepRun of await read(runIds.slice(start, start + RUN_IDS_PER_QUERY))) stepRuns.push(stepRun);
  }
  const byRun = Map.groupBy(stepRuns, (stepRun) => refId(stepRun.run));
  return new Map([...byRun].map(([runId, list]) => [runId, currentAttempts(list)]));
}

/**
 * Current step runs of these runs, by run id, each list ordered by step_index (then id). `refresh` reads
 * them from the database even when this EntityManager has them already (status recomputation).
 */
export function currentStepRunsOf(
  em: EntityManager,
  runIds: readonly number[],
  options: { refresh?: boolean } = {},
): Promise<Map<number, ProcessStepRun[]>> {
  return currentByRun(runIds, (chunk) =>
    em.find(
      ProcessStepRun,
      { run: { $in: chunk } },
      { orderBy: { run: 'asc', step_index: 'asc', id: 'asc' }, refresh: options.refresh ?? false },
    ),
  );
}

/**
 * Current step runs of these runs as records (read paths: nothing of them changes), by run id, each list
 * ordered by step_index (then id).
 */
export function currentStepRunRecordsOf(
  em: EntityManager,
  runIds: readonly number[],
): Promise<Map<number, StepRunRecord[]>> {
  return currentByRun(runIds, (chunk) => stepRunRecords(em as SqlEntityManager, chunk));
}

/** Whether `filters` name nothing but a process and statuses: `total` is then read from the run counts. */
export function byProcessAndStatusOnly(filters: RunListFilters): boolean {
  return filtersOnly(filters, ['process_id', 'statuses']);
}

/** Whether `filters` set nothing but these. */
function filtersOnly(filters: RunListFilters, names: readonly (keyof RunListFilters)[]): boolean {
  return Object.entries(filters).every(
    ([name, value]) => value === undefined || (names as readonly string[]).includes(name),
  );
}

/**
 * `filters` with `metaIndex` set to the meta filters `process_run_field` can answer (src/db/run-fields.ts):
 * fields indexed in every live process whose runs the list can show (`process_id`'s, or every one, up to
 * `MAX_INDEXED_PROCESSES`), filtered on values the index holds. Live runs belong to live processes only.
 */
async function withMetaIndex(em: EntityManager, filters: RunListFilters): Promise<RunListFilters> {
  const candidates = [...(filters.meta ?? [])]
    .filter(([, values]) => indexableValues(values))
    .map(([field]) => field);
  if (candidates.length === 0) return filters;
  const processes = await em.find(
    Process,
    filters.process_id === undefined ? {} : { id: filters.process_id },
    { fields: ['id', 'meta'], limit: MAX_INDEXED_PROCESSES + 1 },
  );
  if (processes.length === 0 || processes.length > MAX_INDEXED_PROCESSES) return filters;
  const indexedByProcess = processes.map((process) => new Set(indexedMetaFields(process.meta)));
  const fields = candidates.filter((field) => indexedByProcess.every((indexed) => indexed.has(field)));
  return fields.length === 0
    ? filters
    : {
        ...filters,
        metaIndex: { processIds: processes.map((process) => process.id), fields: new Set(fields) },
      };
}

/**
 * The total of a list filtered by nothing but meta fields that all come from the index (and `process_id`),
 * counted in `process_run_field` alone (`indexedMetaCountSql`); undefined for any other filter.
 */
async function indexedMetaTotal(em: EntityManager, filters: RunListFilters): Promise<number | undefined> {
  const { meta, metaIndex } = filters;
  if (meta === undefined || metaIndex === undefined) return undefined;
  if (![...meta.keys()].every((field) => metaIndex.fields.has(field))) return undefined;
  if (!filtersOnly(filters, ['process_id', 'meta', 'metaIndex'])) return undefined;
  const { sql, params } = indexedMetaCountSql(em.getPlatform(), metaIndex.processIds, meta);
  const [row] = await (em as SqlEntityManager).execute<{ count: number | string }[]>(sql, params, 'all');
  return Number(row?.count ?? 0);
}

/**
 * `query` with indexed meta filters as probes (`indexedMetaCondition`) when that is cheaper for its page:
 * walking the page's order through the N live runs in range finds `offset + limit` of `total` matches
 * after about (offset + limit) × N / total runs, one index probe each; reading the matches first costs
 * `total` lookups and a sort. N comes from the run counts (unknown: no probes).
 */
async function withMetaProbe(em: EntityManager, query: RunListQuery, total: number): Promise<RunListQuery> {
  const index = query.filters.metaIndex;
  if (index === undefined) return query;
  const inRange = await countedTotal(em, { process_id: query.filters.process_id });
  if (inRange === undefined || (query.offset + query.limit) * inRange >= total * total) return query;
  return { ...query, filters: { ...query.filters, metaIndex: { ...index, probe: true } } };
}

/**
 * The page of a list sorted by a meta field from `process_run_field`'s index (src/db/run-field-order.ts),
 * or undefined where that does not give the JSON's order: a list of one process (filtered by nothing but
 * statuses besides) sorted by a field it indexes, none of whose values is unknown to the index. `total`:
 * the list's total, so the runs without a value are read only when the page reaches them.
 */
async function fieldOrderedPage(
  em: EntityManager,
  dialect: Dialect,
  query: RunListQuery,
  total: number,
): Promise<RunRecord[] | undefined> {
  const { filters, order } = query;
  const processId = filters.process_id;
  if (!('metaField' in order) || processId === undefined || !byProcessAndStatusOnly(filters))
    return undefined;
  const sql = em as SqlEntityManager;
  const platform = em.getPlatform();
  const [process] = await statementRecords<Pick<Process, 'meta'>>(sql, Process, processSql(processId));
  if (process === undefined || !indexedMetaFields(storedObject(process.meta)).includes(order.metaField)) {
    return undefined;
  }
  const unknown = hasUnknownValuesSql(platform, processId, order.metaField);
  const [check] = await sql.execute<{ unknown: number | string }[]>(unknown.sql, unknown.params, 'all');
  if (Number(check?.unknown ?? 1) !== 0) return undefined;
  const page = {
    processId,
    field: order.metaField,
    statuses: filters.statuses ?? [],
    direction: query.direction,
    offset: query.offset,
    limit: query.limit,
  };
  const valued = await statementRecords<RunRecord>(
    sql,
    ProcessRun,
    valuedRunsPageSql(platform, dialect, page),
  );
  if (valued.length === page.limit) return valued;
  // The page reaches past the last value: where the runs without one start.
  let valuedCount = page.offset + valued.length;
  if (valued.length === 0 && page.offset > 0) {
    const count = valuedRunsCountSql(platform, page);
    const [row] = await sql.execute<{ count: number | string }[]>(count.sql, count.params, 'all');
    valuedCount = Number(row?.count ?? 0);
  }
  if (valuedCount >= total) return valued;
  const rest = await statementRecords<RunRecord>(
    sql,
    ProcessRun,
    unvaluedRunsPageSql(platform, dialect, {
      ...page,
      offset: page.offset + valued.length - valuedCount,
      limit: page.limit - valued.length,
    }),
  );
  return [...valued, ...rest];
}

/**
 * Whether a page of `total` matches of a "contains" search reads the matches from the SQLite trigram
 * index first (sqlite-run-text.ts: a lookup of each and a sort) rather than walking the page's order
 * through the N live runs in range (`processId`'s, from the run counts) and testing each. Measured at a
 * million runs, a match read first costs about ten times a run walked, and the walk finds
 * `offset + limit` matches after (offset + limit) × N / total runs: so first when 10 × total² is below
 * (offset + limit) × N — a rare name, or a page deep into a common one. Unknown N: first (bounded by the
 * matches, where the walk is not).
 */
export async function textMatchesFirst(
  em: EntityManager,
  page: { processId?: number; offset: number; limit: number },
  total: number,
): Promise<boolean> {
  const inRange = await countedTotal(em, { process_id: page.processId });
  return inRange === undefined || 10 * total * total < (page.offset + page.limit) * inRange;
}

/** What PostgreSQL's new run reads of its process (`readProcessWithSteps`), with its declared fields. */
interface ProcessSnapshot {
  process: ProcessRecord;
  version: ProcessVersion;
  steps: StepToRun[];
  fields: string[];
  /** When it was read (`performance.now()`). */
  readAt: number;
}

/**
 * How long a process read for a new run is used again (PostgreSQL): a new run is written only while the
 * process is still the version read (its xmin), so this bounds memory and staleness, not correctness. Far
 * shorter than the 2^32 transactions after which an xmin could come round again.
 */
const PROCESS_SNAPSHOT_MS = 30_000;

/** At most this many processes' snapshots are kept (the least recently used goes first). */
const MAX_PROCESS_SNAPSHOTS = 1000;

/** Process runs: start, read, list and change metadata (any role). */
export class RunService {
  readonly #dialect: Dialect;
  /** PostgreSQL: the processes read for new runs, by id (`#createOnUnchangedProcess`). */
  readonly #snapshots = new LruMap<number, ProcessSnapshot>(MAX_PROCESS_SNAPSHOTS);
  /** PostgreSQL: runs as this server last wrote them, new runs among them (kept-runs.ts, `StepRunService`). */
  readonly #kept: KeptRuns;

  constructor(options: { dialect: Dialect; keptRuns?: KeptRuns }) {
    this.#dialect = options.dialect;
    this.#kept = options.keptRuns ?? new KeptRuns();
  }

  /**
   * Starts a run of the live process `input.process_id` (NotFoundError otherwise), in one transaction:
   * the run (`pending`, `scheduled_deletion_at` from the process's retention) and one pending step run
   * per live step in index order, copying can_rerun, rerun_config and max_reruns from the step. When the
   * process was deleted while this ran, the run is hidden with it and the answer is NotFoundError.
   */
  async create(em: EntityManager, input: NewRun): Promise<RunWithSteps> {
    if (this.#dialect === 'postgresql') {
      const created = await this.#createOnUnchangedProcess(em as SqlEntityManager, input);
      if (created !== undefined) return created;
    }
    let fields: string[] = [];
    const created = await em.transactional(async (tx) => {
      const sql = tx as SqlEntityManager;
      // First, before any other lock: the process and the fields indexed for its runs (run-fields.ts).
      const { process, steps } = await lockProcessAndSteps(sql, this.#dialect, input.process_id);
      fields = indexedMetaFields(storedObject(process?.meta));
      if (process === undefined || process.deleted_at != null) {
        throw new NotFoundError(`Process ${input.process_id} not found`);
      }
      if (this.#dialect === 'postgresql' && steps.length <= MAX_STEP_RUNS_PER_STATEMENT) {
        const { run, steps: stepRuns } = (await insertRunOnPostgres(sql, input, process, steps, fields))!;
        return { run, steps: stepRuns };
      }
      const now = new Date();
      const values = newRunValues(input, process, now);
      // Rows, not entities: the robots' second most frequent call (see `StepRunService.report`).
      const run: RunRecord = { id: Number(await tx.insert(ProcessRun, values)), ...values };
      if (steps.length > 0) {
        await tx.insertMany(
          ProcessStepRun,
          steps.map((step) => newStepRunData(run.id, step, now)),
        );
      }
      await indexRunFields(tx, this.#dialect, run.id, fields, { fresh: true });
      await adjustRunCounts(tx, process.id, countedRun(run, 1));
      // The step runs as stored, with the ids the database gave them.
      return { run, steps: (await currentStepRunRecordsOf(sql, [run.id])).get(run.id) ?? [] };
    });
    // On PostgreSQL the share lock on the process's row already orders the two: a delete writes the row
    // first, so it either committed before the lock was granted (the run is refused above) or waits for this
    // transaction and then hides the run with the others.
    if (this.#dialect !== 'postgresql') await refuseIfProcessDeletedMeanwhile(em, input.process_id);
    await reindexRunIfFieldsChanged(em, this.#dialect, input.process_id, created.run.id, fields);
    return created;
  }

  /**
   * `create` on PostgreSQL in two statements (postgres-run-writes.ts): the process and its steps read, then
   * everything written in one statement while the process is the version read, under its share lock (so a
   * delete of the process waits for the run and hides it, as in `create`). Undefined when the process
   * changed in between (nothing written), or has more steps than one statement takes.
   *
   * The read is kept (`#snapshots`) and used again by the next runs of the process, which then take one
   * statement: the version guards them as it guards the second statement. Every change of what a new run
   * copies writes the process's row, its steps included (`touchProcessRow`), so a run written on a kept
   * read is one the process would give now; when the row has moved on, nothing is written and the process
   * is read again.
   *
   * The new run is kept too (`#kept`), so the robot's first report on it takes one statement as well.
   */
  async #createOnUnchangedProcess(em: SqlEntityManager, input: NewRun): Promise<RunWithSteps | undefined> {
    const kept = this.#snapshots.get(input.process_id);
    if (kept !== undefined && performance.now() - kept.readAt < PROCESS_SNAPSHOT_MS) {
      const created = await insertRunOnPostgres(
        em,
        input,
        kept.process,
        kept.steps,
        kept.fields,
        kept.version,
      );
      if (created !== undefined) return this.#keepNewRun(created);
    }
    this.#snapshots.delete(input.process_id);
    const read = await readProcessWithSteps(em, input.process_id);
    if (read === undefined || read.process.deleted_at != null) {
      throw new NotFoundError(`Process ${input.process_id} not found`);
    }
    if (read.steps.length > MAX_STEP_RUNS_PER_STATEMENT) return undefined;
    const fields = indexedMetaFields(storedObject(read.process.meta));
    const created = await insertRunOnPostgres(em, input, read.process, read.steps, fields, read.version);
    if (created === undefined) return undefined;
    this.#snapshots.set(input.process_id, { ...read, fields, readAt: performance.now() });
    return this.#keepNewRun(created);
  }

  /** Keeps a new run as written (`#kept`) and answers it. */
  #keepNewRun(created: WrittenRun): RunWithSteps {
    const { run, steps, version } = created;
    const { id, process, status, started_at, finished_at } = run;
    this.#kept.keep({ id, process, status, started_at, finished_at }, steps, version);
    return { run, steps };
  }

  /** The live run `id` with its current step runs; NotFoundError when there is none. */
  async get(em: EntityManager, id: number): Promise<RunWithSteps> {
    const [run] = await runRecords(em as SqlEntityManager, [id]);
    if (run === undefined) throw new NotFoundError(`Run ${id} not found`);
    const steps = await currentStepRunRecordsOf(em, [id]);
    return { run, steps: steps.get(id) ?? [] };
  }

  /**
   * Changes the values of keys that already exist in the run's meta. Any other key is a BadRequestError
   * naming the unknown and the existing keys, and nothing changes; an empty `meta` changes nothing.
   */
  async updateMetadata(em: EntityManager, id: number, meta: Record<string, unknown>): Promise<RunWithSteps> {
    if (Object.keys(meta).length === 0) return this.get(em, id);
    const [found] = await runRecords(em as SqlEntityManager, [id]);
    if (found === undefined) throw new NotFoundError(`Run ${id} not found`);
    const processId = refId(found.process);
    let fields: string[] = [];
    await em.transactional(async (tx) => {
      // First, before the run's lock: the fields indexed for the process's runs (run-fields.ts).
      fields = indexedMetaFields((await lockProcessMeta(tx, this.#dialect, processId)) ?? {});
      const run = await lockRun(tx, id);
      if (run === undefined) throw new NotFoundError(`Run ${id} not found`);
      const existing = Object.keys(run.meta);
      const unknown = Object.keys(meta).filter((key) => !Object.hasOwn(run.meta, key));
      if (unknown.length > 0) {
        throw new BadRequestError(
          `Metadata keys not in the run's meta: ${unknown.join(', ')}. ` +
            (existing.length === 0
              ? 'The run has no metadata keys.'
              : `Existing keys: ${existing.join(', ')}.`),
        );
      }
      run.meta = { ...run.meta, ...meta };
      await tx.flush();
      await indexRunFields(tx, this.#dialect, id, fields);
    });
    await reindexRunIfFieldsChanged(em, this.#dialect, processId, id, fields);
    return this.get(em, id);
  }

  /** One page of live runs matching `query`, each with its current step runs, and the total. */
  async list(em: EntityManager, listQuery: RunListQuery): Promise<{ items: RunWithSteps[]; total: number }> {
    const sql = em as SqlEntityManager;
    const query = { ...listQuery, filters: await withMetaIndex(em, listQuery.filters) };
    // On SQLite, `entity_name` is counted from the trigram index where the text allows (run-queries.ts).
    const counted = { ...query.filters, entityNameIndex: true };
    const total =
      (byProcessAndStatusOnly(query.filters) ? await countedTotal(em, query.filters) : undefined) ??
      (await indexedMetaTotal(em, query.filters)) ??
      Number(
        (await runCountQuery(sql, this.#dialect, counted).execute<{ count: number | string }>('get')).count,
      );
    const name = query.filters.entity_name;
    const nameFirst =
      total > 0 &&
      this.#dialect === 'sqlite' &&
      name !== undefined &&
      trigramPhrase(name) !== undefined &&
      (await textMatchesFirst(
        em,
        { processId: query.filters.process_id, offset: query.offset, limit: query.limit },
        total,
      ));
    const named = nameFirst ? { ...query, filters: { ...query.filters, entityNameIndex: true } } : query;
    const page = total === 0 ? query : await withMetaProbe(em, named, total);
    const runs =
      total === 0
        ? []
        : ((await fieldOrderedPage(em, this.#dialect, page, total)) ??
          (await queryRecords<RunRecord>(sql, ProcessRun, runPageQuery(sql, this.#dialect, page))));
    const steps = await currentStepRunRecordsOf(
      em,
      runs.map((run) => run.id),
    );
    return { items: runs.map((run) => ({ run, steps: steps.get(run.id) ?? [] })), total };
  }
}
