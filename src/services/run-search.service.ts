import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { Dialect } from '../db/database-url.ts';
import {
  MAX_SEARCHED_META_FIELDS,
  runSearchCountQuery,
  runSearchPageQuery,
  SEARCHED_RUN_COLUMNS,
  readsMatchesFirst,
  type RunSearchQuery,
  type SearchedField,
} from '../db/run-search-queries.ts';
import { runRecords, type RunShape } from '../db/records.ts';
import { declaredMetaFields, indexedMetaFields } from '../db/meta-fields.ts';
import { liveProcess } from './process.service.ts';
import { currentStepRunRecordsOf, textMatchesFirst, type RunWithSteps } from './run.service.ts';

/** A field of a run that contains the search text, and its value (a meta field's as JSON). */
export interface RunSearchMatch {
  /** `entity_id`, `entity_name`, `status` or `meta.<field>`. */
  field: string;
  value: unknown;
}

export interface RunSearchHit extends RunWithSteps {
  matches: RunSearchMatch[];
}

export interface RunSearchRequest {
  q: string;
  process_id?: number;
  offset: number;
  limit: number;
}

/** Global search over the live runs of live processes (any role). */
export class RunSearchService {
  readonly #dialect: Dialect;

  constructor(options: { dialect: Dialect }) {
    this.#dialect = options.dialect;
  }

  /**
   * One page of live runs (of live processes; of `process_id` only, if given) in which `q` is a
   * case-insensitive substring of entity_id, entity_name or status (its wire spelling) or, with
   * `process_id`, of one of the process's declared run-meta fields (string, number or boolean values;
   * the first `MAX_SEARCHED_META_FIELDS` declared), newest first, each with its current step runs and the
   * fields that matched; and the total. NotFoundError when `process_id` is not a live process.
   */
  async search(
    em: EntityManager,
    request: RunSearchRequest,
  ): Promise<{ items: RunSearchHit[]; total: number }> {
    const fields: SearchedField[] = SEARCHED_RUN_COLUMNS.map((column) => ({ column }));
    let indexed: Set<string> | undefined;
    if (request.process_id !== undefined) {
      const process = await liveProcess(em, request.process_id);
      for (const field of declaredMetaFields(process.meta).slice(0, MAX_SEARCHED_META_FIELDS)) {
        fields.push({ metaField: field.name });
      }
      // The declared fields' values in process_run_field rather than in each run's JSON: on PostgreSQL with
      // its trigram index (postgres-trigram-indexes.ts); on SQL Server, which has no substring index, the
      // B-tree range of the process's values, not the JSON of every run. SQLite's trigram index holds the
      // meta values itself (sqlite-run-text.ts).
      if (this.#dialect !== 'sqlite') indexed = new Set(indexedMetaFields(process.meta));
    }
    const query: RunSearchQuery = {
      text: request.q,
      process_id: request.process_id,
      fields,
      offset: request.offset,
      limit: request.limit,
      indexedMetaFields: indexed,
    };
    const sql = em as SqlEntityManager;
    // The indexes find the matches for the count, and for a page where that is cheaper (run.service.ts).
    const count = runSearchCountQuery(sql, this.#dialect, { ...query, textIndex: true });
    const [counted] = await sql.execute<{ count: number | string }[]>(count.sql, count.params, 'all');
    const total = Number(counted?.count ?? 0);
    if (total === 0) return { items: [], total };
    const textIndex =
      readsMatchesFirst(this.#dialect, query) &&
      (await textMatchesFirst(
        em,
        { processId: request.process_id, offset: request.offset, limit: request.limit },
        total,
      ));
    const rows = await runSearchPageQuery(sql, this.#dialect, { ...query, textIndex }).execute<
      Record<string, unknown>[]
    >('all', false);
    const ids = rows.map((row) => Number(row['id']));
    const runs = new Map((await runRecords(sql, ids)).map((run) => [run.id, run] as const));
    const steps = await currentStepRunRecordsOf(em, ids);
    const items: RunSearchHit[] = [];
    for (const row of rows) {
      const run = runs.get(Number(row['id']));
      // Soft-deleted since the page was read: left out of this page.
      if (run === undefined) continue;
      const matches = fields
        .filter((_, index) => Number(row[`m${index}`]) === 1)
        .map((field) => matchOf(run, field));
      items.push({ run, steps: steps.get(run.id) ?? [], matches });
    }
    return { items, total };
  }
}

function matchOf(run: RunShape, field: SearchedField): RunSearchMatch {
  if ('metaField' in field) return { field: `meta.${field.metaField}`, value: run.meta[field.metaField] };
  return { field: field.column, value: run[field.column] };
}
