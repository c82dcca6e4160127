/**
 * `process_run_field` (src/db/run-fields.ts): `meta_filter` and a process's filter metadata read the
 * declared meta values from it instead of every run's JSON. The lists must answer exactly the runs whose
 * `meta` has the value — after every way a run's meta or its process's declared fields change, for every
 * kind of value (strings, Unicode, numbers, booleans, texts too long for the index, objects) — and a
 * neutralised run's personal data must leave the index too.
 *
 * The oracle is the test's own record of what each run's meta holds, never the service's answer.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Schemas } from '../../src/contract.ts';
import { ormDialect } from '../../src/db/orm.ts';
import { INDEXED_VALUE_LENGTH } from '../../src/db/run-fields.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import { afterMigrationOver, testDialect } from '../support/database.ts';
import { onBabelfish } from '../support/dialect-gaps.ts';
import { runFieldDrift } from '../support/run-counts.ts';

const run = promisify(execFile);

type RunBody = Schemas['ProcessRun'];
type RunPage = Schemas['ProcessRunPage'];
type FilterMetadata = Schemas['FilterMetadata'];

/** Text as the database compares it: SQL Server's default collation ignores case (as its JSON path does). */
const fold = (text: string) => (testDialect() === 'mssql' ? text.toLowerCase() : text);

const LONG = 'Lang sagsbeskrivelse om flytning fra Århus til Ærø 🚀 '.repeat(8).trim();

describe('process_run_field: meta_filter and filter metadata from an index of the declared values', () => {
  let server: TestServer;
  let declared: number;
  let other: number;
  /** run id → its meta as the service was told it (the oracle). */
  const metaOf = new Map<number, Record<string, unknown>>();
  const processOf = new Map<number, number>();
  const deleted = new Set<number>();

  const createRun = async (processId: number, meta: Record<string, unknown>) => {
    const body = await server.json<RunBody>(
      'POST',
      '/api/v1/runs',
      { process_id: processId, entity_id: `0101${metaOf.size}`, entity_name: 'Jens Hansen', meta },
      201,
    );
    metaOf.set(body.id, meta);
    processOf.set(body.id, processId);
    return body.id;
  };

  /** The ids `GET /runs?<query>` lists (every page), and its total. */
  const listed = async (query: string) => {
    const page = await server.json<RunPage>('GET', `/api/v1/runs?size=100&${query}`);
    expect(page.items.length, query).toBe(page.total);
    return page.items.map((item) => item.id).sort((a, b) => a - b);
  };

  /** The live runs (of `processId` if given) whose meta `field` reads as one of `values` in a filter. */
  const expected = (field: string, values: readonly string[], processId?: number) =>
    [...metaOf]
      .filter(([id, meta]) => {
        if (deleted.has(id) || (processId !== undefined && processOf.get(id) !== processId)) return false;
        const value = meta[field];
        return (
          (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') &&
          values.map(fold).includes(fold(String(value)))
        );
      })
      .map(([id]) => id)
      .sort((a, b) => a - b);

  const filterQuery = (field: string, values: readonly string[], processId?: number) =>
    (processId === undefined ? '' : `process_id=${processId}&`) +
    values.map((value) => `meta_filter=${encodeURIComponent(`${field}:${value}`)}`).join('&');

  const expectFilter = async (field: string, values: readonly string[], processId?: number) => {
    const ids = await listed(filterQuery(field, values, processId));
    expect(ids, `${field}:${values.join('|')} of ${processId ?? 'every process'}`).toEqual(
      expected(field, values, processId),
    );
    return ids;
  };

  const indexRows = (runId: number) =>
    server.container.orm.em
      .fork()
      .getConnection()
      .execute<{ field: string; value: string | null }[]>(
        'select field, value from process_run_field where run_id = ? order by field',
        [runId],
      );

  beforeAll(async () => {
    server = await startTestServer();
    declared = (
      await server.json<{ id: number }>('POST', '/api/v1/processes', {
        name: 'Flytning',
        meta: { run_metadata_schema: { kommune: 'string', sag: 'string', akut: 'boolean', antal: 'number' } },
      })
    ).id;
    other = (
      await server.json<{ id: number }>('POST', '/api/v1/processes', {
        name: 'Boligstøtte',
        meta: { run_metadata_schema: { kommune: 'string' } },
      })
    ).id;
    await createRun(declared, { kommune: 'Aarhus', sag: 'S-1', akut: true, antal: 7 });
    await createRun(declared, { kommune: 'Århus', sag: LONG, akut: false, antal: 12 });
    await createRun(declared, { kommune: 'Odense', sag: 'S-3', akut: true, antal: 7.5 });
    await createRun(declared, { kommune: { navn: 'Aarhus' }, sag: null, akut: 'true' });
    await createRun(declared, { kommune: 'aarhus', andet: 'ikke erklæret' });
    await createRun(declared, {});
    await createRun(other, { kommune: 'Aarhus' });
    await createRun(other, { kommune: 'Ærø 🚀' });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('answers exactly the runs whose meta has the value, for every kind of value, with and without process_id', async () => {
    for (const processId of [undefined, declared, other]) {
      await expectFilter('kommune', ['Aarhus'], processId);
      await expectFilter('kommune', ['Århus', 'Odense'], processId);
      await expectFilter('kommune', ['Ærø 🚀'], processId);
    }
    await expectFilter('akut', ['true'], declared);
    await expectFilter('akut', ['false'], declared);
    await expectFilter('antal', ['7'], declared);
    await expectFilter('antal', ['7.5', '12'], declared);
    await expectFilter('sag', ['S-1', 'S-3'], declared);
    // Longer than the index holds: read from the JSON, still exact.
    expect(LONG.length).toBeGreaterThan(INDEXED_VALUE_LENGTH);
    expect(await expectFilter('sag', [LONG], declared)).toHaveLength(1);
    // Two fields: both must match.
    const akut = new Set(expected('akut', ['true'], declared));
    expect(
      await listed(`${filterQuery('kommune', ['Aarhus'], declared)}&${filterQuery('akut', ['true'])}`),
    ).toEqual(expected('kommune', ['Aarhus'], declared).filter((id) => akut.has(id)));
    // An undeclared field reads the JSON.
    await expectFilter('andet', ['ikke erklæret'], declared);
  });

  it('holds a row per declared scalar value, the long one and objects as null, and none for null or other fields', async () => {
    const [first, second, , objects, undeclared] = [...metaOf.keys()];
    expect(await indexRows(first)).toEqual([
      { field: 'akut', value: 'true' },
      { field: 'antal', value: '7' },
      { field: 'kommune', value: 'Aarhus' },
      { field: 'sag', value: 'S-1' },
    ]);
    expect((await indexRows(second)).find((row) => row.field === 'sag')).toEqual({
      field: 'sag',
      value: null,
    });
    // SQL Server's json_value (the text a filter and a sort compare there) has none for an object;
    // Babelfish's reads JSON null as the text 'null' (SQL Server's has none), so there `sag` has a row.
    expect(await indexRows(objects)).toEqual([
      { field: 'akut', value: 'true' },
      ...(testDialect() === 'mssql' ? [] : [{ field: 'kommune', value: null }]),
      ...((await onBabelfish()) ? [{ field: 'sag', value: null }] : []),
    ]);
    expect(await indexRows(undeclared)).toEqual([{ field: 'kommune', value: 'aarhus' }]);
  });

  it('is what a filter of a declared field reads: a change behind the service’s back shows after make recount-runs', async () => {
    const [first] = [...metaOf.keys()] as [number];
    const connection = server.container.orm.em.fork().getConnection();
    const changed = { kommune: 'Vejle', sag: 'S-1', akut: true, antal: 7 };
    await connection.execute('update process_run set meta = ? where id = ?', [
      JSON.stringify(changed),
      first,
    ]);
    expect(
      await runFieldDrift(server.container.orm.em.fork(), ormDialect(server.container.orm)),
    ).toHaveLength(2);
    // The index still says Aarhus.
    expect(await listed(filterQuery('kommune', ['Aarhus'], declared))).toContain(first);
    expect(await listed(filterQuery('kommune', ['Vejle'], declared))).toEqual([]);
    await run(process.execPath, ['src/cli/recount-runs.ts'], {
      env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: server.container.config.databaseUrl },
    });
    metaOf.set(first, changed);
    await expectFilter('kommune', ['Vejle'], declared);
    await expectFilter('kommune', ['Aarhus'], declared);
  });

  it('follows metadata changes, deletes, restores and neutralisation (the personal data leaves the index)', async () => {
    const id = await createRun(declared, { kommune: 'Silkeborg', sag: 'CPR 010190-1234', akut: false });
    await expectFilter('sag', ['CPR 010190-1234'], declared);
    await server.json('PATCH', `/api/v1/runs/${id}/metadata`, { meta: { sag: 'CPR 020290-2345' } });
    metaOf.set(id, { ...metaOf.get(id), sag: 'CPR 020290-2345' });
    await expectFilter('sag', ['CPR 010190-1234'], declared);
    await expectFilter('sag', ['CPR 020290-2345'], declared);

    expect((await server.request(`/api/v1/runs/${id}`, { method: 'DELETE' })).status).toBe(204);
    deleted.add(id);
    expect(await indexRows(id)).toEqual([]);
    await expectFilter('kommune', ['Silkeborg'], declared);
    const values = await server.json<FilterMetadata>('GET', `/api/v1/processes/${declared}/filter-metadata`);
    expect(values.metadata_filters['kommune']).not.toContain('Silkeborg');
    await server.json('POST', `/api/v1/runs/${id}/restore`);
    deleted.delete(id);
    expect((await indexRows(id)).map((row) => row.field)).toEqual(['akut', 'kommune', 'sag']);
    await expectFilter('kommune', ['Silkeborg'], declared);

    await server.json('POST', `/api/v1/runs/${id}/neutralize`);
    const neutralized = await server.json<RunBody>('GET', `/api/v1/runs/${id}`);
    metaOf.set(id, neutralized.meta);
    const rows = await indexRows(id);
    expect(JSON.stringify(rows)).not.toContain('CPR');
    expect(JSON.stringify(rows)).not.toContain('Silkeborg');
    expect(await listed(filterQuery('sag', ['CPR 020290-2345'], declared))).toEqual([]);
    await expectFilter('kommune', ['Silkeborg'], declared);
  });

  it('leaves with the runs of a deleted process and comes back with them', async () => {
    const runsOfOther = [...processOf].filter(([, processId]) => processId === other).map(([id]) => id);
    expect((await server.request(`/api/v1/processes/${other}`, { method: 'DELETE' })).status).toBe(204);
    for (const id of runsOfOther) deleted.add(id);
    for (const id of runsOfOther) expect(await indexRows(id)).toEqual([]);
    await expectFilter('kommune', ['Aarhus']);
    await server.json('POST', `/api/v1/processes/${other}/restore`);
    for (const id of runsOfOther) deleted.delete(id);
    for (const id of runsOfOther) expect((await indexRows(id)).map((row) => row.field)).toEqual(['kommune']);
    await expectFilter('kommune', ['Aarhus']);
    await expectFilter('kommune', ['Ærø 🚀'], other);
  });

  it('is rebuilt for a process whose declared fields change', async () => {
    const added = await createRun(declared, { kommune: 'Aarhus', team: 'Nord' });
    const before = await listed(filterQuery('team', ['Nord'], declared));
    expect(before).toEqual(expected('team', ['Nord'], declared));
    await server.json('PATCH', `/api/v1/processes/${declared}`, {
      meta: { run_metadata_schema: { team: 'string', kommune: 'string' } },
    });
    expect(await indexRows(added)).toEqual([
      { field: 'kommune', value: 'Aarhus' },
      { field: 'team', value: 'Nord' },
    ]);
    // sag, akut and antal are no longer indexed: their rows are gone, and their filters read the JSON.
    const [first] = [...metaOf.keys()] as [number];
    expect((await indexRows(first)).map((row) => row.field)).toEqual(['kommune']);
    await expectFilter('team', ['Nord'], declared);
    await expectFilter('sag', ['S-3'], declared);
    await expectFilter('akut', ['true'], declared);
    const values = await server.json<FilterMetadata>('GET', `/api/v1/processes/${declared}/filter-metadata`);
    expect(values.metadata_filters['team']).toEqual(['Nord']);
  });

  it('lists filter metadata from the index, with the values too long for it, of live runs only', async () => {
    await server.json('PATCH', `/api/v1/processes/${declared}`, {
      meta: { run_metadata_schema: { kommune: 'string', sag: 'string', akut: 'boolean', antal: 'number' } },
    });
    const values = await server.json<FilterMetadata>('GET', `/api/v1/processes/${declared}/filter-metadata`);
    const live = (field: string) =>
      [
        ...new Set(
          [...metaOf]
            .filter(([id]) => !deleted.has(id) && processOf.get(id) === declared)
            .map(([, meta]) => meta[field])
            .filter((value) => ['string', 'number', 'boolean'].includes(typeof value))
            .map((value) => fold(String(value))),
        ),
      ].sort();
    for (const field of ['kommune', 'sag', 'akut', 'antal']) {
      const listed = [...new Set((values.metadata_filters[field] ?? []).map(fold))];
      expect(listed.sort(), field).toEqual(live(field));
    }
    expect(values.metadata_filters['sag']).toContain(LONG);
  });

  it('pages through a common value (each run probed in the index) in the order of GET /runs', async () => {
    const mine = (
      await server.json<{ id: number }>('POST', '/api/v1/processes', {
        name: 'Mange i Aarhus',
        meta: { run_metadata_schema: { kommune: 'string' } },
      })
    ).id;
    for (let i = 0; i < 30; i++) await createRun(mine, { kommune: i % 5 === 0 ? 'Odense' : 'Aarhus' });
    const want = expected('kommune', ['Aarhus'], mine);
    expect(want).toHaveLength(24);
    // size=2 of 24 matches among 30 runs: (0 + 2) × 30 < 24², so the page probes each run it reaches.
    const pages: number[] = [];
    for (let page = 1; page <= 12; page++) {
      const body = await server.json<RunPage>(
        'GET',
        `/api/v1/runs?process_id=${mine}&meta_filter=kommune:Aarhus&size=2&page=${page}`,
      );
      expect(body.total).toBe(24);
      pages.push(...body.items.map((item) => item.id));
    }
    // Newest first (created_at, then id, descending): created one after another, so by id descending.
    expect(pages).toEqual([...want].reverse());
    const oldestFirst = await server.json<RunPage>(
      'GET',
      `/api/v1/runs?process_id=${mine}&meta_filter=kommune:Aarhus&size=3&page=2&sort_direction=asc`,
    );
    expect(oldestFirst.items.map((item) => item.id)).toEqual(want.slice(3, 6));
  });

  it('stays equal to a rebuild while runs are created as the declared fields change', async () => {
    const schemas = [
      { kommune: 'string', sag: 'string' },
      { sag: 'string', team: 'string' },
      { kommune: 'string', team: 'string', akut: 'boolean' },
    ];
    await Promise.all([
      ...Array.from({ length: 24 }, (_, i) =>
        createRun(declared, {
          kommune: `K${i % 4}`,
          sag: `S-${i}`,
          team: i % 2 === 0 ? 'Nord' : 'Syd',
          akut: i % 3 === 0,
        }),
      ),
      ...schemas.map((schema) =>
        server.json('PATCH', `/api/v1/processes/${declared}`, { meta: { run_metadata_schema: schema } }),
      ),
    ]);
    expect(await runFieldDrift(server.container.orm.em.fork(), ormDialect(server.container.orm))).toEqual([]);
    await expectFilter('team', ['Nord'], declared);
  });
});

describe('the migration that creates process_run_field', () => {
  it('indexes the declared values of the live runs already in the database', async () => {
    await afterMigrationOver(
      'Migration20261126165327_run_counts',
      {
        processes: [
          { name: 'P', meta: { run_metadata_schema: { kommune: 'string', 'ugyldigt navn': 'string' } } },
          { name: 'Q' },
        ],
        runs: [
          { process: 1, meta: { kommune: 'Aarhus' } },
          { process: 1, meta: { kommune: 'Ærø 🚀', 'ugyldigt navn': 'x' }, deleted: true },
          { process: 1, meta: { kommune: 42 } },
          { process: 2, meta: { kommune: 'Odense' } },
        ],
      },
      async (orm) => {
        const rows = await orm.em
          .fork()
          .getConnection()
          .execute<{ run_id: number; field: string; value: string }[]>(
            'select run_id, field, value from process_run_field order by run_id',
          );
        // Live runs only: run 2 is deleted; process 2 declares no fields.
        expect(rows.map((row) => [Number(row.run_id), row.field, row.value])).toEqual([
          [1, 'kommune', 'Aarhus'],
          [3, 'kommune', '42'],
        ]);
        expect(await runFieldDrift(orm.em.fork(), ormDialect(orm))).toEqual([]);
      },
    );
  });
});

describe('the migration that gives objects and arrays a row', () => {
  it('rebuilds the rows of the live runs already in the database, objects and arrays with value null', async () => {
    await afterMigrationOver(
      'Migration20261126235108_run_durations',
      {
        processes: [{ name: 'P', meta: { run_metadata_schema: { kommune: 'string', sag: 'string' } } }],
        runs: [
          { process: 1, meta: { kommune: 'Aarhus', sag: { nr: 1 } } },
          { process: 1, meta: { kommune: ['Aarhus', 'Odense'], sag: null } },
          { process: 1, meta: { kommune: { navn: 'Vejle' } }, deleted: true },
        ],
      },
      async (orm) => {
        const rows = await orm.em
          .fork()
          .getConnection()
          .execute<{ run_id: number; field: string; value: string | null }[]>(
            'select run_id, field, value from process_run_field order by run_id, field',
          );
        // SQL Server's json_value has no text for an object or array: no row there. Babelfish's reads
        // JSON null as the text 'null' (SQL Server's has none): a row there.
        const objects = testDialect() !== 'mssql';
        const jsonNull = await onBabelfish();
        expect(rows.map((row) => [Number(row.run_id), row.field, row.value])).toEqual([
          [1, 'kommune', 'Aarhus'],
          ...(objects ? [[1, 'sag', null]] : []),
          ...(objects ? [[2, 'kommune', null]] : []),
          ...(jsonNull ? [[2, 'sag', null]] : []),
        ]);
        expect(await runFieldDrift(orm.em.fork(), ormDialect(orm))).toEqual([]);
      },
    );
  });
});
