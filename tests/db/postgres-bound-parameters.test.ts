import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { closeOrm, type Orm } from '../../src/db/orm.ts';
import { numberedParameters, preparedName } from '../../src/db/postgres-bound-parameters.ts';
import { createMigratedTestOrm, testDialect, type TestDatabase } from '../support/database.ts';

const iso = (date: Date) => date.toISOString();
const bind = (sql: string, params: unknown[]) => numberedParameters(sql, params, iso);

describe('values bound as parameters on PostgreSQL (postgres-bound-parameters.ts)', () => {
  it('numbers the placeholders and types numbers and booleans as their literals are typed', () => {
    const at = new Date('2026-01-05T10:15:00.123Z');
    expect(
      bind('select ?, ?, ?, ?, ?, ?, ?, ?, ?, ?', [
        4711,
        -2147483648,
        2147483648,
        16700075288n,
        2n ** 63n,
        2.5,
        'Æblegård',
        true,
        null,
        at,
      ]),
    ).toEqual({
      sql: 'select $1::int4, $2::int4, $3::int8, $4::int8, $5::numeric, $6::numeric, $7, $8::boolean, $9, $10',
      values: [
        '4711',
        '-2147483648',
        '2147483648',
        '16700075288',
        '9223372036854775808',
        '2.5',
        'Æblegård',
        'true',
        null,
        '2026-01-05T10:15:00.123Z',
      ],
    });
  });

  it("keeps MikroORM's own path for what it writes otherwise", () => {
    expect(bind('select * from t where id in (?)', [[1, 2]])).toBeUndefined(); // an expanded list
    expect(bind('select ?', [{ a: 1 }])).toBeUndefined();
    expect(bind('select ?', [Buffer.from('x')])).toBeUndefined();
    expect(bind('select ?', [Number.POSITIVE_INFINITY])).toBeUndefined();
    expect(bind('select ?', [new Date(Number.NaN)])).toBeUndefined();
    expect(bind('select ?? from t where id = ?', ['name', 1])).toBeUndefined(); // an identifier
    expect(bind("select '?', ?", [1])).toBeUndefined(); // a ? in a string
    expect(bind("select E'\\'', ?", [1])).toBeUndefined(); // a backslash escape
    expect(bind('select $1, ?', [1])).toBeUndefined(); // numbered parameters already
    expect(bind('select $$a$$, ?', [1])).toBeUndefined(); // dollar quoting
    expect(bind('select ? -- why?', [1])).toBeUndefined(); // a comment
    expect(bind('select ?, ?', [1])).toBeUndefined(); // one value per placeholder
    expect(bind("select 'it''s', ?", ['x'])).toEqual({ sql: "select 'it''s', $1", values: ['x'] });
  });

  it('prepares statements under a name unless their plan may depend on their values', () => {
    const text = 'select * from process_run where id = $1::int4 and deleted_at is null';
    expect(preparedName(text)).toMatch(/^pd_\d+$/);
    expect(preparedName(text)).toBe(preparedName(text));
    expect(preparedName(`${text} and status = $2`)).not.toBe(preparedName(text));
    for (const planned of [
      'select * from process_run order by id limit $1::int4',
      'select * from process_run order by id offset $1::int4 rows fetch next $2::int4 rows only',
      'select count(*) as n from process_run where status = $1',
      'select status, count (*) from process_run group by status',
      'select * from process_run where lower(entity_name) like $1',
    ]) {
      expect(preparedName(planned)).toBeUndefined();
    }
  });
});

// The connection itself, where the suite runs on PostgreSQL.
if (testDialect() === 'postgresql') {
  describe('the PostgreSQL connection of createOrm', () => {
    let db: TestDatabase;
    let orm: Orm;
    beforeAll(async () => {
      ({ db, orm } = await createMigratedTestOrm());
    });
    afterAll(async () => {
      await closeOrm(orm);
      await db.dispose();
    });

    it('answers as with the values written in, bigint sums included', async () => {
      const em = orm.em.fork() as SqlEntityManager;
      for (const id of [4711, 4712]) {
        expect(await em.execute('select ? + 1 as next', [id])).toEqual([{ next: id + 1 }]);
      }
      const [row] = await em.execute<Record<string, unknown>[]>(
        'select pg_typeof(?)::text as a, pg_typeof(?)::text as b, pg_typeof(?)::text as c, ' +
          'pg_typeof(?)::text as d, ? as e, ? as f, (? + 0)::text as g, ' +
          '(case when true then ? else 0 end)::text as h',
        [1, 16700075288, 0.5, true, 'Æblegård', null, 2147483647, 16700075288],
      );
      expect(row).toEqual({
        a: 'integer',
        b: 'bigint',
        c: 'numeric',
        d: 'boolean',
        e: 'Æblegård',
        f: null,
        g: '2147483647',
        h: '16700075288',
      });
      // An expanded list keeps MikroORM's path and still answers.
      expect(await em.execute('select 3 in (?) as found', [[1, 2, 3]])).toEqual([{ found: true }]);
    });

    it('prepares a bound statement once per connection, and not a page', async () => {
      await orm.em.fork().transactional(async (tx) => {
        const sql = tx as SqlEntityManager;
        for (const id of [1, 2, 3]) await sql.execute('select * from process where id = ?', [id]);
        await sql.execute('select * from process order by id limit ?', [5]);
        const prepared = await sql.execute<{ statement: string }[]>(
          'select statement from pg_prepared_statements',
        );
        const texts = prepared.map((row) => row.statement);
        expect(texts).toContain('select * from process where id = $1::int4');
        expect(texts.filter((text) => text.includes('limit'))).toEqual([]);
      });
    });
  });
}
