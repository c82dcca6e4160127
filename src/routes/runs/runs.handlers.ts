import type { Container } from '../../container.ts';
import type { HandlerMap, QueryParams } from '../../contract.ts';
import { isMetaField, RUN_ORDER_COLUMNS, type RunListFilters, type RunOrder } from '../../db/run-queries.ts';
import { onReadConnections } from '../../db/sqlite-readers.ts';
import { BadRequestError } from '../../errors/domain-errors.ts';
import { byProcessAndStatusOnly } from '../../services/run.service.ts';
import { noteAuditChanges } from '../../middleware/audit-trail.ts';
import { parseTimestamp } from '../../util/timestamps.ts';
import { pageOffset, pageRequest, sendPageHeaders } from '../pagination.ts';
import { toRunSearchItem } from './run-search.mapper.ts';
import { toProcessRun } from './runs.mapper.ts';

type RunsOperation =
  | 'createRun'
  | 'listRuns'
  | 'searchRuns'
  | 'getRun'
  | 'updateRunMetadata'
  | 'deleteRun'
  | 'restoreRun'
  | 'neutralizeRun';

/** A query parameter the validator accepted as an array, or one value (some clients send it once). */
const asList = <T>(value: T | readonly T[] | undefined): readonly T[] =>
  value === undefined ? [] : Array.isArray(value) ? (value as readonly T[]) : [value as T];

/**
 * `meta_filter` values (`field:value`, split on the first `:`) grouped by field. A value without `:`, an
 * empty field or a field name outside letters, digits, `_` and `-` is a BadRequestError.
 */
export function parseMetaFilters(values: readonly string[]): Map<string, string[]> {
  const byField = new Map<string, string[]>();
  for (const filter of values) {
    const colon = filter.indexOf(':');
    if (colon < 0) throw new BadRequestError(`meta_filter "${filter}" must be field:value`);
    const field = filter.slice(0, colon);
    if (field === '') throw new BadRequestError(`meta_filter "${filter}" has an empty field name`);
    if (!isMetaField(field)) {
      throw new BadRequestError(
        `meta_filter field "${field}" is invalid: use letters, digits, "_" and "-" (at most 100)`,
      );
    }
    const list = byField.get(field);
    if (list === undefined) byField.set(field, [filter.slice(colon + 1)]);
    else if (!list.includes(filter.slice(colon + 1))) list.push(filter.slice(colon + 1));
  }
  return byField;
}

/** `order_by`: a column of the allow-list or `meta.<field>`; anything else is a BadRequestError. */
export function parseRunOrder(orderBy: string): RunOrder {
  if (orderBy.startsWith('meta.')) {
    const field = orderBy.slice('meta.'.length);
    if (!isMetaField(field)) throw new BadRequestError(`order_by "${orderBy}" names an invalid meta field`);
    return { metaField: field };
  }
  const column = RUN_ORDER_COLUMNS.find((name) => name === orderBy);
  if (column === undefined) {
    throw new BadRequestError(
      `order_by "${orderBy}" is not sortable; use one of ${RUN_ORDER_COLUMNS.join(', ')} or meta.<field>`,
    );
  }
  return { column };
}

function timestamp(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = parseTimestamp(value);
  if (date === undefined) throw new BadRequestError(`${name} "${value}" is not a date or date-time`);
  return date;
}

function runFilters(query: QueryParams<'listRuns'>): RunListFilters {
  const statuses = [...new Set([...asList(query.status), ...asList(query.run_status)])];
  const meta = parseMetaFilters(asList(query.meta_filter));
  return {
    process_id: query.process_id,
    entity_id: query.entity_id,
    entity_name: query.entity_name,
    statuses: statuses.length === 0 ? undefined : statuses,
    failed_at: query.failed_at,
    created_after: timestamp('created_after', query.created_after),
    created_before: timestamp('created_before', query.created_before),
    started_after: timestamp('started_after', query.started_after),
    started_before: timestamp('started_before', query.started_before),
    finished_after: timestamp('finished_after', query.finished_after),
    finished_before: timestamp('finished_before', query.finished_before),
    meta: meta.size === 0 ? undefined : meta,
  };
}

/**
 * Whether a list reads its matches (to count them, or to sort them by a meta field): every filter but the
 * process and the status, whose totals the run counts keep. Such a list's reads go to SQLite's read
 * connections (sqlite-readers.ts); the others read a page's index range, cheaper on the event loop than
 * the rows' way to and from a thread (a page of 50 runs with 250 step runs on two cores: ~320 → ~300
 * req/s).
 */
export function readsMatches(query: { filters: RunListFilters; order: RunOrder }): boolean {
  return 'metaField' in query.order || !byProcessAndStatusOnly(query.filters);
}

/** Handlers of the `runs` tag. */
export function runsHandlers(container: Container): Pick<HandlerMap, RunsOperation> {
  const { runs } = container;
  return {
    createRun: async (req, res) => {
      const { process_id, entity_id, entity_name, meta } = req.body;
      const created = await runs.create(container.em(), { process_id, entity_id, entity_name, meta });
      res.status(201).json(toProcessRun(created));
    },
    listRuns: async (req, res) => {
      const page = pageRequest(req.query);
      const query = {
        filters: runFilters(req.query),
        order: parseRunOrder(req.query.order_by ?? 'created_at'),
        direction: req.query.sort_direction ?? 'desc',
        offset: pageOffset(page),
        limit: page.size,
      } as const;
      const list = () => runs.list(container.em(), query);
      const { items, total } = readsMatches(query) ? await onReadConnections(list) : await list();
      const meta = sendPageHeaders(req, res, page, total);
      res.json({ items: items.map(toProcessRun), ...meta });
    },
    searchRuns: async (req, res) => {
      const page = pageRequest(req.query);
      const query = {
        q: req.query.q,
        process_id: req.query.process_id,
        offset: pageOffset(page),
        limit: page.size,
      };
      const { items, total } = await onReadConnections(() =>
        container.runSearch.search(container.em(), query),
      );
      const meta = sendPageHeaders(req, res, page, total);
      res.json({ items: items.map(toRunSearchItem), ...meta });
    },
    getRun: async (req, res) => {
      res.json(toProcessRun(await runs.get(container.em(), req.params.run_id)));
    },
    updateRunMetadata: async (req, res) => {
      const updated = await runs.updateMetadata(container.em(), req.params.run_id, req.body.meta ?? {});
      res.json(toProcessRun(updated));
    },
    deleteRun: async (req, res) => {
      await container.lifecycle.deleteRun(container.em(), req.params.run_id);
      res.status(204).end();
    },
    restoreRun: async (req, res) => {
      res.json(toProcessRun(await container.lifecycle.restoreRun(container.em(), req.params.run_id)));
    },
    neutralizeRun: async (req, res) => {
      const outcome = await container.lifecycle.neutralizeRun(container.em(), req.params.run_id);
      noteAuditChanges(res, { was_already_neutralized: outcome.was_already_neutralized });
      res.json(outcome);
    },
  };
}
