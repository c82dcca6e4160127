import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { closeOrm, createOrm, type Orm } from '../../src/db/orm.ts';
import { cachePreparedStatements } from '../../src/db/sqlite-statement-cache.ts';

/** The part of better-sqlite3 these tests use (the package ships no types). */
interface Statement {
  readonly busy: boolean;
  all(...parameters: unknown[]): unknown[];
  iterate(...parameters: unknown[]): IterableIterator<unknown>;
}
interface Database {
  prepare(sql: string): Statement;
  exec(sql: string): void;
}
const BetterSqlite = createRequire(import.meta.url)('better-sqlite3') as new (path: string) => Database;

/** A plain in-memory connection with a table `t` of three rows. */
function database(): Database {
  const db = new BetterSqlite(':memory:');
  db.exec(
    "create table t (id integer primary key, name text); insert into t (name) values ('a'), ('b'), ('c')",
  );
  return db;
}

const orms: Orm[] = [];
afterAll(async () => {
  for (const orm of orms) await closeOrm(orm);
});

describe('prepared statements kept on SQLite (sqlite-statement-cache.ts)', () => {
  it('hands out the statement prepared for a text again, and it runs with new parameters', () => {
    const db = database();
    const cache = cachePreparedStatements(db);
    const first = db.prepare('select name from t where id = ?');
    const second = db.prepare('select name from t where id = ?');
    expect(second).toBe(first);
    expect(first.all(1)).toEqual([{ name: 'a' }]);
    expect(second.all(3)).toEqual([{ name: 'c' }]);
    expect(cache.prepared()).toBe(1);
    expect(db.prepare('select name from t where id > ?')).not.toBe(first);
    expect(cache.prepared()).toBe(2);
  });

  it('drops the least recently used statement beyond its limit', () => {
    const db = database();
    const cache = cachePreparedStatements(db, 2);
    const one = db.prepare('select 1');
    db.prepare('select 2');
    expect(db.prepare('select 1')).toBe(one); // now the most recently used
    db.prepare('select 3'); // drops `select 2`
    expect(cache.size()).toBe(2);
    expect(db.prepare('select 1')).toBe(one);
    const prepared = cache.prepared();
    db.prepare('select 2');
    expect(cache.prepared()).toBe(prepared + 1);
  });

  it('does not hand out a statement that is still iterating; the second caller gets its own', () => {
    const db = database();
    cachePreparedStatements(db);
    const sql = 'select name from t order by id';
    const streaming = db.prepare(sql);
    const rows = streaming.iterate();
    expect(rows.next().value).toEqual({ name: 'a' });
    const other = db.prepare(sql);
    expect(other).not.toBe(streaming);
    expect(other.all()).toEqual([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    expect([...rows]).toEqual([{ name: 'b' }, { name: 'c' }]);
    expect(db.prepare(sql)).toBe(streaming);
  });

  it('answers for the schema of now after a migration changed the table a kept statement reads', () => {
    const db = database();
    cachePreparedStatements(db);
    const sql = 'select * from t where id = ?';
    expect(db.prepare(sql).all(1)).toEqual([{ id: 1, name: 'a' }]);
    db.exec("alter table t add column kommune text default 'Aarhus'");
    expect(db.prepare(sql).all(1)).toEqual([{ id: 1, name: 'a', kommune: 'Aarhus' }]);
    db.exec('drop table t');
    expect(() => db.prepare(sql).all(1)).toThrow(/no such table: t/);
  });

  it('is installed on the connection of every ORM made by createOrm', async () => {
    const orm = await createOrm('sqlite::memory:');
    orms.push(orm);
    const connection = orm.em.getConnection() as unknown as { getNativeClient(): Promise<Database> };
    const db = await connection.getNativeClient();
    expect(db.prepare('select 1 as one')).toBe(db.prepare('select 1 as one'));
    expect(await orm.em.fork().getConnection().execute('select 1 as one')).toEqual([{ one: 1 }]);
  });
});
