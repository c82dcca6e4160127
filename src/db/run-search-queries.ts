/**
 * The SQL of global run search (`GET /api/v1/runs/search`) and of the distinct run-meta values of a
 * process (`GET /api/v1/processes/{id}/filter-metadata`), for all three dialects. `mssql-queries.ts`
 * renders them offline so `make check-tsql` parses the T-SQL they emit.
 *
 * Built on run-queries.ts: run-meta values are read as text by `metaText` (the text `meta_filter`
 * compares, so a listed distinct value filters its runs), and "contains" is `likeContains`'s LIKE with
 * the search text's wildcards matching literally. Every value is a parameter, never spliced into the SQL
 * by us; meta field names have passed `isMetaField` and are parameters too (JSON paths or keys). MikroORM 7
 * writes parameters into the statement as escaped literals: on SQL Server a string must be its
 * `UnicodeString` to become `N'…'`, or characters outside the database's code page turn into `?` (as
 * mssql-unicode-json.ts does for JSON columns) — `unicodeParams` does that here. QueryBuilders and raw SQL
 * do not apply the soft-delete filter: every query here says `deleted_at is null` itself.
 */
import { raw, type Platform, type RawQueryFragment } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { ProcessRun, RUN_STATUSES, type RunStatus } from '../entities/index.ts';
import type { Dialect } from './database-url.ts';
import { runTextMatch, trigramPhrase, type RunTextColumn } from './sqlite-run-text.ts';
import {
  columnLike,
  likeContains,
  metaPath,
  metaText,
  placeholders,
  unicodeParams,
  type SqlFragment,
} from './run-queries.ts';

/** The run columns global search looks in, in the order their matches are listed. */
export const SEARCHED_RUN_COLUMNS = ['entity_id', 'entity_name', 'status'] as const;
export type SearchedRunColumn = (typeof SEARCHED_RUN_COLUMNS)[number];

/**
 * At most this many declared meta fields are searched (the first ones declared): each adds up to six
 * parameters to the page query, which stays well within SQL Server's 2,100 per statement (and a statement
 * of bounded length, as MikroORM 7 inlines them).
 */
export const MAX_SEARCHED_META_FIELDS = 100;

/** At most this many distinct values of one meta field are listed (the contract's bound). */
export const MAX_DISTINCT_META_VALUES = 1000;

/** Meta fields whose distinct values one statement reads (a UNION ALL branch each). */
const DISTINCT_FIELDS_PER_STATEMENT = 50;

/** A searched field: a run column or a meta field. */
export type SearchedField = { column: SearchedRunColumn } | { metaField: string };

export interface RunSearchQuery {
  /** The search text (not empty). */
  text: string;
  /** Only runs of this (live) process. */
  process_id?: number;
  /** The fields to look in (meta fields only with `process_id`), at most `MAX_SEARCHED_META_FIELDS` of them. */
  fields: readonly SearchedField[];
  offset: number;
  limit: number;
  /**
   * Read the matches from the indexes first, where there are such (`readsMatchesFirst`): on SQLite narrow
   * the runs to those the trigram index finds (sqlite-run-text.ts), where the fields and the text allow
   * (`searchTextIndexed`); with `indexedMetaFields`, take the runs `matchingRunIds` finds. Else (or
   * without) the runs in range are tested one by one, as a page's order reaches them.
   */
  textIndex?: boolean;
  /**
   * The meta fields whose values `process_run_field` holds for every live run of `process_id` (the
   * process's `indexedMetaFields`, src/db/run-fields.ts): those of them searched are looked for in its
   * values, not in the JSON of the runs (`indexedMetaContains`, `matchingRunIds`). Only with `process_id`.
   * On PostgreSQL its trigram index finds a selective text's rows without reading the others; on SQL
   * Server (no substring index) the process's range of the values' B-tree is read instead of the JSON of
   * each of its runs. SQLite's trigram index holds the meta values itself (sqlite-run-text.ts).
   */
  indexedMetaFields?: ReadonlySet<string>;
}

/**
 * The phrase of the SQLite trigram index (sqlite-run-text.ts) that finds every run the search finds, or
 * undefined: only where the text allows (`trigramPhrase`) and no field it looks in is a status the text is
 * part of (the index holds entity_id, entity_name and the top-level values of `meta`, not the status).
 */
export function searchTextIndexed(
  dialect: Dialect,
  query: Omit<RunSearchQuery, 'textIndex'>,
): string | undefined {
  if (dialect !== 'sqlite') return undefined;
  const noStatus = statusesContaining(query.text).length === 0;
  const indexed = query.fields.every(
    (field) => !('column' in field) || field.column !== 'status' || noStatus,
  );
  return indexed ? trigramPhrase(query.text) : undefined;
}

/** The columns of the SQLite trigram index that hold the fields a search looks in. */
function searchedTextColumns(query: RunSearchQuery): RunTextColumn[] {
  const columns = new Set<RunTextColumn>();
  for (const field of query.fields) {
    if ('metaField' in field) columns.add('meta');
    else if (field.column !== 'status') columns.add(field.column);
  }
  return [...columns];
}

/** Whether `textIndex` changes how the search reads its matches. */
export function readsMatchesFirst(dialect: Dialect, query: Omit<RunSearchQuery, 'textIndex'>): boolean {
  return searchTextIndexed(dialect, query) !== undefined || indexedMetaFieldsOf(query).size > 0;
}

/**
 * The text of a meta field's value when it is a string, number or boolean (as `metaText` reads it), else
 * null: objects and arrays are left out on every database, since SQL Server's json_value cannot read them
 * and SQLite and PostgreSQL would each write their JSON text differently.
 */
export function metaScalarText(dialect: Dialect, field: string): SqlFragment {
  const text = metaText(dialect, field);
  switch (dialect) {
    case 'mssql':
      // openjson's type: 1 string, 2 number, 3 boolean (0 null, 4 array, 5 object). json_value alone is
      // null for objects and arrays, but Babelfish answers 'null' for a JSON null. The typed ELSE keeps
      // the CASE nvarchar: without it Babelfish makes it varchar and turns 'ř' and '🚀' into '?'.
      return {
        sql: `(case when exists (select 1 from openjson(r.meta) j where j.[key] = ? and j.[type] in (1, 2, 3)) then ${text.sql} else cast(null as nvarchar(4000)) end)`,
        params: [field, ...text.params],
      };
    case 'postgresql':
      return {
        sql: `(case when jsonb_typeof(r.meta::jsonb -> ?) in ('object', 'array') then null else ${text.sql} end)`,
        params: [field, ...text.params],
      };
    case 'sqlite':
      return {
        sql: `(case when json_type(r.meta, ?) in ('object', 'array') then null else ${text.sql} end)`,
        params: [metaPath(field), ...text.params],
      };
  }
}

/**
 * `field` contains `text`, ignoring case: lower() on both sides, so the column and the text are folded by
 * the same function (Unicode on every database; SQLite's is registered in orm.ts). Statuses are compared
 * as stored (`FAILED`), which lower() makes their wire spelling.
 */
function fieldContains(
  platform: Platform,
  dialect: Dialect,
  field: SearchedField,
  text: string,
  indexedMetaFields: ReadonlySet<string> = new Set(),
): SqlFragment {
  if ('column' in field && field.column === 'status') return statusContains(text);
  const like = likeContains(dialect, text);
  if ('column' in field) {
    const condition = columnLike(dialect, `r.${field.column}`, 'lower(?)', like);
    return { sql: condition.sql, params: unicodeParams(platform, condition.params) };
  }
  if (indexedMetaFields.has(field.metaField)) {
    return indexedMetaContains(platform, dialect, field.metaField, like);
  }
  return jsonMetaContains(platform, dialect, field.metaField, like);
}

/** The meta field's text in the JSON of run `r` (`metaScalarText`) contains the pattern, ignoring case. */
function jsonMetaContains(
  platform: Platform,
  dialect: Dialect,
  field: string,
  like: { pattern: string; escape: string },
): SqlFragment {
  const value = metaScalarText(dialect, field);
  return {
    sql: `lower(${value.sql}) like lower(?)${like.escape}`,
    params: unicodeParams(platform, [...value.params, like.pattern]),
  };
}

/**
 * The same answer as `jsonMetaContains` for a field `process_run_field` holds (`indexedMetaFields`), from
 * the run's row: its `value` (the same text, stored by the database's own expression, run-fields.ts)
 * contains the pattern, or, where that text was too long to store (`value` null), the JSON does. A run
 * without a row has no text. For the flags of a page's runs; `matchingRunIds` finds the runs.
 */
function indexedMetaContains(
  platform: Platform,
  dialect: Dialect,
  field: string,
  like: { pattern: string; escape: string },
): SqlFragment {
  const json = jsonMetaContains(platform, dialect, field, like);
  const value = columnLike(dialect, 'm.value', 'lower(?)', like);
  return {
    sql:
      'exists (select 1 from process_run_field m where m.run_id = r.id and m.field = ? and ' +
      `(${value.sql} or (m.value is null and ${json.sql})))`,
    params: [...unicodeParams(platform, [field, ...value.params]), ...json.params],
  };
}

/**
 * The ids of the live runs of `query.process_id` in which a searched field contains the text (the OR of
 * `fieldConditions`), as what the indexes find, a UNION of three sets:
 * - runs whose run columns (or meta fields without rows in `process_run_field`) contain it: the OR of
 *   those fields' conditions (PostgreSQL combines the trigram and status indexes' bitmaps);
 * - runs with a row of a searched indexed field whose `value` contains it (the trigram index of
 *   `process_id, lower(value)`: a selective text reads its rows in the process only, not its runs);
 * - runs with a row of a searched indexed field too long to store, whose JSON contains it in any of those
 *   fields (each field's JSON text is its stored value where there is one, so the answer is the same).
 * An OR of the three in one WHERE would read every run of the process: no index serves an OR with a
 * subquery. `process_run_field` has rows of live runs only. Inner queries name their run `r` too (the
 * fields' SQL is written for `r`).
 */
function matchingRunIds(
  platform: Platform,
  dialect: Dialect,
  query: RunSearchQuery & { process_id: number },
  indexed: ReadonlySet<string>,
): SqlFragment {
  const like = likeContains(dialect, query.text);
  const indexedFields = query.fields.flatMap((field) =>
    'metaField' in field && indexed.has(field.metaField) ? [field.metaField] : [],
  );
  const runFields = query.fields
    .filter((field) => !('metaField' in field && indexed.has(field.metaField)))
    .map((field) => fieldContains(platform, dialect, field, query.text));
  const json = indexedFields.map((field) => jsonMetaContains(platform, dialect, field, like));
  const fieldParams = unicodeParams(platform, indexedFields);
  const value = columnLike(dialect, 'm.value', 'lower(?)', like);
  const runs = 'select r.id from process_run r where r.process_id = ? and r.deleted_at is null and';
  const branches: SqlFragment[] = [
    {
      sql: `${runs} (${runFields.map((f) => f.sql).join(' or ')})`,
      params: [query.process_id, ...runFields.flatMap((f) => f.params)],
    },
    {
      sql:
        `select m.run_id from process_run_field m where m.process_id = ? and m.field in (${placeholders(indexedFields)}) ` +
        `and ${value.sql}`,
      params: [query.process_id, ...fieldParams, ...unicodeParams(platform, value.params)],
    },
    {
      sql:
        `${runs} r.id in (select m.run_id from process_run_field m where m.process_id = ? ` +
        `and m.field in (${placeholders(indexedFields)}) and m.value is null) and (${json.map((f) => f.sql).join(' or ')})`,
      params: [query.process_id, query.process_id, ...fieldParams, ...json.flatMap((f) => f.params)],
    },
  ];
  return {
    sql: branches.map((branch) => branch.sql).join(' union '),
    params: branches.flatMap((branch) => branch.params),
  };
}

/** The run statuses (wire spelling) `text` is part of, ignoring case. */
function statusesContaining(text: string): RunStatus[] {
  const folded = text.toLowerCase();
  return RUN_STATUSES.filter((status) => status.includes(folded));
}

/**
 * The status contains `text`, ignoring case, as the statuses the text is part of: `status in ('FAILED')`
 * (stored names are upper case), or nothing. The same answer as `lower(status) like '%text%'` — statuses
 * are a handful of ASCII words — but one an index on `status` serves, so that a search whose other fields
 * have indexes (PostgreSQL's trigram indexes) needs no scan of every run.
 */
function statusContains(text: string): SqlFragment {
  const statuses = statusesContaining(text).map((status) => status.toUpperCase());
  return statuses.length === 0
    ? { sql: '1 = 0', params: [] }
    : { sql: `r.status in (${placeholders(statuses)})`, params: statuses };
}

/** `fieldContains` of every searched field, in the order of `query.fields`. */
function fieldConditions(em: SqlEntityManager, dialect: Dialect, query: RunSearchQuery): SqlFragment[] {
  const indexed = indexedMetaFieldsOf(query);
  return query.fields.map((field) => fieldContains(em.getPlatform(), dialect, field, query.text, indexed));
}

/** `matchingRunIds` where some searched meta fields are indexed (`indexedMetaFields`), else undefined. */
function indexedMatchingRunIds(
  platform: Platform,
  dialect: Dialect,
  query: RunSearchQuery,
): SqlFragment | undefined {
  const indexed = indexedMetaFieldsOf(query);
  return query.process_id === undefined || indexed.size === 0
    ? undefined
    : matchingRunIds(platform, dialect, { ...query, process_id: query.process_id }, indexed);
}

/** The searched meta fields `process_run_field` answers for (`RunSearchQuery.indexedMetaFields`). */
function indexedMetaFieldsOf(query: RunSearchQuery): ReadonlySet<string> {
  const indexed = query.process_id === undefined ? undefined : query.indexedMetaFields;
  const searched = new Set(query.fields.flatMap((field) => ('metaField' in field ? [field.metaField] : [])));
  return new Set([...(indexed ?? [])].filter((field) => searched.has(field)));
}

/**
 * Live runs of live processes (of `process_id` if given) in which any of the fields contains the text
 * (`anyField`: the fields' conditions from `fieldConditions`).
 */
function searchCondition(
  em: SqlEntityManager,
  dialect: Dialect,
  query: RunSearchQuery,
  anyField: readonly SqlFragment[],
): { $and: object[] } {
  const ids = query.textIndex === true ? indexedMatchingRunIds(em.getPlatform(), dialect, query) : undefined;
  const matching =
    ids !== undefined
      ? { sql: `r.id in (${ids.sql})`, params: ids.params }
      : {
          sql: `(${anyField.map((condition) => condition.sql).join(' or ')})`,
          params: anyField.flatMap((c) => c.params),
        };
  const conditions: object[] = [
    { deleted_at: null },
    { [raw('exists (select 1 from process p where p.id = r.process_id and p.deleted_at is null)')]: [] },
    { [raw(matching.sql, matching.params)]: [] },
  ];
  if (query.process_id !== undefined) conditions.push({ process: query.process_id });
  const phrase = query.textIndex === true ? searchTextIndexed(dialect, query) : undefined;
  if (phrase !== undefined) {
    const match = runTextMatch(phrase, searchedTextColumns(query));
    conditions.push({ [raw(match.sql, match.params)]: [] });
  }
  return { $and: conditions };
}

/**
 * The page of matching runs, newest first (created_at, then id): each row `{ id, m0, m1, … }`, where
 * `m<i>` is 1 when `query.fields[i]` contains the text, else 0. The match flags are computed by the same
 * SQL as the search condition, for the page's rows only, so the matches shown are exactly why a run was
 * found, whatever each database's case folding.
 */
export function runSearchPageQuery(em: SqlEntityManager, dialect: Dialect, query: RunSearchQuery) {
  const anyField = fieldConditions(em, dialect, query);
  const flags = anyField.map((condition, index) =>
    raw(`(case when ${condition.sql} then 1 else 0 end) as m${index}`, condition.params),
  );
  return em
    .createQueryBuilder(ProcessRun, 'r')
    .select(['r.id', ...flags])
    .where(searchCondition(em, dialect, query, anyField))
    .orderBy([{ created_at: 'desc' }, { id: 'desc' }])
    .limit(query.limit)
    .offset(query.offset);
}

/**
 * The number of runs the search finds, as a row `{ count }`. Where declared meta fields are indexed
 * (`indexedMetaFields`), the ids `matchingRunIds` reads are counted as they are: they are live runs.
 */
export function runSearchCountQuery(
  em: SqlEntityManager,
  dialect: Dialect,
  query: RunSearchQuery,
): SqlFragment {
  const ids = indexedMatchingRunIds(em.getPlatform(), dialect, query);
  if (ids !== undefined) {
    return {
      sql:
        `select count(*) as count from (${ids.sql}) x ` +
        'where exists (select 1 from process p where p.id = ? and p.deleted_at is null)',
      params: [...ids.params, query.process_id],
    };
  }
  const { sql, params } = em
    .createQueryBuilder(ProcessRun, 'r')
    .count('r.id')
    .where(searchCondition(em, dialect, query, fieldConditions(em, dialect, query)))
    .toQuery();
  return { sql, params: [...params] };
}

/**
 * The distinct values of these meta fields (as `metaScalarText` reads them; nulls, objects and arrays
 * left out) across the live runs of `processId`, at most `MAX_DISTINCT_META_VALUES` per field (the first
 * ones in the database's order): rows `{ f, v }` with `f` the field's index in `fields`. SELECT DISTINCT
 * per field, UNION ALL, then row_number() per field for the bound. One statement per
 * `DISTINCT_FIELDS_PER_STATEMENT` fields.
 */
export function distinctMetaValuesQueries(
  em: SqlEntityManager,
  dialect: Dialect,
  processId: number,
  fields: readonly string[],
  indexed: ReadonlySet<string> = new Set(),
): RawQueryFragment[] {
  const platform = em.getPlatform();
  const statements: RawQueryFragment[] = [];
  for (let start = 0; start < fields.length; start += DISTINCT_FIELDS_PER_STATEMENT) {
    const branches = fields.slice(start, start + DISTINCT_FIELDS_PER_STATEMENT).map((field, offset) => {
      // The index is ours (a number), never request data.
      if (indexed.has(field)) {
        const values = distinctIndexedValuesSql(platform, dialect, processId, field);
        return { sql: `select ${start + offset} as f, y.v from (${values.sql}) y`, params: values.params };
      }
      const value = metaScalarText(dialect, field);
      return {
        sql: `select distinct ${start + offset} as f, ${value.sql} as v from process_run r where r.process_id = ? and r.deleted_at is null`,
        params: [...unicodeParams(platform, value.params), processId],
      };
    });
    statements.push(
      raw<RawQueryFragment>(
        [
          'select d.f, d.v from (select x.f, x.v, row_number() over (partition by x.f order by x.v) as rn',
          `from (${branches.map((branch) => branch.sql).join(' union all ')}) x where x.v is not null) d`,
          'where d.rn <= ?',
        ].join(' '),
        [...branches.flatMap((branch) => branch.params), MAX_DISTINCT_META_VALUES],
      ),
    );
  }
  return statements;
}

/**
 * The distinct values of field `field`, indexed in `process_run_field` (src/db/run-fields.ts, which has rows
 * of live runs only), among the runs of process `processId`, as rows `{ v }`: the first
 * `MAX_DISTINCT_META_VALUES` distinct values the index holds, in the database's order (read in index
 * order, so a field with a value per run costs no more than one with ten), and the values too long for the
 * index (stored as null) from the JSON of the runs that have one.
 */
export function distinctIndexedValuesSql(
  platform: Platform,
  dialect: Dialect,
  processId: number,
  field: string,
): SqlFragment {
  const [fieldParam] = unicodeParams(platform, [field]);
  const long = metaScalarText(dialect, field);
  // The bound is ours (a number), never request data; SQL Server says TOP where the others say LIMIT.
  const [top, limit] =
    dialect === 'mssql'
      ? [`top (${MAX_DISTINCT_META_VALUES}) `, '']
      : ['', ` limit ${MAX_DISTINCT_META_VALUES}`];
  return {
    sql: [
      `select d.value as v from (select distinct ${top}m.value from process_run_field m`,
      `where m.process_id = ? and m.field = ? and m.value is not null order by m.value${limit}) d`,
      `union select ${long.sql} as v from process_run r where r.deleted_at is null and r.id in`,
      '(select m.run_id from process_run_field m where m.process_id = ? and m.field = ? and m.value is null)',
    ].join(' '),
    params: [processId, fieldParam, ...unicodeParams(platform, long.params), processId, fieldParam],
  };
}
