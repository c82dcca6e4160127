/**
 * The SQL of listing runs (REQUIREMENTS §3 "Listing runs"), built with MikroORM's QueryBuilder for all
 * three dialects. `mssql-queries.ts` renders these same builders offline so `make check-tsql` parses the
 * T-SQL they emit.
 *
 * Every value is a bound parameter; identifiers never come from the request except as bound JSON paths
 * (PostgreSQL: a bound key) after `isMetaField` accepted them. JSON is read as text, so a meta filter
 * compares text on every database: `true`/`false` for booleans, the JSON number as written for numbers.
 */
import { raw, type Platform } from '@mikro-orm/core';
import type { QueryBuilder, SqlEntityManager } from '@mikro-orm/sql';
import { ProcessRun, type RunStatus } from '../entities/index.ts';
import type { Dialect } from './database-url.ts';
import { runTextMatch, trigramPhrase } from './sqlite-run-text.ts';

/** Columns `order_by` may name (the original's columns of a run). */
export const RUN_ORDER_COLUMNS = [
  'id',
  'process_id',
  'entity_id',
  'entity_name',
  'status',
  'started_at',
  'finished_at',
  'created_at',
  'updated_at',
] as const;
export type RunOrderColumn = (typeof RUN_ORDER_COLUMNS)[number];

/** Columns that may be null: sorted with nulls last in both directions, the same on every database. */
const NULLABLE_ORDER_COLUMNS: ReadonlySet<RunOrderColumn> = new Set([
  'entity_name',
  'started_at',
  'finished_at',
]);

/** A run-meta field name usable in `meta_filter` and `order_by=meta.<field>`: letters, digits, `_`, `-`. */
const META_FIELD = /^[\p{L}\p{N}_-]{1,100}$/u;

export function isMetaField(name: string): boolean {
  return META_FIELD.test(name);
}

export interface RunListFilters {
  process_id?: number;
  entity_id?: string;
  /** Case-insensitive "contains" (Unicode lower case on every database). */
  entity_name?: string;
  /**
   * On SQLite: narrow `entity_name` to the runs its trigram index finds first (sqlite-run-text.ts), where
   * the text allows — cheaper than reading every run unless the name is common and the page near the top.
   */
  entityNameIndex?: boolean;
  statuses?: readonly RunStatus[];
  /** A step id: runs with a failed current step run of that step. */
  failed_at?: number;
  created_after?: Date;
  created_before?: Date;
  started_after?: Date;
  started_before?: Date;
  finished_after?: Date;
  finished_before?: Date;
  /** meta field → accepted values (values of one field: OR; fields: AND). Field names pass `isMetaField`. */
  meta?: ReadonlyMap<string, readonly string[]>;
  /**
   * The `meta` fields that `process_run_field` answers (src/db/run-fields.ts): indexed in every one of
   * `processIds` (the runs' possible processes), with values the index can hold. The others read the JSON.
   * `probe`: test each run the page's order reaches against the index (`indexedMetaCondition`) instead of
   * reading every match first — cheaper when matches are common.
   */
  metaIndex?: { processIds: readonly number[]; fields: ReadonlySet<string>; probe?: boolean };
}

export type RunOrder = { column: RunOrderColumn } | { metaField: string };

export interface RunListQuery {
  filters: RunListFilters;
  order: RunOrder;
  direction: 'asc' | 'desc';
  offset: number;
  limit: number;
}

type RunQueryBuilder = QueryBuilder<ProcessRun, 'r'>;

export interface SqlFragment {
  sql: string;
  params: unknown[];
}

/** `?, ?, …`: one placeholder per item, for an IN list. */
export function placeholders(items: readonly unknown[]): string {
  return items.map(() => '?').join(', ');
}

/** The JSON path of a run-meta field (SQLite, SQL Server); the field passed `isMetaField`. */
export function metaPath(field: string): string {
  return `$."${field}"`;
}

/** The text of `r.meta -> field` as SQL, with the field bound. */
export function metaText(dialect: Dialect, field: string): SqlFragment {
  const path = metaPath(field);
  switch (dialect) {
    case 'postgresql':
      // meta is JSON text (json-properties.ts), read as jsonb.
      return { sql: '(r.meta::jsonb ->> ?)', params: [field] };
    case 'mssql':
      return { sql: 'json_value(r.meta, ?)', params: [path] };
    case 'sqlite':
      // json_extract gives SQLite values (1/0 for true/false); json_type tells booleans apart.
      return {
        sql: "(case json_type(r.meta, ?) when 'true' then 'true' when 'false' then 'false' else cast(json_extract(r.meta, ?) as text) end)",
        params: [path, path],
      };
  }
}

/**
 * `r.entity_name` contains `text`, ignoring case: a LIKE in which the wildcards of `text` match literally.
 * SQL Server brackets them (`[%]`, `[_]`, `[[]`: its own idiom, which Babelfish understands too, where
 * its ESCAPE clause is ignored); PostgreSQL and SQLite escape them with `!` (`[` is not special there).
 * lower() is Unicode-aware on PostgreSQL and SQL Server; on SQLite orm.ts registers a Unicode lower().
 */
function entityNameContains(platform: Platform, dialect: Dialect, text: string) {
  const like = likeContains(dialect, text.toLowerCase());
  const condition = columnLike(dialect, 'r.entity_name', '?', like);
  return raw(condition.sql, unicodeParams(platform, condition.params));
}

/**
 * `lower(<column>) like <pattern>`, the pattern (`?` or an expression of it, folded already) bound to
 * `like.pattern` wherever it is named. On SQLite lower() is JavaScript's (orm.ts), called for every row:
 * there SQLite's own LIKE, which folds ASCII letters only, answers first — a text it finds contains the
 * pattern folded too (the letters it matched are the pattern's, lower-case already) — and lower() is asked
 * only of the rows it does not find that hold a character beyond ASCII (`length()` counts characters, of a
 * blob bytes; for ASCII text the two LIKEs agree). The same answer, without a JavaScript call for most rows.
 */
export function columnLike(
  dialect: Dialect,
  column: string,
  pattern: string,
  like: { pattern: string; escape: string },
): SqlFragment {
  const folded = `lower(${column}) like ${pattern}${like.escape}`;
  if (dialect !== 'sqlite') return { sql: folded, params: [like.pattern] };
  return {
    sql:
      `(${column} like ${pattern}${like.escape} or ` +
      `(length(${column}) <> length(cast(${column} as blob)) and ${folded}))`,
    params: [like.pattern, like.pattern],
  };
}

/**
 * String parameters as the platform's string type writes them: `N'…'` on SQL Server, as is elsewhere.
 * MikroORM inlines every parameter into the SQL text; on SQL Server a literal without `N` is read in the
 * database's code page, so characters outside it (emoji, most non-Latin text) would become `?` and a
 * filter on them would match the wrong rows. Every string a raw fragment binds goes through this.
 */
export function unicodeParams(platform: Platform, params: readonly unknown[]): unknown[] {
  const text = platform.getMappedType('string');
  return params.map((param) =>
    typeof param === 'string' ? text.convertToDatabaseValue(param, platform) : param,
  );
}

/**
 * The LIKE pattern "contains `text`" with the wildcards of `text` matching literally (see
 * `entityNameContains`), and what follows the pattern's `?` in the SQL (the ESCAPE clause, if any).
 */
export function likeContains(dialect: Dialect, text: string): { pattern: string; escape: string } {
  return dialect === 'mssql'
    ? { pattern: `%${text.replace(/[%_[]/g, (character) => `[${character}]`)}%`, escape: '' }
    : { pattern: `%${text.replace(/[!%_]/g, (character) => `!${character}`)}%`, escape: " escape '!'" };
}

/**
 * The runs of these processes whose indexed meta field `field` has one of `values`, from
 * `process_run_field` (src/db/run-fields.ts) instead of the JSON. Two forms of the same condition, for
 * planners without statistics (SQLite): `r.id in (…)` reads the matches from the index first (then the
 * page sorts them: cheap for rare values); with `probe`, `exists (…)` looks each run up by its key as the
 * page's order index reaches it (cheap for common values; a count must not use it).
 */
export function indexedMetaCondition(
  platform: Platform,
  index: { processIds: readonly number[]; probe?: boolean },
  field: string,
  values: readonly string[],
): SqlFragment {
  const matching = unicodeParams(platform, [field, ...values]);
  return index.probe === true
    ? {
        sql:
          'exists (select 1 from process_run_field m where m.run_id = r.id and m.field = ? and ' +
          `m.value in (${placeholders(values)}))`,
        params: matching,
      }
    : {
        sql:
          'r.id in (select m.run_id from process_run_field m where ' +
          `m.process_id in (${placeholders(index.processIds)}) and m.field = ? and m.value in (${placeholders(values)}))`,
        params: [...index.processIds, ...matching],
      };
}

/**
 * A step run of the run is failed for this step and is its step's current attempt (no live rerun of it).
 * Written as the set of those runs (`r.id in (…)`, not correlated): the step's failed step runs are read
 * once, through their own index (process_step_run_failed_step_id_index), and each run in range is looked
 * up in that set. The correlated `exists (… fs.run_id = r.id …)` this replaced had SQLite (3.53) scan
 * every failed step run of the step for each run in range: a page at a million runs took 29 s, now
 * 35–62 ms, its count 41–108 ms. PostgreSQL plans both forms as the same semi-join (35–44 ms).
 */
const FAILED_AT = [
  'r.id in (select fs.run_id from process_step_run fs where fs.step_id = ?',
  "and fs.status = 'FAILED' and fs.deleted_at is null and not exists (select 1 from process_step_run nx",
  'where nx.rerun_of_id = fs.id and nx.deleted_at is null))',
].join(' ');

function applyFilters(
  qb: RunQueryBuilder,
  platform: Platform,
  dialect: Dialect,
  filters: RunListFilters,
): RunQueryBuilder {
  const range = (after?: Date, before?: Date) =>
    after === undefined && before === undefined
      ? undefined
      : {
          ...(after === undefined ? {} : { $gte: after }),
          ...(before === undefined ? {} : { $lte: before }),
        };
  const conditions: object[] = [{ deleted_at: null }];
  const add = (condition: object | undefined) => {
    if (condition !== undefined) conditions.push(condition);
  };
  if (filters.process_id !== undefined) add({ process: filters.process_id });
  if (filters.entity_id !== undefined) add({ entity_id: filters.entity_id });
  if (filters.entity_name !== undefined) {
    add({ [entityNameContains(platform, dialect, filters.entity_name)]: [] });
    const phrase = dialect === 'sqlite' ? trigramPhrase(filters.entity_name) : undefined;
    if (filters.entityNameIndex === true && phrase !== undefined) {
      const match = runTextMatch(phrase, ['entity_name']);
      add({ [raw(match.sql, match.params)]: [] });
    }
  }
  if (filters.statuses !== undefined && filters.statuses.length > 0)
    add({ status: { $in: [...filters.statuses] } });
  if (filters.failed_at !== undefined) add({ [raw(FAILED_AT, [filters.failed_at])]: [] });
  const created = range(filters.created_after, filters.created_before);
  if (created !== undefined) add({ created_at: created });
  const started = range(filters.started_after, filters.started_before);
  if (started !== undefined) add({ started_at: started });
  const finished = range(filters.finished_after, filters.finished_before);
  if (finished !== undefined) add({ finished_at: finished });
  for (const [field, values] of filters.meta ?? []) {
    if (filters.metaIndex?.fields.has(field) === true) {
      const indexed = indexedMetaCondition(platform, filters.metaIndex, field, values);
      add({ [raw(indexed.sql, indexed.params)]: [] });
      continue;
    }
    const text = metaText(dialect, field);
    const list = placeholders(values);
    add({ [raw(`${text.sql} in (${list})`, unicodeParams(platform, [...text.params, ...values]))]: [] });
  }
  return qb.where({ $and: conditions });
}

/** The ORDER BY of a page: the column or meta field (nulls last), then id in the same direction. */
function applyOrder(
  qb: RunQueryBuilder,
  platform: Platform,
  dialect: Dialect,
  order: RunOrder,
  direction: 'asc' | 'desc',
) {
  const parts: Record<string, 'asc' | 'desc'>[] = [];
  if ('metaField' in order) {
    const text = metaText(dialect, order.metaField);
    const params = unicodeParams(platform, text.params);
    parts.push({ [raw(`(case when ${text.sql} is null then 1 else 0 end)`, params)]: 'asc' });
    parts.push({ [raw(text.sql, params)]: direction });
  } else {
    if (NULLABLE_ORDER_COLUMNS.has(order.column)) {
      parts.push({ [raw(`(case when r.${order.column} is null then 1 else 0 end)`)]: 'asc' });
    }
    parts.push({ [order.column === 'process_id' ? 'process' : order.column]: direction });
  }
  if (!('column' in order && order.column === 'id')) parts.push({ id: direction });
  return qb.orderBy(parts);
}

/** The runs of one page (entities, without their step runs). */
export function runPageQuery(em: SqlEntityManager, dialect: Dialect, query: RunListQuery): RunQueryBuilder {
  const qb = em.createQueryBuilder(ProcessRun, 'r').select('*');
  applyFilters(qb, em.getPlatform(), dialect, query.filters);
  applyOrder(qb, em.getPlatform(), dialect, query.order, query.direction);
  return qb.limit(query.limit).offset(query.offset);
}

/** The number of runs matching the filters. */
export function runCountQuery(
  em: SqlEntityManager,
  dialect: Dialect,
  filters: RunListFilters,
): RunQueryBuilder {
  const qb = em.createQueryBuilder(ProcessRun, 'r').count('r.id');
  return applyFilters(qb, em.getPlatform(), dialect, filters);
}
