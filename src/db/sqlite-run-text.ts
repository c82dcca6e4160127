/**
 * SQLite only: a trigram index (FTS5's `trigram` tokenizer) of every run's `entity_id` and `entity_name`,
 * for the "contains" searches no B-tree can serve — `entity_name` in `GET /runs` and the run columns of
 * `GET /runs/search` — as PostgreSQL has its `pg_trgm` indexes (postgres-trigram-indexes.ts). Without it
 * an exact `total` of such a search reads every live run and folds each name in JavaScript (the Unicode
 * lower() of orm.ts): 0.6–1 s at a million runs, with the event loop held.
 *
 * What it is: `process_run_text`, an FTS5 table over `process_run` (external content: it keeps only the
 * index, the text stays in `process_run`; rowid = the run's id), of every run, deleted or not. Three
 * triggers keep it exact in the transaction of every write: a new run, a changed entity_id or
 * entity_name (neutralisation among them), a deleted row (retention). Two are in the entity metadata on
 * SQLite (so migrations, snapshot and schema checks know them), the third is written by hand
 * (`RUN_TEXT_UPDATE_TRIGGER_SQL`); the FTS table and its shadow tables are outside MikroORM's schema
 * (`schemaGenerator.skipTables`), created by the migration that added them.
 *
 * How a search uses it: the index narrows the runs to those whose text contains the search text as FTS5
 * folds case (`r.id in (select rowid from process_run_text where … match '"text"')`), and the query's own
 * condition (`lower(…) like …`, JavaScript's folding) still decides. So the index must never leave out a
 * run the condition finds: FTS5 folds case with Unicode tables older than JavaScript's, and JavaScript
 * lower-cases `İ` to two characters. `learnTrigramFolding` asks this process's SQLite, once (at the
 * first search that could use the index), which lower-case characters it folds differently from
 * JavaScript; a search text containing one of them (or too short for trigrams) reads every run as before
 * (`trigramPhrase` answers undefined).
 */
import type { EntityMetadata, TriggerDef } from '@mikro-orm/core';
import type { SqlFragment } from './run-queries.ts';

/** The FTS5 table (and, with a suffix, its shadow tables). */
export const RUN_TEXT_TABLE = 'process_run_text';

/** The tables MikroORM's schema tools leave alone on SQLite: the FTS5 table and its shadow tables. */
export const RUN_TEXT_TABLES = new RegExp(`^${RUN_TEXT_TABLE}(_(data|idx|content|docsize|config))?$`);

/** The statements that create the index and fill it with the runs already there (the migration's). */
export const CREATE_RUN_TEXT_SQL = [
  `create virtual table ${RUN_TEXT_TABLE} using fts5(entity_id, entity_name, content='process_run', ` +
    `content_rowid='id', tokenize='trigram')`,
  `insert into ${RUN_TEXT_TABLE} (${RUN_TEXT_TABLE}) values ('rebuild')`,
];

const INSERT_NEW = `insert into ${RUN_TEXT_TABLE} (rowid, entity_id, entity_name) values (new.id, new.entity_id, new.entity_name);`;
const DELETE_OLD =
  `insert into ${RUN_TEXT_TABLE} (${RUN_TEXT_TABLE}, rowid, entity_id, entity_name) ` +
  "values ('delete', old.id, old.entity_id, old.entity_name);";

/**
 * The triggers of `process_run` that keep the index exact on a new and a deleted row (an external-content
 * FTS5 table must be told the old text of a row it forgets), in the entity metadata. Names without an
 * event suffix: MikroORM groups `<name>_<event>` triggers.
 */
export const RUN_TEXT_TRIGGERS: TriggerDef[] = [
  { name: 'process_run_text_ai', timing: 'after', events: ['insert'], body: INSERT_NEW },
  { name: 'process_run_text_ad', timing: 'after', events: ['delete'], body: DELETE_OLD },
];

/**
 * The trigger of a changed entity_id or entity_name. `update of` those columns, so an UPDATE that sets
 * neither (a report's lock, its status and times) does not involve the FTS5 table at all: a trigger on
 * every UPDATE, even with a WHEN that is false, had FTS5 read its tables before the UPDATE took the write
 * lock, and a worker process writing the same database then got SQLITE_BUSY at once instead of waiting
 * (tests/reruns/rerun-worker-processes.test.ts). MikroORM's metadata cannot say `update of` (and its
 * SQLite introspection skips such a trigger), so the migration creates it by hand; a rebuild of
 * `process_run` by a later migration must create it again — every test server checks the index
 * (tests/support/run-counts.ts `runTextDrift`).
 */
export const RUN_TEXT_UPDATE_TRIGGER_SQL =
  'create trigger process_run_text_au after update of entity_id, entity_name on process_run for each row ' +
  'when old.entity_id is not new.entity_id or old.entity_name is not new.entity_name ' +
  `begin ${DELETE_OLD} ${INSERT_NEW} end`;

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

/**
 * `r.id in (…)`: the runs whose `column` (both indexed columns without one) contains the phrase as the
 * index folds case. Only with a phrase from `trigramPhrase`, and beside the exact condition.
 */
export function runTextMatch(phrase: string, column?: 'entity_id' | 'entity_name'): SqlFragment {
  return {
    sql: `r.id in (select rowid from ${RUN_TEXT_TABLE} where ${column ?? RUN_TEXT_TABLE} match ?)`,
    params: [phrase],
  };
}
