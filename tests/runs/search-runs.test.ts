/**
 * The specification of `GET /api/v1/runs/search` (searchRuns, REQUIREMENTS §3): global search with the
 * original's match annotations, called as dashboards, curl and Python `requests` call it.
 *
 * One server and one fixed set of runs for the whole file, made through the API; only what the API
 * cannot set yet — a status without step reports, exact created_at, a soft-deleted run and process — is
 * written through the ORM. Every assertion names the exact runs expected, in the exact order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Process, ProcessRun, type RunStatus } from '../../src/entities/index.ts';
import { MAX_SEARCHED_META_FIELDS } from '../../src/db/run-search-queries.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import { expectPageHeaders } from '../support/pagination.ts';
import { rawRequest } from '../support/raw-http.ts';
import type { Schemas } from '../../src/contract.ts';
import { reindexAllRunFields } from '../../src/db/meta-fields.ts';
import { ormDialect } from '../../src/db/orm.ts';
import { recountRuns } from '../../src/db/run-counts.ts';
import { INDEXED_VALUE_LENGTH } from '../../src/db/run-fields.ts';

type SearchPage = Schemas['RunSearchPage'];
type RunBody = Schemas['ProcessRun'];
type Problem = Schemas['Problem'];

/** P1 declares searchable meta fields (one with a name GET /runs cannot use); P2 declares none; P3 is soft-deleted. */
type ProcessName = 'P1' | 'P2' | 'P3';

const P1_SCHEMA = {
  kommune: 'string',
  sagsnummer: 'string',
  by: 'string',
  n: 'integer',
  flag: 'boolean',
  adresse: 'object',
  'bad name': 'string',
};

interface SeedRun {
  process: ProcessName;
  entity_id: string;
  entity_name: string | null;
  status: RunStatus;
  meta: Record<string, unknown>;
  created_at: string;
  deleted?: boolean;
}

const SEED = {
  jens: {
    process: 'P1',
    entity_id: '0101901234',
    entity_name: 'Jens Hansen',
    status: 'failed',
    meta: {
      kommune: 'Aarhus',
      sagsnummer: 'S2026-00042',
      n: 5,
      flag: true,
      adresse: { vej: 'Hansenvej 1' },
      ekstra: 'zebra',
      'bad name': 'qwerty',
    },
    created_at: '2026-01-01T08:00:00.000Z',
  },
  maria: {
    process: 'P1',
    entity_id: '0202802345',
    entity_name: 'MARIA HANSEN',
    status: 'completed',
    meta: { kommune: 'Odense', sagsnummer: 'S2026-00043', n: 7777, flag: false, adresse: ['Hansenvej'] },
    created_at: '2026-01-02T08:00:00.000Z',
  },
  aeble: {
    process: 'P1',
    entity_id: 'AEB-1',
    entity_name: 'Æblegård Åse',
    status: 'running',
    meta: { kommune: 'ÆRØ', sagsnummer: 'X-1', by: 'Dvůr Řeka 🚀' },
    created_at: '2026-01-03T08:00:00.000Z',
  },
  strasse: {
    process: 'P1',
    entity_id: 'STR-1',
    entity_name: 'Hovedstraße 5',
    status: 'pending',
    meta: {},
    created_at: '2026-01-04T08:00:00.000Z',
  },
  // wild and wildx share their created_at: the newer id comes first.
  wild: {
    process: 'P1',
    entity_id: 'W%1',
    entity_name: 'Rabat 100% [A]_b',
    status: 'cancelled',
    meta: { kommune: 'a_b' },
    created_at: '2026-01-05T08:00:00.000Z',
  },
  wildx: {
    process: 'P1',
    entity_id: 'W21',
    entity_name: 'Rabat 1000 xA]xb',
    status: 'cancelled',
    meta: {},
    created_at: '2026-01-05T08:00:00.000Z',
  },
  kode: {
    process: 'P1',
    entity_id: 'KODE:7',
    entity_name: 'kode syv',
    status: 'completed',
    meta: { sagsnummer: 'kode-7' },
    created_at: '2026-01-06T08:00:00.000Z',
  },
  bo: {
    process: 'P2',
    entity_id: '1001001001',
    entity_name: 'Bo Hansen',
    status: 'failed',
    meta: { kommune: 'Aarhus' },
    created_at: '2026-01-07T08:00:00.000Z',
  },
  nameless: {
    process: 'P2',
    entity_id: 'NN-1',
    entity_name: null,
    status: 'pending',
    meta: {},
    created_at: '2026-01-07T09:00:00.000Z',
  },
  quote: {
    process: 'P2',
    entity_id: 'Q-1',
    entity_name: `D'Angelo \\ "Dø" --`,
    status: 'completed',
    meta: {},
    created_at: '2026-01-07T10:00:00.000Z',
  },
  gone: {
    process: 'P1',
    entity_id: 'GONE-1',
    entity_name: 'Hansen Slettet',
    status: 'failed',
    meta: { kommune: 'Aarhus' },
    created_at: '2026-01-08T08:00:00.000Z',
    deleted: true,
  },
  orphan: {
    process: 'P3',
    entity_id: 'ORPH-1',
    entity_name: 'Hansen Forældreløs',
    status: 'failed',
    meta: {},
    created_at: '2026-01-09T08:00:00.000Z',
  },
} satisfies Record<string, SeedRun>;
type Label = keyof typeof SEED;
const LABELS = Object.keys(SEED) as Label[];

describe('GET /api/v1/runs/search (searchRuns)', () => {
  let server: TestServer;
  const processIds = {} as Record<ProcessName, number>;
  const runIds = {} as Record<Label, number>;
  const labelOf = (runId: number): string =>
    LABELS.find((label) => runIds[label] === runId) ?? `unknown run ${runId}`;

  const post = <T>(path: string, body: unknown): Promise<T> => server.json<T>('POST', path, body, 201);
  const searchPath = (query: [string, string | number][]) =>
    `/api/v1/runs/search?${new URLSearchParams(query.map(([name, value]) => [name, String(value)])).toString()}`;
  const search = async (query: [string, string | number][]): Promise<SearchPage> => {
    const response = await server.request(searchPath(query));
    expect(response.status, searchPath(query)).toBe(200);
    return (await response.json()) as SearchPage;
  };
  /** The labels found, in order, with the fields that matched each. */
  const found = (body: SearchPage) => body.items.map((item) => [labelOf(item.id), item.matches] as const);
  const labels = (body: SearchPage) => body.items.map((item) => labelOf(item.id));
  /** The search finds exactly these runs in this order, all on page 1. */
  const expectFound = async (query: [string, string | number][], expected: Label[]) => {
    const body = await search(query);
    expect(labels(body), searchPath(query)).toEqual(expected);
    expect(body.total, searchPath(query)).toBe(expected.length);
    return body;
  };
  const expectProblem = async (response: Response, status: number): Promise<Problem> => {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await response.json()) as Problem;
    expect(problem.status).toBe(status);
    return problem;
  };

  beforeAll(async () => {
    server = await startTestServer();
    const p1 = await post<{ id: number }>('/api/v1/processes', {
      name: 'Flytning',
      meta: { run_metadata_schema: P1_SCHEMA },
    });
    const p2 = await post<{ id: number }>('/api/v1/processes', { name: 'Boligstøtte' });
    const p3 = await post<{ id: number }>('/api/v1/processes', { name: 'Gammel' });
    processIds.P1 = p1.id;
    processIds.P2 = p2.id;
    processIds.P3 = p3.id;
    await post('/api/v1/steps', { process_id: p1.id, index: 0, name: 'Modtag', is_rerunnable: false });
    await post('/api/v1/steps', { process_id: p1.id, index: 1, name: 'Registrér', is_rerunnable: true });

    const em = server.container.orm.em.fork();
    for (const label of LABELS) {
      const seed: SeedRun = SEED[label];
      const created = await post<RunBody>('/api/v1/runs', {
        process_id: processIds[seed.process],
        entity_id: seed.entity_id,
        ...(seed.entity_name === null ? {} : { entity_name: seed.entity_name }),
        meta: seed.meta,
      });
      runIds[label] = created.id;
      await em.nativeUpdate(
        ProcessRun,
        { id: created.id },
        {
          status: seed.status,
          created_at: new Date(seed.created_at),
          ...(seed.deleted === true ? { deleted_at: new Date() } : {}),
        },
      );
    }
    await em.nativeUpdate(Process, { id: p3.id }, { deleted_at: new Date() });
    // Written behind the service's back: the run counts and the declared meta values' index made again,
    // as `make recount-runs` does.
    await recountRuns(em);
    await reindexAllRunFields(em, ormDialect(server.container.orm));
  });
  afterAll(async () => {
    await server?.close();
  });

  describe('what q matches, and the matches shown', () => {
    it('entity_name, case-insensitively, newest first; each item is the run as GET /runs/{id} shows it', async () => {
      const body = await expectFound([['q', 'hansen']], ['bo', 'maria', 'jens']);
      expect(found(body)).toEqual([
        ['bo', [{ field: 'entity_name', value: 'Bo Hansen' }]],
        ['maria', [{ field: 'entity_name', value: 'MARIA HANSEN' }]],
        ['jens', [{ field: 'entity_name', value: 'Jens Hansen' }]],
      ]);
      for (const item of body.items) {
        const { matches, ...run } = item;
        expect(matches.length).toBeGreaterThan(0);
        const single = await server.request(`/api/v1/runs/${item.id}`);
        expect(run).toEqual(await single.json());
      }
      // The step runs are there (P1 has two steps), ordered by step_index.
      const jens = body.items.find((item) => item.id === runIds.jens);
      expect(jens?.steps.map((step) => step.step_index)).toEqual([0, 1]);
      expect(jens?.status).toBe('failed');
    });

    it('entity_id, as a substring', async () => {
      const body = await expectFound([['q', '01901']], ['jens']);
      expect(body.items[0]?.matches).toEqual([{ field: 'entity_id', value: '0101901234' }]);
    });

    it('status (stored upper case, shown and matched as its wire spelling)', async () => {
      const body = await expectFound([['q', 'fail']], ['bo', 'jens']);
      expect(found(body)).toEqual([
        ['bo', [{ field: 'status', value: 'failed' }]],
        ['jens', [{ field: 'status', value: 'failed' }]],
      ]);
      await expectFound([['q', 'FAILED']], ['bo', 'jens']);
      const ing = await expectFound([['q', 'ing']], ['nameless', 'strasse', 'aeble']);
      expect(found(ing).map(([, matches]) => matches)).toEqual([
        [{ field: 'status', value: 'pending' }],
        [{ field: 'status', value: 'pending' }],
        [{ field: 'status', value: 'running' }],
      ]);
    });

    it('lists every field that matched, in the order entity_id, entity_name, status, meta fields', async () => {
      const body = await expectFound([['q', 'KODE']], ['kode']);
      expect(body.items[0]?.matches).toEqual([
        { field: 'entity_id', value: 'KODE:7' },
        { field: 'entity_name', value: 'kode syv' },
      ]);
      const scoped = await expectFound(
        [
          ['q', 'kode'],
          ['process_id', processIds.P1],
        ],
        ['kode'],
      );
      expect(scoped.items[0]?.matches).toEqual([
        { field: 'entity_id', value: 'KODE:7' },
        { field: 'entity_name', value: 'kode syv' },
        { field: 'meta.sagsnummer', value: 'kode-7' },
      ]);
    });

    it('finds nothing: an empty page, total 0, pages 0', async () => {
      const response = await server.request(searchPath([['q', 'ingen-her-xyz']]));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ items: [], total: 0, page: 1, size: 50, pages: 0 });
      expectPageHeaders(response, { page: 1, size: 50, total: 0 });
    });

    it('answers a user (robot) key as well as an admin key', async () => {
      const response = await server.request(searchPath([['q', 'hansen']]), {
        headers: { 'X-API-Key': server.userKey },
      });
      expect(response.status).toBe(200);
      expect(((await response.json()) as SearchPage).total).toBe(3);
    });
  });

  describe('Unicode case folding, the same on every database', () => {
    it('Æblegård finds æblegård and ÅSE finds Åse (and the reverse)', async () => {
      for (const q of ['æblegård', 'ÆBLEGÅRD', 'Æblegård', 'åse', 'ÅSE', 'ÆBLEGÅRD ÅSE']) {
        const body = await expectFound([['q', q]], ['aeble']);
        expect(body.items[0]?.matches).toEqual([{ field: 'entity_name', value: 'Æblegård Åse' }]);
      }
    });

    it('ß: straße and STRAßE both find Hovedstraße', async () => {
      await expectFound([['q', 'straße']], ['strasse']);
      await expectFound([['q', 'STRAßE']], ['strasse']);
    });

    it('declared meta values fold too: ærø finds ÆRØ with process_id', async () => {
      const body = await expectFound(
        [
          ['q', 'ærø'],
          ['process_id', processIds.P1],
        ],
        ['aeble'],
      );
      expect(body.items[0]?.matches).toEqual([{ field: 'meta.kommune', value: 'ÆRØ' }]);
    });

    it('letters outside Latin-1 and outside the BMP in declared meta values (ŘEKA 🚀 finds Řeka 🚀)', async () => {
      const body = await expectFound(
        [
          ['q', 'ŘEKA 🚀'],
          ['process_id', processIds.P1],
        ],
        ['aeble'],
      );
      expect(body.items[0]?.matches).toEqual([{ field: 'meta.by', value: 'Dvůr Řeka 🚀' }]);
    });
  });

  describe('LIKE wildcards in q match literally', () => {
    it('% matches a percent sign only', async () => {
      await expectFound([['q', '100%']], ['wild']);
      const body = await expectFound([['q', '%']], ['wild']);
      expect(body.items[0]?.matches).toEqual([
        { field: 'entity_id', value: 'W%1' },
        { field: 'entity_name', value: 'Rabat 100% [A]_b' },
      ]);
    });

    it('_ matches an underscore only', async () => {
      await expectFound([['q', ']_b']], ['wild']);
      await expectFound([['q', '_']], ['wild']);
    });

    it('[ is no character class (SQL Server brackets it)', async () => {
      await expectFound([['q', '[A]']], ['wild']);
      await expectFound([['q', '[']], ['wild']);
      await expectFound([['q', 'A]']], ['wildx', 'wild']);
    });

    it('wildcards in a declared meta value match literally too', async () => {
      const body = await expectFound(
        [
          ['q', 'a_b'],
          ['process_id', processIds.P1],
        ],
        ['wild'],
      );
      expect(body.items[0]?.matches).toEqual([{ field: 'meta.kommune', value: 'a_b' }]);
    });
  });

  it('quotes, backslashes and comment marks in q are text: D\'ANGELO \\ "DØ" -- finds D\'Angelo', async () => {
    const body = await expectFound([['q', `D'ANGELO \\ "DØ" --`]], ['quote']);
    expect(body.items[0]?.matches).toEqual([{ field: 'entity_name', value: `D'Angelo \\ "Dø" --` }]);
    await expectFound([['q', `'`]], ['quote']);
    await expectFound([['q', '\\']], ['quote']);
  });

  describe('process_id: scoping and declared meta fields', () => {
    it('meta fields are searched only with process_id', async () => {
      await expectFound([['q', 'aarhus']], []);
      const body = await expectFound(
        [
          ['q', 'aarhus'],
          ['process_id', processIds.P1],
        ],
        ['jens'],
      );
      expect(body.items[0]?.matches).toEqual([{ field: 'meta.kommune', value: 'Aarhus' }]);
      // P2 declares no meta fields: its run with kommune Aarhus is not found by it.
      await expectFound(
        [
          ['q', 'aarhus'],
          ['process_id', processIds.P2],
        ],
        [],
      );
    });

    it('only the runs of that process', async () => {
      await expectFound(
        [
          ['q', 'hansen'],
          ['process_id', processIds.P2],
        ],
        ['bo'],
      );
      await expectFound(
        [
          ['q', 'hansen'],
          ['process_id', processIds.P1],
        ],
        ['maria', 'jens'],
      );
    });

    it('every declared meta field, with its JSON value: strings, numbers and booleans', async () => {
      const sag = await expectFound(
        [
          ['q', 's2026-0004'],
          ['process_id', processIds.P1],
        ],
        ['maria', 'jens'],
      );
      expect(found(sag)).toEqual([
        ['maria', [{ field: 'meta.sagsnummer', value: 'S2026-00043' }]],
        ['jens', [{ field: 'meta.sagsnummer', value: 'S2026-00042' }]],
      ]);
      const number = await expectFound(
        [
          ['q', '777'],
          ['process_id', processIds.P1],
        ],
        ['maria'],
      );
      expect(number.items[0]?.matches).toEqual([{ field: 'meta.n', value: 7777 }]);
      const boolean = await expectFound(
        [
          ['q', 'TRU'],
          ['process_id', processIds.P1],
        ],
        ['jens'],
      );
      expect(boolean.items[0]?.matches).toEqual([{ field: 'meta.flag', value: true }]);
      const no = await expectFound(
        [
          ['q', 'fals'],
          ['process_id', processIds.P1],
        ],
        ['maria'],
      );
      expect(no.items[0]?.matches).toEqual([{ field: 'meta.flag', value: false }]);
    });

    it('not objects and arrays, not undeclared fields, not names GET /runs cannot use', async () => {
      for (const q of ['hansenvej', 'zebra', 'qwerty']) {
        await expectFound(
          [
            ['q', q],
            ['process_id', processIds.P1],
          ],
          [],
        );
      }
      // With process_id, hansen still finds by name only: the nested "Hansenvej" adds no match.
      const body = await search([
        ['q', 'hansen'],
        ['process_id', processIds.P1],
      ]);
      expect(body.items.map((item) => item.matches)).toEqual([
        [{ field: 'entity_name', value: 'MARIA HANSEN' }],
        [{ field: 'entity_name', value: 'Jens Hansen' }],
      ]);
    });

    it('an unknown or soft-deleted process is 404', async () => {
      for (const processId of [2147483647, processIds.P3]) {
        const problem = await expectProblem(
          await server.request(
            searchPath([
              ['q', 'hansen'],
              ['process_id', processId],
            ]),
          ),
          404,
        );
        expect(problem.detail).toContain(String(processId));
      }
    });

    it(`searches the first ${MAX_SEARCHED_META_FIELDS} declared meta fields of a process that declares more`, async () => {
      const schema = Object.fromEntries(
        Array.from({ length: MAX_SEARCHED_META_FIELDS + 5 }, (_, i) => [`felt_${i}`, 'string']),
      );
      const many = await post<{ id: number }>('/api/v1/processes', {
        name: 'Mange felter',
        meta: { run_metadata_schema: schema },
      });
      const first = await post<RunBody>('/api/v1/runs', {
        process_id: many.id,
        entity_id: 'MANY-1',
        meta: { [`felt_${MAX_SEARCHED_META_FIELDS - 1}`]: 'sidste-søgte' },
      });
      const second = await post<RunBody>('/api/v1/runs', {
        process_id: many.id,
        entity_id: 'MANY-2',
        meta: { [`felt_${MAX_SEARCHED_META_FIELDS}`]: 'ikke-søgt' },
      });
      // Completed, so that searches for "pending" elsewhere in this file do not see them.
      await server.container.orm.em
        .fork()
        .nativeUpdate(ProcessRun, { id: { $in: [first.id, second.id] } }, { status: 'completed' });
      await recountRuns(server.container.orm.em.fork());
      const body = await search([
        ['q', 'SØGT'],
        ['process_id', many.id],
      ]);
      expect(body.items.map((item) => [item.id, item.matches])).toEqual([
        [first.id, [{ field: `meta.felt_${MAX_SEARCHED_META_FIELDS - 1}`, value: 'sidste-søgte' }]],
      ]);
      expect(body.total).toBe(1);
    });

    it(`finds a declared meta value too long for the index of values (over ${INDEXED_VALUE_LENGTH} characters) as it finds a short one`, async () => {
      const process = await post<{ id: number }>('/api/v1/processes', {
        name: 'Lange værdier',
        meta: { run_metadata_schema: { note: 'string', kort: 'string' } },
      });
      const runs: Record<string, RunBody> = {};
      for (const [entity, meta] of Object.entries({
        long: { note: `${'ø'.repeat(INDEXED_VALUE_LENGTH + 1)} Nålestik` },
        short: { kort: 'nålen', note: 'kort note' },
        other: { note: `${'ø'.repeat(INDEXED_VALUE_LENGTH + 1)} uden` },
      })) {
        runs[entity] = await post<RunBody>('/api/v1/runs', {
          process_id: process.id,
          entity_id: entity,
          meta,
        });
      }
      const ids = Object.values(runs).map((run) => run.id);
      // Completed, so that searches for "pending" elsewhere in this file do not see them.
      await server.container.orm.em
        .fork()
        .nativeUpdate(ProcessRun, { id: { $in: ids } }, { status: 'completed' });
      await recountRuns(server.container.orm.em.fork());
      const body = await search([
        ['q', 'NÅL'],
        ['process_id', process.id],
      ]);
      expect(body.items.map((item) => [item.entity_id, item.matches.map((match) => match.field)])).toEqual([
        ['short', ['meta.kort']],
        ['long', ['meta.note']],
      ]);
      expect(body.total).toBe(2);
      const long = await search([
        ['q', 'øøø nålestik'],
        ['process_id', process.id],
      ]);
      expect(long.items.map((item) => item.entity_id)).toEqual(['long']);
      expect(long.total).toBe(1);
    });
  });

  describe('soft delete', () => {
    it('never finds a soft-deleted run, nor a run of a soft-deleted process', async () => {
      await expectFound([['q', 'slettet']], []);
      await expectFound([['q', 'GONE']], []);
      await expectFound([['q', 'forældreløs']], []);
      await expectFound([['q', 'ORPH']], []);
      // Both would match "hansen" and "fail"; neither is counted.
      expect((await search([['q', 'hansen']])).total).toBe(3);
      expect((await search([['q', 'fail']])).total).toBe(2);
    });
  });

  describe('pagination', () => {
    it('pages like GET /runs: envelope, X-Total-* headers and Links keeping q', async () => {
      const first = await server.request(
        searchPath([
          ['q', 'hansen'],
          ['size', 2],
        ]),
      );
      expect(first.status).toBe(200);
      const body1 = (await first.json()) as SearchPage;
      expect(labels(body1)).toEqual(['bo', 'maria']);
      expect(body1).toMatchObject({ total: 3, page: 1, size: 2, pages: 2 });
      const link = expectPageHeaders(first, { page: 1, size: 2, total: 3 });
      expect(link).toContain('/api/v1/runs/search?page=2&size=2&q=hansen>; rel="next"');

      const second = await server.request(
        searchPath([
          ['q', 'hansen'],
          ['page', 2],
          ['size', 2],
        ]),
      );
      const body2 = (await second.json()) as SearchPage;
      expect(labels(body2)).toEqual(['jens']);
      expect(body2).toMatchObject({ total: 3, page: 2, size: 2, pages: 2 });
      expect(body2.items[0]?.matches).toEqual([{ field: 'entity_name', value: 'Jens Hansen' }]);
      expectPageHeaders(second, { page: 2, size: 2, total: 3 });

      const beyond = await search([
        ['q', 'hansen'],
        ['page', 3],
        ['size', 2],
      ]);
      expect(beyond).toEqual({ items: [], total: 3, page: 3, size: 2, pages: 2 });
    });

    it('runs created at the same time come newest id first', async () => {
      await expectFound([['q', 'rabat']], ['wildx', 'wild']);
      expect(runIds.wildx).toBeGreaterThan(runIds.wild);
    });
  });

  describe('query strings as clients send them', () => {
    const raw = async (target: string) => {
      const response = await rawRequest(server.baseUrl, {
        target,
        headers: { 'X-API-Key': server.adminKey },
      });
      expect(response.status, target).toBe(200);
      return JSON.parse(response.text) as SearchPage;
    };

    it('q=Jens+Hansen (form encoding: + is a space)', async () => {
      const body = await raw('/api/v1/runs/search?q=Jens+Hansen');
      expect(labels(body)).toEqual(['jens']);
    });

    it('an unencoded : and a %20', async () => {
      const body = await raw('/api/v1/runs/search?q=KODE:7');
      expect(found(body)).toEqual([['kode', [{ field: 'entity_id', value: 'KODE:7' }]]]);
      expect(labels(await raw('/api/v1/runs/search?q=Jens%20Hansen'))).toEqual(['jens']);
    });

    it('percent-encoded UTF-8: q=%C3%86BLEG%C3%85RD', async () => {
      const body = await raw('/api/v1/runs/search?q=%C3%86BLEG%C3%85RD');
      expect(found(body)).toEqual([['aeble', [{ field: 'entity_name', value: 'Æblegård Åse' }]]]);
    });

    it('a percent-encoded % and [ (q=100%25, q=%5BA%5D)', async () => {
      expect(labels(await raw('/api/v1/runs/search?q=100%25'))).toEqual(['wild']);
      expect(labels(await raw('/api/v1/runs/search?q=%5BA%5D'))).toEqual(['wild']);
    });

    it('a trailing slash and an ignored unknown parameter', async () => {
      const body = await raw('/api/v1/runs/search/?q=hansen&include_deleted=false');
      expect(labels(body)).toEqual(['bo', 'maria', 'jens']);
    });
  });

  describe('invalid requests', () => {
    it('q missing or empty: 422 problem naming q', async () => {
      for (const target of [
        '/api/v1/runs/search',
        '/api/v1/runs/search?q=',
        '/api/v1/runs/search?process_id=1',
      ]) {
        const problem = await expectProblem(await server.request(target), 422);
        expect(problem.errors?.map((error) => [error.location, error.field])).toEqual([['query', 'q']]);
      }
    });

    it('q longer than 255 characters, or process_id not a positive integer: 422', async () => {
      await expectProblem(await server.request(searchPath([['q', 'x'.repeat(256)]])), 422);
      await expectProblem(
        await server.request(
          searchPath([
            ['q', 'hansen'],
            ['process_id', 'abc'],
          ]),
        ),
        422,
      );
      await expectProblem(
        await server.request(
          searchPath([
            ['q', 'hansen'],
            ['process_id', 0],
          ]),
        ),
        422,
      );
    });

    it('without a key: 401', async () => {
      const response = await fetch(`${server.baseUrl}${searchPath([['q', 'hansen']])}`);
      expect(response.status).toBe(401);
    });
  });

  it('matches are objects with exactly field and value', async () => {
    const body = await search([['q', 'a']]);
    expect(body.total).toBeGreaterThan(0);
    for (const item of body.items) {
      for (const match of item.matches) expect(Object.keys(match).sort()).toEqual(['field', 'value']);
    }
  });
});
