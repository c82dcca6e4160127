/**
 * SQLite's trigram index of the runs' entity_id and entity_name (src/db/sqlite-run-text.ts): the
 * "contains" filters (`entity_name` of GET /runs, GET /runs/search) narrow to the runs it finds first,
 * and the query's own condition decides. The index must never leave out a run the condition finds —
 * whatever the characters — and must follow every write of a run.
 *
 * On a SQLite database of its own (whatever TEST_DATABASE_URL says: the index exists only there), through
 * the services. The oracle: JavaScript's `toLowerCase().includes()`, the very folding SQLite's lower() does
 * here (orm.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeOrm, createOrm, migrateToLatest, type Orm } from '../../src/db/orm.ts';
import { OPTIMIZE_RUN_TEXT_SQL, REBUILD_RUN_TEXT_SQL, trigramPhrase } from '../../src/db/sqlite-run-text.ts';
import {
  metaScalarText,
  runSearchCountQuery,
  runSearchPageQuery,
  SEARCHED_RUN_COLUMNS,
  searchTextIndexed,
  type SearchedField,
} from '../../src/db/run-search-queries.ts';
import { RunSearchService } from '../../src/services/run-search.service.ts';
import { RunService, textMatchesFirst } from '../../src/services/run.service.ts';
import { recountRunsSql } from '../../src/db/run-counts.ts';
import { runTextDrift } from '../support/run-counts.ts';

/** Names with the characters where FTS5's folding and JavaScript's differ, and plain Danish ones. */
const NAMES = [
  'Jens Hansen',
  'HANSEN, Åse',
  'Åse Æbelø',
  'ÆBELØ ØSTERGÅRD',
  'İlker Ali', // JavaScript: "i̇lker ali" (i + U+0307)
  'ALİ Yılmaz',
  'ᎠᎡᎢ Cherokee', // FTS5's tables predate Cherokee's lower case
  'ᲐᲑᲒ Mtavruli', // Georgian upper case (Unicode 11)
  'ΟΔΥΣΣΕΑΣ', // final sigma
  'KELVIN ÅNGSTRÖM', // Kelvin sign, Angstrom sign
  'STRAẞE Groß',
  '0101-4711 "citat"',
  '100% _under_ !bang',
];

describe('the trigram index of entity_id, entity_name and the meta values (SQLite)', () => {
  let dir: string;
  let orm: Orm;
  const runs = new RunService({ dialect: 'sqlite' });
  const search = new RunSearchService({ dialect: 'sqlite' });
  /** run id → [entity_id, entity_name] as stored (the oracle). */
  const texts = new Map<number, [string, string | null]>();

  const em = () => orm.em.fork() as SqlEntityManager;
  const insertRun = async (entityId: string, entityName: string | null, processId = 1) => {
    const now = '2026-11-27 05:00:00.000000';
    const result = await em().execute<{ id: number }[]>(
      'insert into process_run (process_id, entity_id, entity_name, status, meta, is_neutralized, created_at, updated_at) ' +
        "values (?, ?, ?, 'PENDING', '{}', 0, ?, ?) returning id",
      [processId, entityId, entityName, now, now],
    );
    const id = Number(result[0]?.id);
    texts.set(id, [entityId, entityName]);
    return id;
  };
  const fold = (text: string) => text.toLowerCase();
  const expectedByName = (text: string) =>
    [...texts]
      .filter(([, [, name]]) => name !== null && fold(name).includes(fold(text)))
      .map(([id]) => id)
      .sort((a, b) => a - b);
  const expectedBySearch = (text: string) =>
    [...texts]
      .filter(
        ([, [id, name]]) =>
          fold(id).includes(fold(text)) || (name !== null && fold(name).includes(fold(text))),
      )
      .map(([id]) => id)
      .sort((a, b) => a - b);
  const byName = async (text: string, offset = 0, limit = 100) => {
    const page = await runs.list(em(), {
      filters: { entity_name: text },
      order: { column: 'created_at' },
      direction: 'desc',
      offset,
      limit,
    });
    return { ids: page.items.map((item) => item.run.id).sort((a, b) => a - b), total: page.total };
  };
  const bySearch = async (text: string) => {
    const page = await search.search(em(), { q: text, offset: 0, limit: 100 });
    return { ids: page.items.map((item) => item.run.id).sort((a, b) => a - b), total: page.total };
  };
  /** Every substring of at least `min` characters of each name, folded and as written. */
  const substrings = (min: number) => {
    const found = new Set<string>();
    for (const name of NAMES) {
      for (const form of [name, fold(name)]) {
        const characters = [...form];
        for (let start = 0; start < characters.length; start++) {
          for (let end = start + min; end <= Math.min(characters.length, start + 6); end++) {
            found.add(characters.slice(start, end).join(''));
          }
        }
      }
    }
    return [...found];
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pd-run-text-'));
    orm = await createOrm(`sqlite:${join(dir, 'runs.sqlite')}`);
    await migrateToLatest(orm);
    await em().execute(
      "insert into process (name, meta, created_at, updated_at) values ('P', '{}', '2026-11-27 05:00:00.000000', '2026-11-27 05:00:00.000000')",
    );
    for (const [index, name] of NAMES.entries())
      await insertRun(`ID-${index}-${fold(name).slice(0, 4)}`, name);
    await insertRun('uden-navn', null);
  });

  afterAll(async () => {
    await closeOrm(orm);
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists by entity_name exactly the runs whose name contains the text, for every substring of every name', async () => {
    const texts3 = substrings(1);
    expect(texts3.length).toBeGreaterThan(300);
    let indexed = 0;
    for (const text of texts3) {
      if (trigramPhrase(text) !== undefined) indexed++;
      const { ids, total } = await byName(text);
      const expected = expectedByName(text);
      expect(ids, JSON.stringify(text)).toEqual(expected);
      expect(total, JSON.stringify(text)).toBe(expected.length);
    }
    // Most texts are served by the index; the others (too short, or characters it folds otherwise) scan.
    expect(indexed).toBeGreaterThan(texts3.length / 2);
    expect(trigramPhrase('ali')).toBeUndefined();
    expect(trigramPhrase('ꭰꭱꭲ')).toBeUndefined();
    expect(trigramPhrase('Åse Æbelø')).toBe('"åse æbelø"');
  });

  it('searches entity_id and entity_name exactly, for every substring of every name', async () => {
    for (const text of [...substrings(3), '0101', 'id-1', 'ID-12-100%']) {
      const { ids, total } = await bySearch(text);
      const expected = expectedBySearch(text);
      expect(ids, JSON.stringify(text)).toEqual(expected);
      expect(total, JSON.stringify(text)).toBe(expected.length);
    }
  });

  it('reads the index: a run it forgot behind the service’s back is not counted until it is rebuilt', async () => {
    const [id, [entityId, name]] = [...texts][2] as [number, [string, string]];
    expect((await byName('æbelø')).ids).toContain(id);
    await em().execute('delete from process_run_text where rowid = ?', [id]);
    expect(await runTextDrift(em(), 'sqlite')).toEqual([
      `process_run_text: ${JSON.stringify({ drift: "the run's, not held", id, entity_id: entityId, entity_name: name, meta: null })}`,
    ]);
    expect((await byName('æbelø')).total).toBe(expectedByName('æbelø').length - 1);
    for (const sql of REBUILD_RUN_TEXT_SQL) await em().execute(sql);
    expect(await runTextDrift(em(), 'sqlite')).toEqual([]);
    expect((await byName('æbelø')).ids).toEqual(expectedByName('æbelø'));
  });

  it('follows new runs, changed names (neutralisation), deletes and soft deletes', async () => {
    const added = await insertRun('NY-1', 'Karen Æbeløsen');
    expect((await byName('æbeløs')).ids).toEqual([added]);
    await em().execute(
      "update process_run set entity_name = null, entity_id = 'NEUTRALIZED_1' where id = ?",
      [added],
    );
    texts.set(added, ['NEUTRALIZED_1', null]);
    expect((await byName('æbeløs')).ids).toEqual([]);
    expect((await bySearch('neutralized')).ids).toEqual([added]);
    // Reports write the run without touching its texts: the index is left alone, and stays exact.
    await em().execute("update process_run set status = 'RUNNING' where id = ?", [added]);
    const gone = [...texts.keys()][0];
    await em().execute('delete from process_run where id = ?', [gone]);
    texts.delete(gone);
    expect((await byName('hansen')).ids).toEqual(expectedByName('hansen'));
    const hidden = [...texts.keys()][1];
    await em().execute("update process_run set deleted_at = '2026-11-27 06:00:00.000000' where id = ?", [
      hidden,
    ]);
    texts.delete(hidden);
    expect((await bySearch('hansen')).ids).toEqual(expectedBySearch('hansen'));
    expect(await runTextDrift(em(), 'sqlite')).toEqual([]);
  });

  it('merges its segments only when a level is full (automerge 0), and stays exact through the merges', async () => {
    const [config] = await em().execute<{ v: number }[]>(
      "select v from process_run_text_config where k = 'automerge'",
    );
    expect(config?.v).toBe(0);
    // One transaction each, so one segment each: past crisismerge (16) FTS5 merges a level.
    const added: number[] = [];
    for (let i = 0; i < 40; i++) added.push(await insertRun(`SEGMENT-${i}`, `Segment Sørensen ${i}`));
    expect((await byName('sørensen')).ids).toEqual(added);
    expect((await bySearch('segment-3')).ids).toEqual(expectedBySearch('segment-3'));
    expect(await runTextDrift(em(), 'sqlite')).toEqual([]);
  });

  it('pages the same whether a page reads the matches from the index first or walks the runs in order', async () => {
    for (let i = 0; i < 60; i++)
      await insertRun(`BULK-${i}`, i % 10 === 0 ? `Bo Æbelø ${i}` : `Anna Berg ${i}`);
    // The run counts give the number of live runs the walk goes through (N).
    for (const { sql, params } of recountRunsSql('sqlite')) await em().execute(sql, params, 'run');
    const all = expectedByName('bo æbelø');
    expect(all).toHaveLength(6);
    // 10 × 6² = 360 matches-first cost against (offset + 3) × N: page 1 walks, page 2 reads the index first.
    expect(await textMatchesFirst(em(), { offset: 0, limit: 3 }, 6)).toBe(false);
    expect(await textMatchesFirst(em(), { offset: 3, limit: 3 }, 6)).toBe(true);
    const pages: number[] = [];
    for (const offset of [0, 3, 6]) {
      const page = await runs.list(em(), {
        filters: { entity_name: 'bo æbelø' },
        order: { column: 'id' },
        direction: 'asc',
        offset,
        limit: 3,
      });
      expect(page.total).toBe(6);
      pages.push(...page.items.map((item) => item.run.id));
    }
    expect(pages).toEqual(all);
    expect(await runTextDrift(em(), 'sqlite')).toEqual([]);
  });
  it('finds the declared meta values of a search in a process exactly as reading the JSON finds them, whatever their JSON', async () => {
    const schema = { navn: 'string', nr: 'integer', beløb: 'number', aktiv: 'boolean', adresse: 'object' };
    const now = '2026-11-27 05:00:00.000000';
    const [process] = await em().execute<{ id: number }[]>(
      'insert into process (name, meta, created_at, updated_at) values (?, ?, ?, ?) returning id',
      ['M', JSON.stringify({ run_metadata_schema: schema }), now, now],
    );
    const processId = Number(process?.id);
    // As stored: JSON text as its writer wrote it (the original wrote \u escapes), numbers as written.
    const metas = [
      '{"navn":"\\u00c6blegård Hansen","nr":4711,"beløb":1.50,"aktiv":true,"adresse":{"vej":"Skovvej"},"ekstra":"zebra"}',
      '{"navn":"ALİ \\"citat\\" 100%","nr":-12,"beløb":1e20,"aktiv":false}',
      '{"navn":"Linje\\nto","nr":null,"beløb":0.000001,"aktiv":"true"}',
      '{"navn":["ikke","skalar"],"nr":12345678901234567890,"beløb":-0.5}',
      '{"navn":"første","navn":"anden","nr":7}',
      '{}',
    ];
    const ids: number[] = [];
    for (const [index, meta] of metas.entries()) {
      const result = await em().execute<{ id: number }[]>(
        'insert into process_run (process_id, entity_id, entity_name, status, meta, is_neutralized, created_at, updated_at) ' +
          "values (?, ?, ?, 'PENDING', ?, 0, ?, ?) returning id",
        [processId, `META-${index}`, null, meta, now, now],
      );
      ids.push(Number(result[0]?.id));
    }
    const fields: SearchedField[] = [
      ...SEARCHED_RUN_COLUMNS.map((column) => ({ column })),
      ...Object.keys(schema).map((metaField) => ({ metaField })),
    ];
    // Each declared field's text as the search compares it, read by SQLite itself.
    const values = new Set<string>(['zebra', 'skovvej', 'ikke', 'TRUE', 'anden']);
    for (const field of Object.keys(schema)) {
      const text = metaScalarText('sqlite', field);
      const rows = await em().execute<{ v: string | null }[]>(
        `select ${text.sql} as v from process_run r where r.process_id = ?`,
        [...text.params, processId],
      );
      for (const { v } of rows) if (v !== null) values.add(v);
    }
    const texts = new Set<string>();
    for (const value of values) {
      const characters = [...value];
      for (let start = 0; start < characters.length; start++) {
        for (let end = start + 3; end <= Math.min(characters.length, start + 6); end++) {
          const text = characters.slice(start, end).join('');
          texts.add(text);
          texts.add(text.toUpperCase());
        }
      }
    }
    const answer = async (text: string, textIndex: boolean) => {
      const query = { text, process_id: processId, fields, offset: 0, limit: 100, textIndex };
      const count = runSearchCountQuery(em(), 'sqlite', query);
      const [row] = await em().execute<{ count: number }[]>(count.sql, count.params);
      const page = await runSearchPageQuery(em(), 'sqlite', query).execute<{ id: number }[]>('all', false);
      return { total: Number(row?.count), ids: page.map((item) => Number(item.id)) };
    };
    let indexed = 0;
    let found = 0;
    for (const text of texts) {
      const query = { text, process_id: processId, fields, offset: 0, limit: 100 };
      if (searchTextIndexed('sqlite', query) !== undefined) indexed++;
      const read = await answer(text, false);
      if (read.total > 0) found++;
      expect(await answer(text, true), JSON.stringify(text)).toEqual(read);
    }
    expect(texts.size).toBeGreaterThan(200);
    expect(indexed).toBeGreaterThan(texts.size / 2);
    expect(found).toBeGreaterThan(texts.size / 2);
    // Found through the index: a value the index does not hold is not found with it.
    expect((await answer('blegård', true)).ids).toEqual([ids[0]]);
    await em().execute('update process_run set meta = ? where id = ?', ['{"navn":"Ny Værdi"}', ids[0]]);
    expect((await answer('blegård', true)).ids).toEqual([]);
    expect((await answer('ny vær', true)).ids).toEqual([ids[0]]);
    expect(await runTextDrift(em(), 'sqlite')).toEqual([]);
    await em().execute('update process_run_text set meta = null where rowid = ?', [ids[0]]);
    expect((await answer('ny vær', true)).ids).toEqual([]);
    expect((await answer('ny vær', false)).ids).toEqual([ids[0]]);
    expect(await runTextDrift(em(), 'sqlite')).toHaveLength(2);
    for (const sql of REBUILD_RUN_TEXT_SQL) await em().execute(sql);
    expect(await runTextDrift(em(), 'sqlite')).toEqual([]);
  });

  it('merges its segments into one (OPTIMIZE_RUN_TEXT_SQL) and still finds the same runs', async () => {
    const segments = async () =>
      Number(
        (
          await em().execute<{ n: number }[]>('select count(distinct segid) as n from process_run_text_idx')
        )[0]?.n,
      );
    const texts = ['hansen', 'æbelø', 'id-1', 'ny vær', 'ᎠᎡᎢ'];
    const before = await Promise.all(texts.map(bySearch));
    // Every run above was its own transaction, so its own segment (FTS5's automerge is 0).
    expect(await segments()).toBeGreaterThan(5);
    await em().execute(OPTIMIZE_RUN_TEXT_SQL);
    expect(await segments()).toBe(1);
    expect(await Promise.all(texts.map(bySearch))).toEqual(before);
    expect(before.map((found) => found.total)).toEqual(texts.map((text) => expectedBySearch(text).length));
    expect(await runTextDrift(em(), 'sqlite')).toEqual([]);
  });
});
