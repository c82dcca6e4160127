import { afterAll, describe, expect, it } from 'vitest';
import { closeOrm, createOrm, type Orm } from '../../src/db/orm.ts';
import { boundParameters } from '../../src/db/sqlite-bound-parameters.ts';
import { sqliteUtcText } from '../../src/db/sqlite-utc-text.ts';

const bind = (sql: string, params: unknown[]) => boundParameters(sql, params, sqliteUtcText);

describe('values bound as parameters on SQLite (sqlite-bound-parameters.ts)', () => {
  it('binds each value as the literal MikroORM would write says', () => {
    const at = new Date('2026-01-05T10:15:00.123Z');
    expect(
      bind('select ? , ?, ?, ?, ?, ?, ?, ?', [4711, 2.5, 'Æblegård', true, false, null, at, 9n]),
    ).toEqual([4711n, 2.5, 'Æblegård', 1n, 0n, null, '2026-01-05 10:15:00.123000', 9n]);
  });

  it("keeps MikroORM's own path for what it writes otherwise", () => {
    expect(bind('select * from t where id in (?)', [[1, 2]])).toBeUndefined(); // an expanded list
    expect(bind('select ?', [{ a: 1 }])).toBeUndefined();
    expect(bind('select ?', [Buffer.from('x')])).toBeUndefined();
    expect(bind('select ?', [Number.NaN])).toBeUndefined();
    expect(bind('select ?', [2n ** 64n])).toBeUndefined(); // beyond 64 bits
    expect(bind('select ?', [new Date(Number.NaN)])).toBeUndefined();
    expect(bind('select ?? from t where id = ?', ['name', 1])).toBeUndefined(); // an identifier
    expect(bind("select '?' , ?", [1])).toBeUndefined(); // a ? in a string
    expect(bind('select "a?" , ?', [1])).toBeUndefined();
    expect(bind('select ? -- why?', [1])).toBeUndefined(); // a comment
    expect(bind('select ? /* ? */', [1])).toBeUndefined();
    expect(bind('select ?1', [1])).toBeUndefined(); // numbered or named parameters
    expect(bind('select :a', [1])).toBeUndefined();
    expect(bind('select ?, ?', [1])).toBeUndefined(); // one value per placeholder
    expect(bind('select ?', [1, 2])).toBeUndefined();
    expect(bind("select 'it''s', ?", [1])).toEqual([1n]); // a quote doubled inside a string
  });
});

describe('the SQLite connection of createOrm binds values', () => {
  const orms: Orm[] = [];
  afterAll(async () => {
    for (const orm of orms) await closeOrm(orm);
  });

  it('answers as with the values written in, one statement per text', async () => {
    const orm = await createOrm('sqlite::memory:');
    orms.push(orm);
    const connection = orm.em.fork().getConnection();
    // The texts SQLite is asked to prepare.
    const native = await (
      connection as unknown as { getNativeClient(): Promise<{ prepare(sql: string): unknown }> }
    ).getNativeClient();
    const prepare = native.prepare.bind(native);
    const texts: string[] = [];
    native.prepare = (sql: string) => {
      texts.push(sql);
      return prepare(sql);
    };
    for (const id of [4711, 4712]) {
      expect(await connection.execute('select ? + 1 as next', [id])).toEqual([{ next: id + 1 }]);
    }
    expect(texts).toEqual(['select ? + 1 as next', 'select ? + 1 as next']);
    const rows = await connection.execute(
      'select typeof(?) as a, cast(? as text) as b, ? as c, ? = 1 as d, ? as e, ? as f, ? as g',
      [2, 2, 'Æblegård', true, null, new Date('2026-01-05T10:15:00.123Z'), 0.5],
    );
    expect(rows).toEqual([
      { a: 'integer', b: '2', c: 'Æblegård', d: 1, e: null, f: '2026-01-05 10:15:00.123000', g: 0.5 },
    ]);
    expect(
      await connection.execute("select count(*) as n from (select 1 union all select 2) where ? = 'x'", [
        'x',
      ]),
    ).toEqual([{ n: 2 }]);
    // An expanded list keeps MikroORM's path and still answers.
    expect(await connection.execute('select 3 in (?) as found', [[1, 2, 3]])).toEqual([{ found: 1 }]);
    expect(texts.at(-1)).toBe('select 3 in (1, 2, 3) as found');
  });
});
