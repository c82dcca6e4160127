/**
 * SQLite only: a trigram index (FTS5's `trigram` tokenizer) of every run's `entity_id`, `entity_name` and
 * the values in its `meta`, for the "contains" searches no B-tree can serve — `entity_name` in `GET /runs`
 * and `GET /runs/search` (its run columns, and with `process_id` the process's declared run fields) — as
 * PostgreSQL has its `pg_trgm` indexes (postgres-trigram-indexes.ts). Without it an exact `total` of such
 * a search reads every live run in range and folds each name in JavaScript (the Unicode lower() of
 * orm.ts), and a search in a process reads the JSON of each of its runs: 0.6–1 s and more at a million
 * runs, with the event loop held.
 *
 * What it is: `process_run_text`, an FTS5 table of every run, deleted or not (rowid = the run's id), of
 * the run's entity_id and entity_name, and `meta`: the text of every string, number and boolean at the
 * top of the run's `meta` (`metaValuesSql`: each as `metaText` reads it, one per line). It keeps that text
 * itself (FTS5's own content table, about 100 bytes a run): an index whose content is read from elsewhere
 * must be told the old text of a row it forgets, and the only other place the meta text could be read
 * from, a view, FTS5 cannot read (json_each in a view it reads fails: "no such table: main.json_each").
 * Three triggers keep it exact in the transaction of every write: a new run, a changed entity_id,
 * entity_name or meta (neutralisation and a metadata update among them), a deleted row (retention). Two
 * are in the entity metadata on SQLite (so migrations, snapshot and schema checks know them), the third is
 * written by hand (`RUN_TEXT_UPDATE_TRIGGER_SQL`); the FTS table and its shadow tables are outside
 * MikroORM's schema (`schemaGenerator.skipTables`), created by the migrations that added them. Every test
 * server checks that it holds exactly the runs' texts (tests/support/run-counts.ts `runTextDrift`).
 *
 * How a search uses it: the index narrows the runs to those whose text contains the search text as FTS5
 * folds case (`r.id in (select rowid from process_run_text where … match '"text"')`, in the columns the
 * search looks in), and the query's own condition (`lower(…) like …`, JavaScript's folding; for a meta
 * field its own value only) still decides. So the index must never leave out a run the condition finds:
 * FTS5 folds case with Unicode tables older than JavaScript's, and JavaScript lower-cases `İ` to two
 * characters. `learnTrigramFolding` asks this process's SQLite, once (at the first search that could use
 * the index), which lower-case characters it folds differently from JavaScript; a search text containing
 * one of them (or too short for trigrams) reads every run as before (`trigramPhrase` answers undefined).
 * The meta text holds more than the declared fields (every top-level value), and a text may match across
 * two values' line: the index then finds a run the condition does not, never the reverse.
 */
import type { EntityMetadata, TriggerDef } from '@mikro-orm/core';
import type { SqlFragment } from './run-queries.ts';

/** The FTS5 table (and, with a suffix, its shadow tables). */
export const RUN_TEXT_TABLE = 'process_run_text';

/** The tables MikroORM's schema tools leave alone on SQLite: the FTS5 table and its shadow tables. */
export const RUN_TEXT_TABLES = new RegExp(`^${RUN_TEXT_TABLE}(_(data|idx|content|docsize|config))?$`);

/**
 * The indexed text of a run's `meta` (`meta`: SQL of the JSON text): every string, number and boolean at
 * its top, one per line, each as `metaText` (run-queries.ts) reads a field — json_each's value is what
 * json_extract answers for its path; booleans as `true`/`false` — so the value of every field a search
 * looks in is there as the search compares it. Null for JSON that is not valid (json_each would fail the
 * write) and for a `meta` without such values. `iif`, not CASE: MikroORM reads a trigger's body up to its
 * first `end`.
 */
export function metaValuesSql(meta: string): string {
  return (
    `iif(json_valid(${meta}), (select group_concat(iif(j.type in ('true', 'false'), j.type, ` +
    `cast(j.value as text)), char(10)) from json_each(${meta}) j where j.type not in ('null', 'object', 'array')), null)`
  );
}

/** The rows the index holds, from `process_run` (`r`): what fills it, and what it must equal. */
export const RUN_TEXT_SOURCE_SQL = `select r.id, r.entity_id, r.entity_name, ${metaValuesSql('r.meta')} as meta from process_run r`;

/** The statements that fill the index anew from the runs. */
export const REBUILD_RUN_TEXT_SQL = [
  `delete from ${RUN_TEXT_TABLE}`,
  `insert into ${RUN_TEXT_TABLE} (rowid, entity_id, entity_name, meta) ${RUN_TEXT_SOURCE_SQL}`,
];

/** The statements that create the index and fill it with the runs already there (the migration's). */
export const CREATE_RUN_TEXT_SQL = [
  `create virtual table ${RUN_TEXT_TABLE} using fts5(entity_id, entity_name, meta, tokenize='trigram')`,
  ...REBUILD_RUN_TEXT_SQL.slice(1),
];

const INSERT_NEW =
  `insert into ${RUN_TEXT_TABLE} (rowid, entity_id, entity_name, meta) ` +
  `values (new.id, new.entity_id, new.entity_name, ${metaValuesSql('new.meta')});`;
const DELETE_OLD = `delete from ${RUN_TEXT_TABLE} where rowid = old.id;`;
const UPDATE_NEW =
  `update ${RUN_TEXT_TABLE} set entity_id = new.entity_id, entity_name = new.entity_name, ` +
  `meta = ${metaValuesSql('new.meta')} where rowid = new.id;`;

/**
 * The triggers of `process_run` that keep the index exact on a new and a deleted row, in the entity
 * metadata. Names without an event suffix: MikroORM groups `<name>_<event>` triggers.
 */
export const RUN_TEXT_TRIGGERS: TriggerDef[] = [
  { name: 'process_run_text_ai', timing: 'after', events: ['insert'], body: INSERT_NEW },
  { name: 'process_run_text_ad', timing: 'after', events: ['delete'], body: DELETE_OLD },
];

/**
 * The trigger of a changed entity_id, entity_name or meta. `update of` those columns, so an UPDATE that sets
 * none (a report's lock, its status and times) does not involve the FTS5 table at all: a trigger on
 * every UPDATE, even with a WHEN that is false, had FTS5 read its tables before the UPDATE took the write
 * lock, and a worker process writing the same database then got SQLITE_BUSY at once instead of waiting
 * (tests/reruns/rerun-worker-processes.test.ts). MikroORM's metadata cannot say `update of` (and its
 * SQLite introspection skips such a trigger), so the migration creates it by hand; a rebuild of
 * `process_run` by a later migration must create it again — every test server checks the index
 * (tests/support/run-counts.ts `runTextDrift`).
 */
export const RUN_TEXT_UPDATE_TRIGGER_SQL =
  'create trigger process_run_text_au after update of entity_id, entity_name, meta on process_run for each row ' +
  'when old.entity_id is not new.entity_id or old.entity_name is not new.entity_name or old.meta is not new.meta ' +
  `begin ${UPDATE_NEW} end`;

/**
 * The index merges its segments in fewer, larger steps. FTS5 writes the changes of a transaction as a new
 * segment when it commits and, by default (`automerge` 4), also merges some older segments into larger
 * ones then. Measured in process on a copy of the bench's database (a million runs, 3,000 new runs one
 * transaction each, four rounds): 554–617 µs a commit with those merges, 404–426 µs without. With
 * `automerge` 0 a commit writes its segment only; FTS5 merges a level's segments when it holds
 * `crisismerge` (16) of them, so the number of segments a query reads stays bounded. Persistent: it is kept
 * in the index's config table.
 */
export const RUN_TEXT_MERGE_SQL = `insert into ${RUN_TEXT_TABLE} (${RUN_TEXT_TABLE}, rank) values ('automerge', 0)`;

/**
 * Merges every segment of the index into one (FTS5's `optimize`): after the index was filled in bulk — by
 * the migration that created it, by an adoption (adopt.ts) or by the bench's seed. A bulk fill leaves
 * segments of thousands of pages each at FTS5's lowest level, where with `automerge` 0 (`RUN_TEXT_MERGE_SQL`)
 * the new runs' one-commit segments join them; when that level holds `crisismerge` (16) segments, the next
 * commit merges them all in one statement. On a database just seeded with a million runs such merges
 * rewrote 33,000 and 64,000 pages within the first 7,000 new runs, holding the event loop 1.2–3.7 s each:
 * POST run 354–355 req/s in its first 10 s against 509–525 after `optimize` (4 s at a million runs), which
 * leaves one segment at the top, so a commit's merges involve only what came after it.
 */
export const OPTIMIZE_RUN_TEXT_SQL = `insert into ${RUN_TEXT_TABLE} (${RUN_TEXT_TABLE}) values ('optimize')`;

/** Adds `RUN_TEXT_TRIGGERS` to the metadata of `process_run` (on SQLite; orm-config.ts). */
export function addRunTextTriggersOnSqlite(meta: EntityMetadata): void {
  if (meta.tableName !== 'process_run') return;
  meta.triggers ??= [];
  for (const trigger of RUN_TEXT_TRIGGERS) {
    if (!meta.triggers.some((existing) => existing.name === trigger.name)) meta.triggers.push({ ...trigger });
  }
}

/** What a search text may not contain for the index to find every run its condition finds. */
interface TrigramFolding {
  /** Lower-case characters (JavaScript's) that FTS5 does not fold the upper-case ones into. */
  unsafe: ReadonlySet<string>;
  /** Characters a lower-case expansion starts with (`i` of `İ` → `i̇`): not at the end of a search text. */
  unsafeLast: ReadonlySet<string>;
}

/** Opens the scratch database `learnTrigramFolding` asks: set on SQLite (`useTrigramFolding`). */
let openProbe: (() => ProbeDatabase) | undefined;
let folding: TrigramFolding | undefined;

/** The part of a better-sqlite3 connection `learnTrigramFolding` uses. */
interface ProbeDatabase {
  exec(sql: string): unknown;
  prepare(sql: string): { run(...values: unknown[]): unknown; all(...values: unknown[]): unknown[] };
  close(): unknown;
}

/**
 * Lets `trigramPhrase` use the index (on SQLite, orm.ts): `open` opens a scratch in-memory database of the
 * same SQLite library, asked by `learnTrigramFolding` when a search first needs it — not at start-up, so
 * processes that never search (the rerun workers, the command-line tools) do not pay for it.
 */
export function useTrigramFolding(open: () => ProbeDatabase): void {
  openProbe ??= open;
}

/**
 * Learns, in the scratch database, how its trigram tokenizer folds each character JavaScript lower-cases:
 * for every such character C, whether the text `qq` C `zz` matches the phrase `qq` lower(C) `zz`. About
 * 1,400 characters, once per process (~0.1 s).
 */
function learnTrigramFolding(open: () => ProbeDatabase): TrigramFolding {
  const database = open();
  try {
    database.exec("create virtual table probe using fts5(x, tokenize='trigram')");
    const insert = database.prepare('insert into probe (rowid, x) values (?, ?)');
    const match = database.prepare('select rowid from probe where probe match ?');
    const unsafe = new Set<string>();
    const unsafeLast = new Set<string>();
    const single: [number, string][] = [];
    // Every character with a lower case is below U+20000 (the planes above hold no cased scripts).
    for (let code = 0; code < 0x20000; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const character = String.fromCodePoint(code);
      const lower = character.toLowerCase();
      if (lower === character) continue;
      const [first, ...rest] = [...lower];
      if (rest.length > 0 || first === undefined) {
        // A run's C reads as several characters: a text must not hold the later ones nor end with the first.
        for (const later of rest) unsafe.add(later);
        if (first !== undefined) unsafeLast.add(first);
        continue;
      }
      insert.run(code, `qq${character}zz`);
      single.push([code, first]);
    }
    for (const [code, lower] of single) {
      const rows = match.all(`"qq${lower.replaceAll('"', '""')}zz"`) as { rowid: number }[];
      if (!rows.some((row) => Number(row.rowid) === code)) unsafe.add(lower);
    }
    return { unsafe, unsafeLast };
  } finally {
    database.close();
  }
}

/**
 * The FTS5 phrase that finds every run whose text contains `text` ignoring case as lower() folds it
 * (`text` is folded here), or undefined where the index cannot promise that: fewer than three characters
 * (no trigram), a character FTS5 folds differently, or without `useTrigramFolding` (not SQLite).
 */
export function trigramPhrase(text: string): string | undefined {
  if (openProbe === undefined) return undefined;
  const folded = text.toLowerCase();
  const characters = [...folded];
  if (characters.length < 3 || characters.includes('\u0000')) return undefined;
  folding ??= learnTrigramFolding(openProbe);
  const { unsafe, unsafeLast } = folding;
  if (characters.some((character) => unsafe.has(character))) return undefined;
  if (unsafeLast.has(characters.at(-1) ?? '')) return undefined;
  return `"${folded.replaceAll('"', '""')}"`;
}

/** The columns of the index. */
export type RunTextColumn = 'entity_id' | 'entity_name' | 'meta';

/**
 * `r.id in (…)`: the runs whose text in one of `columns` contains the phrase as the index folds case. Only
 * with a phrase from `trigramPhrase`, and beside the exact condition.
 */
export function runTextMatch(phrase: string, columns: readonly RunTextColumn[]): SqlFragment {
  return {
    sql: `r.id in (select rowid from ${RUN_TEXT_TABLE} where ${RUN_TEXT_TABLE} match ?)`,
    params: [`{${columns.join(' ')}} : ${phrase}`],
  };
}
