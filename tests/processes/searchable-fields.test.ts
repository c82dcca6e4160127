/**
 * The specification of `GET /api/v1/processes/{id}/searchable-fields` (getProcessSearchableFields, the
 * seed's shape) and `GET /api/v1/processes/{id}/filter-metadata` (getProcessFilterMetadata, the
 * original's shape with the distinct values of each declared run-meta field).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Process, ProcessRun } from '../../src/entities/index.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import type { Schemas } from '../../src/contract.ts';
import { reindexAllRunFields } from '../../src/db/meta-fields.ts';
import { ormDialect } from '../../src/db/orm.ts';
import { recountRuns } from '../../src/db/run-counts.ts';

type SearchableFields = Schemas['SearchableFields'];
type FilterMetadata = Schemas['FilterMetadata'];
type Problem = Schemas['Problem'];

/** The original's standard run fields, exactly. */
const STANDARD_FIELDS = {
  id: { type: 'integer', description: 'Process run ID', sortable: true, filterable: false },
  entity_id: {
    type: 'string',
    description: 'Entity identifier (e.g., CPR, case number)',
    sortable: true,
    filterable: true,
  },
  entity_name: {
    type: 'string',
    description: 'Entity name (e.g., person name)',
    sortable: true,
    filterable: true,
  },
  status: {
    type: 'enum',
    description: 'Process run status',
    values: ['pending', 'running', 'completed', 'failed', 'cancelled'],
    sortable: true,
    filterable: true,
  },
  started_at: {
    type: 'datetime',
    description: 'When the process run started',
    sortable: true,
    filterable: true,
    filter_types: ['after', 'before'],
  },
  finished_at: {
    type: 'datetime',
    description: 'When the process run finished',
    sortable: true,
    filterable: true,
    filter_types: ['after', 'before'],
  },
  created_at: {
    type: 'datetime',
    description: 'When the record was created',
    sortable: true,
    filterable: true,
    filter_types: ['after', 'before'],
  },
  updated_at: {
    type: 'datetime',
    description: 'When the record was last updated',
    sortable: true,
    filterable: false,
  },
};
const STANDARD_SORTABLE = [
  'id',
  'entity_id',
  'entity_name',
  'status',
  'started_at',
  'finished_at',
  'created_at',
  'updated_at',
];
const STANDARD_FILTERABLE = ['entity_id', 'entity_name', 'status', 'started_at', 'finished_at', 'created_at'];
const FILTERING_HELP = {
  metadata: "Use meta_filter parameter with format 'field:value'",
  dates: 'Use ISO format for date filters (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)',
  partial_match: 'entity_name supports partial matching',
};
const metaField = (name: string, type: string) => ({
  type,
  description: `Metadata field: ${name}`,
  sortable: true,
  filterable: true,
  sortable_as: `meta.${name}`,
  filter_format: 'meta_filter parameter: field:value',
});

/** Declared in this order; "bad name" cannot be used by GET /runs and is left out everywhere. */
const SCHEMA = {
  kommune: 'string',
  n: 'integer',
  flag: 'boolean',
  'bad name': 'string',
  adresse: 'object',
  tom: 'string',
  'område-2': 'string',
};
const FIELDS = ['kommune', 'n', 'flag', 'adresse', 'tom', 'område-2'];

describe('searchable fields and filter metadata of a process', () => {
  let server: TestServer;
  let flytning: number;
  let bare: number;
  let deleted: number;

  const post = <T>(path: string, body: unknown): Promise<T> => server.json<T>('POST', path, body, 201);
  const run = (processId: number, meta: Record<string, unknown>) =>
    post<{ id: number }>('/api/v1/runs', { process_id: processId, entity_id: 'E-1', meta });
  const get = async <T>(path: string, key?: string): Promise<T> => {
    const response = await server.request(path, key === undefined ? {} : { headers: { 'X-API-Key': key } });
    expect(response.status, path).toBe(200);
    return (await response.json()) as T;
  };
  const expectNotFound = async (path: string) => {
    const response = await server.request(path);
    expect(response.status, path).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await response.json()) as Problem).status).toBe(404);
  };

  beforeAll(async () => {
    server = await startTestServer();
    flytning = (
      await post<{ id: number }>('/api/v1/processes', {
        name: 'Borgerservice – flytning',
        meta: { owner: 'rpa.team', run_metadata_schema: SCHEMA },
      })
    ).id;
    bare = (await post<{ id: number }>('/api/v1/processes', { name: 'Uden skema', meta: { owner: 'x' } })).id;
    deleted = (
      await post<{ id: number }>('/api/v1/processes', {
        name: 'Slettet',
        meta: { run_metadata_schema: { kommune: 'string' } },
      })
    ).id;

    await run(flytning, {
      kommune: 'Skanderborg',
      n: 5,
      flag: true,
      adresse: { vej: 'Åvej 1' },
      'område-2': 'Øst',
    });
    await run(flytning, { kommune: 'Aarhus', n: 10, flag: false, adresse: ['Åvej'] });
    await run(flytning, { kommune: 'Aarhus', n: '7', 'bad name': 'x' });
    await run(flytning, { kommune: 'Ærø', n: 7 });
    await run(flytning, { kommune: 'Odense', n: 2.5, flag: true });
    await run(flytning, { kommune: null, n: -3, 'område-2': 'Øst' });
    await run(flytning, { kommune: 'Zealand 🚀', andet: 'udeklareret', 'område-2': 'Dvůr Řeka' });
    await run(flytning, {});
    const gone = await run(flytning, { kommune: 'Slettet by', n: 99 });
    await run(bare, { kommune: 'Andet' });
    await run(deleted, { kommune: 'Slettet proces' });
    const em = server.container.orm.em.fork();
    await em.nativeUpdate(ProcessRun, { id: gone.id }, { deleted_at: new Date() });
    await em.nativeUpdate(Process, { id: deleted }, { deleted_at: new Date() });
    // Written behind the service's back: the run counts counted and the declared meta values indexed
    // again, as `make recount-runs` does.
    await recountRuns(em);
    await reindexAllRunFields(em, ormDialect(server.container.orm));
  });
  afterAll(async () => {
    await server?.close();
  });

  describe('GET /api/v1/processes/{process_id}/searchable-fields (getProcessSearchableFields)', () => {
    it('answers the standard fields and the declared meta fields in declaration order', async () => {
      const body = await get<SearchableFields>(`/api/v1/processes/${flytning}/searchable-fields`);
      expect(body).toEqual({
        process_id: flytning,
        process_name: 'Borgerservice – flytning',
        standard_fields: STANDARD_FIELDS,
        metadata_fields: {
          kommune: metaField('kommune', 'string'),
          n: metaField('n', 'integer'),
          flag: metaField('flag', 'boolean'),
          adresse: metaField('adresse', 'object'),
          tom: metaField('tom', 'string'),
          'område-2': metaField('område-2', 'string'),
        },
        all_sortable_fields: [...STANDARD_SORTABLE, ...FIELDS.map((field) => `meta.${field}`)],
        all_filterable_fields: [...STANDARD_FILTERABLE, ...FIELDS.map((field) => `meta.${field}`)],
        field_count: { standard: 8, metadata: 6, total: 14 },
        filtering_help: FILTERING_HELP,
      });
      expect(Object.keys(body.standard_fields)).toEqual(STANDARD_SORTABLE);
      expect(Object.keys(body.metadata_fields)).toEqual(FIELDS);
    });

    it('a process without run_metadata_schema has the standard fields only', async () => {
      const body = await get<SearchableFields>(`/api/v1/processes/${bare}/searchable-fields`, server.userKey);
      expect(body).toEqual({
        process_id: bare,
        process_name: 'Uden skema',
        standard_fields: STANDARD_FIELDS,
        metadata_fields: {},
        all_sortable_fields: STANDARD_SORTABLE,
        all_filterable_fields: STANDARD_FILTERABLE,
        field_count: { standard: 8, metadata: 0, total: 8 },
        filtering_help: FILTERING_HELP,
      });
    });

    it('a declared type that is not a string (stored by another client) is shown as JSON', async () => {
      const odd = (await post<{ id: number }>('/api/v1/processes', { name: 'Gammelt skema' })).id;
      await server.container.orm.em
        .fork()
        .nativeUpdate(Process, { id: odd }, { meta: { run_metadata_schema: { sag: { type: 'string' } } } });
      const body = await get<SearchableFields>(`/api/v1/processes/${odd}/searchable-fields`);
      expect(body.metadata_fields).toEqual({ sag: metaField('sag', '{"type":"string"}') });
    });

    it('an unknown or soft-deleted process is 404', async () => {
      await expectNotFound(`/api/v1/processes/2147483647/searchable-fields`);
      await expectNotFound(`/api/v1/processes/${deleted}/searchable-fields`);
    });
  });

  describe('GET /api/v1/processes/{process_id}/filter-metadata (getProcessFilterMetadata)', () => {
    it('answers the field definitions and the distinct values of each declared field, as sorted strings', async () => {
      const body = await get<FilterMetadata>(`/api/v1/processes/${flytning}/filter-metadata`);
      const searchable = await get<SearchableFields>(`/api/v1/processes/${flytning}/searchable-fields`);
      expect(body).toEqual({
        process_id: flytning,
        process_name: 'Borgerservice – flytning',
        searchable_fields: {
          standard_fields: searchable.standard_fields,
          metadata_fields: searchable.metadata_fields,
        },
        metadata_filters: {
          // Only live runs of this process; null left out; sorted by code point (Æ after Z).
          kommune: ['Aarhus', 'Odense', 'Skanderborg', 'Zealand 🚀', 'Ærø'],
          // Numbers as written, a number and a string of the same text once.
          n: ['-3', '10', '2.5', '5', '7'],
          flag: ['false', 'true'],
          // Objects and arrays are not values one can filter by.
          adresse: [],
          tom: [],
          'område-2': ['Dvůr Řeka', 'Øst'],
        },
        all_sortable_fields: searchable.all_sortable_fields,
        all_filterable_fields: searchable.all_filterable_fields,
        field_count: { standard: 8, metadata: 6, total: 14 },
        filtering_help: FILTERING_HELP,
      });
    });

    it('every listed value filters GET /runs to the runs that have it (meta_filter compares the same text)', async () => {
      const body = await get<FilterMetadata>(`/api/v1/processes/${flytning}/filter-metadata`);
      const expected: Record<string, Record<string, number>> = {
        kommune: { Aarhus: 2, Odense: 1, Skanderborg: 1, 'Zealand 🚀': 1, Ærø: 1 },
        n: { '-3': 1, '10': 1, '2.5': 1, '5': 1, '7': 2 },
        flag: { false: 1, true: 2 },
        'område-2': { 'Dvůr Řeka': 1, Øst: 2 },
      };
      for (const [field, counts] of Object.entries(expected)) {
        expect(body.metadata_filters[field]).toEqual(Object.keys(counts).sort());
        for (const [value, count] of Object.entries(counts)) {
          const query = new URLSearchParams({
            process_id: String(flytning),
            meta_filter: `${field}:${value}`,
          });
          const page = await get<{ total: number }>(`/api/v1/runs?${query.toString()}`);
          expect(page.total, `${field}:${value}`).toBe(count);
        }
      }
    });

    it('a process without run_metadata_schema has no metadata filters', async () => {
      const body = await get<FilterMetadata>(`/api/v1/processes/${bare}/filter-metadata`, server.userKey);
      expect(body.metadata_filters).toEqual({});
      expect(body.searchable_fields.metadata_fields).toEqual({});
      expect(body.field_count).toEqual({ standard: 8, metadata: 0, total: 8 });
    });

    it('lists at most 1000 distinct values of a field (the first in order)', async () => {
      const many = (
        await post<{ id: number }>('/api/v1/processes', {
          name: 'Mange sager',
          meta: { run_metadata_schema: { sag: 'string', type: 'string' } },
        })
      ).id;
      const em = server.container.orm.em.fork();
      const now = new Date();
      const values = Array.from({ length: 1005 }, (_, i) => `S${String(i + 1).padStart(4, '0')}`);
      // Written by the ORM in batches (fast; a statement on SQL Server takes at most 2,100 parameters).
      for (let start = 0; start < values.length; start += 100) {
        await em.insertMany(
          ProcessRun,
          values.slice(start, start + 100).map((sag, i) => ({
            process: many,
            entity_id: `M-${start + i}`,
            status: 'pending' as const,
            meta: { sag, type: i % 2 === 0 ? 'lige' : 'ulige' },
            is_neutralized: false,
            created_at: now,
            updated_at: now,
          })),
        );
      }
      await recountRuns(em);
      await reindexAllRunFields(em, ormDialect(server.container.orm));
      const body = await get<FilterMetadata>(`/api/v1/processes/${many}/filter-metadata`);
      expect(body.metadata_filters['sag']).toEqual(values.slice(0, 1000));
      expect(body.metadata_filters['type']).toEqual(['lige', 'ulige']);
    });

    it('an unknown or soft-deleted process is 404', async () => {
      await expectNotFound(`/api/v1/processes/2147483647/filter-metadata`);
      await expectNotFound(`/api/v1/processes/${deleted}/filter-metadata`);
    });

    it('a process_id that is not a positive integer is 422', async () => {
      for (const id of ['abc', '0']) {
        const response = await server.request(`/api/v1/processes/${id}/filter-metadata`);
        expect(response.status).toBe(422);
      }
    });
  });
});
