/**
 * `GET /runs?process_id=…&order_by=meta.<field>` for a field the process declares reads the order from
 * `process_run_field`'s index (src/db/run-field-order.ts) instead of sorting every run's JSON. It must
 * answer exactly what the JSON sort answers — every page, both directions, with statuses, runs without the
 * value last — and fall back to the JSON where the index does not know a value.
 *
 * The oracles: the test's own expected order where collation cannot differ between databases, and the
 * same list with one more filter that keeps every run (`created_after` long ago), which the service
 * answers by sorting the JSON (src/db/run-queries.ts), everywhere else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Schemas } from '../../src/contract.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import { testDialect } from '../support/database.ts';
import { onBabelfish } from '../support/dialect-gaps.ts';

type RunBody = Schemas['ProcessRun'] & { steps: { id: number }[] };
type RunPage = Schemas['ProcessRunPage'];

/** A filter that keeps every run but makes the service sort the JSON. */
const JSON_SORT = 'created_after=2000-01-01T00:00:00Z';

describe('order_by=meta.<field> from the index of declared values', () => {
  let server: TestServer;
  let processId: number;
  const label = new Map<number, string>();
  const idOf = new Map<string, number>();

  /** A run of the process with one step run, reported `status` (the run's status follows). */
  const createRun = async (name: string, meta: Record<string, unknown>, status?: 'failed' | 'success') => {
    const run = await server.json<RunBody>(
      'POST',
      '/api/v1/runs',
      { process_id: processId, entity_id: name, entity_name: name, meta },
      201,
    );
    label.set(run.id, name);
    idOf.set(name, run.id);
    if (status !== undefined) {
      await server.json('PATCH', `/api/v1/step-runs/${run.steps[0]?.id}`, { status });
    }
    return run.id;
  };

  /** Every page of `query` with `size`, as run labels, and each page's total. */
  const pages = async (query: string, size: number) => {
    const names: string[] = [];
    const totals = new Set<number>();
    for (let page = 1; ; page++) {
      const body = await server.json<RunPage>('GET', `/api/v1/runs?${query}&size=${size}&page=${page}`);
      totals.add(body.total);
      names.push(...body.items.map((item) => label.get(item.id) ?? `run ${item.id}`));
      if (body.items.length < size) break;
    }
    return { names, totals: [...totals] };
  };

  const sortQuery = (field: string, direction: 'asc' | 'desc', statuses: readonly string[] = []) =>
    [`process_id=${processId}`, `order_by=meta.${field}`, `sort_direction=${direction}`]
      .concat(statuses.map((status) => `status=${status}`))
      .join('&');

  /** The pages of the sort from the index equal the pages of the JSON sort (and are not empty). */
  const expectSameAsJson = async (
    field: string,
    direction: 'asc' | 'desc',
    statuses: readonly string[] = [],
  ) => {
    const query = sortQuery(field, direction, statuses);
    const json = await pages(`${query}&${JSON_SORT}`, 100);
    expect(json.names.length, query).toBeGreaterThan(0);
    for (const size of [100, 3, 4]) {
      const indexed = await pages(query, size);
      expect(indexed.names, `${query}&size=${size}`).toEqual(json.names);
      expect(indexed.totals, `${query}&size=${size}`).toEqual([json.names.length]);
    }
    return json.names;
  };

  beforeAll(async () => {
    server = await startTestServer();
    processId = (
      await server.json<{ id: number }>('POST', '/api/v1/processes', {
        name: 'Sager',
        meta: { run_metadata_schema: { nr: 'string', tal: 'number', tekst: 'string' } },
      })
    ).id;
    await server.json('POST', '/api/v1/steps', { process_id: processId, index: 0, name: 'Trin' });
    await createRun('a', { nr: 'K07', tal: 10, tekst: 'Ærø' });
    await createRun('b', { nr: 'K03', tal: 2, tekst: 'aarhus' }, 'failed');
    await createRun('c', { nr: 'K10', tal: 5, tekst: 'Aarhus' });
    await createRun('d', { nr: 'K03', tal: '5', tekst: 'Øster' }, 'failed');
    await createRun('e', { tal: 7 });
    await createRun('f', { tekst: 'æble' }, 'success');
    await createRun('g', { nr: 'K99', tal: true, tekst: 'Æble' });
    await createRun('h', { nr: 'K01', tal: 10, tekst: 'zebra' }, 'failed');
    await createRun('i', {}, 'failed');
    await createRun('j', { nr: 'K07', tekst: 'Zebra' });
    await createRun('k', { andet: 'x' }, 'success');
    await createRun('l', { nr: 'K50', tal: -1 }, 'failed');
    await createRun('m', { nr: 'K02' });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('sorts by the text, runs without a value last, id breaking ties, in both directions', async () => {
    const ascending = (await pages(sortQuery('nr', 'asc'), 100)).names;
    const withValue = ['h', 'm', 'b', 'd', 'a', 'j', 'c', 'l', 'g'];
    const without = ['e', 'f', 'i', 'k'];
    expect(ascending).toEqual([...withValue, ...without]);
    const descending = (await pages(sortQuery('nr', 'desc'), 100)).names;
    expect(descending).toEqual([...withValue].reverse().concat([...without].reverse()));
  });

  it('answers what the JSON sort answers: every page, both directions, with and without statuses', async () => {
    for (const field of ['nr', 'tal', 'tekst']) {
      for (const direction of ['asc', 'desc'] as const) {
        await expectSameAsJson(field, direction);
        await expectSameAsJson(field, direction, ['failed']);
        await expectSameAsJson(field, direction, ['failed', 'pending']);
      }
    }
  });

  it('keeps the total on a page past the end', async () => {
    const body = await server.json<RunPage>('GET', `/api/v1/runs?${sortQuery('nr', 'asc')}&size=4&page=9`);
    expect(body.items).toEqual([]);
    expect(body.total).toBe(13);
  });

  it('reads the index: a value changed behind the service’s back moves the run until the index is right again', async () => {
    const connection = server.container.orm.em.fork().getConnection();
    const c = idOf.get('c');
    await connection.execute("update process_run_field set value = 'K00' where run_id = ? and field = 'nr'", [
      c,
    ]);
    try {
      expect((await pages(sortQuery('nr', 'asc'), 100)).names.slice(0, 2)).toEqual(['c', 'h']);
      // The JSON sort still puts it where its JSON says.
      expect((await pages(`${sortQuery('nr', 'asc')}&${JSON_SORT}`, 100)).names.slice(0, 2)).toEqual([
        'h',
        'm',
      ]);
    } finally {
      await connection.execute(
        "update process_run_field set value = 'K10' where run_id = ? and field = 'nr'",
        [c],
      );
    }
  });

  it('sorts the JSON where the index does not know a value (an object, a text too long for it), and follows changes', async () => {
    const long = 'K'.repeat(500);
    const objectRun = await createRun('o', { nr: { kommune: 'Aarhus' }, tal: [1, 2] });
    const longRun = await createRun('p', { nr: long, tal: 3 });
    // JSON null has no text (no row) on SQLite, PostgreSQL and SQL Server; Babelfish's json_value reads
    // it as the text 'null', so there the run has a row without a value and the list sorts the JSON.
    const nullRun = await createRun('q', { nr: null, tal: null });
    for (const direction of ['asc', 'desc'] as const) {
      const names = await expectSameAsJson('nr', direction);
      // SQL Server's json_value has no text for an object; PostgreSQL and SQLite sort its JSON text.
      const objectWithoutText = testDialect() === 'mssql';
      const nullText = (await onBabelfish()) ? [] : ['q'];
      const withoutText = names.slice(names.length - (objectWithoutText ? 5 : 4) - nullText.length);
      for (const name of nullText) expect(withoutText, direction).toContain(name);
      expect(withoutText.includes('o'), `${direction}: ${names.join(' ')}`).toBe(objectWithoutText);
      expect(withoutText, `${direction}: ${names.join(' ')}`).not.toContain('p');
      await expectSameAsJson('tal', direction);
    }
    // A metadata change and deletes take the unknown values away again.
    await server.json('PATCH', `/api/v1/runs/${objectRun}/metadata`, { meta: { nr: 'K05', tal: 4 } });
    for (const id of [longRun, nullRun]) {
      expect((await server.request(`/api/v1/runs/${id}`, { method: 'DELETE' })).status).toBe(204);
      label.delete(id);
    }
    const ascending = (await pages(sortQuery('nr', 'asc'), 100)).names;
    expect(ascending).toEqual(['h', 'm', 'b', 'd', 'o', 'a', 'j', 'c', 'l', 'g', 'e', 'f', 'i', 'k']);
    await expectSameAsJson('nr', 'asc');
  });

  it('sorts the JSON for a field the process does not declare, and for a list across processes', async () => {
    const ascending = (await pages(sortQuery('andet', 'asc'), 100)).names;
    expect(ascending[0]).toBe('k');
    const everyProcess = (await pages('order_by=meta.nr&sort_direction=asc', 100)).names;
    expect(everyProcess.slice(0, 3)).toEqual(['h', 'm', 'b']);
  });
});
