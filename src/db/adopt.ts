/**
 * Taking over a database the original Python service created (`make adopt`): its six tables, filled,
 * no migration table (reference/original-schema.md).
 *
 * The conversion keeps every row and runs in three resumable steps, each one transaction:
 * 1. the original's tables are renamed aside to `<table>_pre_adoption` (with whatever names of theirs
 *    would collide with ours) and a marker table `pd_adoption` records that an adoption is under way;
 * 2. our migrations create our schema — Unicode text types, UTC times, our columns, indexes, keys and
 *    tables — and are recorded as applied, as on any database of ours;
 * 3. every row is copied into it, ids kept, values converted where the types differ (legacy TEXT/VARCHAR
 *    to Unicode, naive UTC times to UTC, JSON text to JSON), the original's soft deletes brought to our
 *    rules (a deleted process hides its runs; see CASCADE_ORIGINAL_DELETES); the marker records the copy.
 * A step that fails rolls back alone; running `make adopt ARGS=--apply` again continues with it. The
 * `_pre_adoption` tables are kept untouched until an administrator drops them. While an adoption is
 * unfinished the server refuses to start.
 */
import type { Platform } from '@mikro-orm/core';
import type { Dialect } from './database-url.ts';
import { reindexAllRunFieldsSql } from './meta-fields.ts';
import { MIGRATIONS_TABLE } from './orm-config.ts';
import { recountRunsSql } from './run-counts.ts';
import { OPTIMIZE_RUN_TEXT_SQL } from './sqlite-run-text.ts';

/** Tables the original service created, in the order rows are copied (parents first). */
export const ORIGINAL_SERVICE_TABLES = [
  'process',
  'process_step',
  'process_run',
  'process_step_run',
  'api_key',
  'audit_log',
] as const;
type OriginalTable = (typeof ORIGINAL_SERVICE_TABLES)[number];

export const PRE_ADOPTION_SUFFIX = '_pre_adoption';
export const ADOPTION_MARKER = 'pd_adoption';

/** The columns the original's tables have (names; types are read from the database). */
export const ORIGINAL_COLUMNS: Readonly<Record<OriginalTable, readonly string[]>> = {
  process: ['id', 'name', 'meta', 'retention_months', 'deleted_at', 'created_at', 'updated_at'],
  process_step: [
    'id',
    'process_id',
    'index',
    'name',
    'is_rerunnable',
    'rerun_config',
    'deleted_at',
    'created_at',
    'updated_at',
  ],
  process_run: [
    'id',
    'process_id',
    'entity_id',
    'entity_name',
    'status',
    'started_at',
    'finished_at',
    'meta',
    'is_neutralized',
    'scheduled_deletion_at',
    'deleted_at',
    'created_at',
    'updated_at',
  ],
  process_step_run: [
    'id',
    'run_id',
    'step_id',
    'step_index',
    'status',
    'started_at',
    'finished_at',
    'failure',
    'last_modified_by',
    'can_rerun',
    'rerun_config',
    'rerun_count',
    'max_reruns',
    'deleted_at',
    'created_at',
    'updated_at',
  ],
  api_key: [
    'id',
    'name',
    'description',
    'is_active',
    'expires_at',
    'role',
    'key_hash',
    'key_prefix',
    'last_used_at',
    'usage_count',
    'created_at',
    'updated_at',
  ],
  audit_log: [
    'id',
    'user_email',
    'action',
    'method',
    'path',
    'query_params',
    'api_key_id',
    'api_key_name',
    'status_code',
    'duration_ms',
    'ip_address',
    'user_agent',
    'error_message',
    'created_at',
  ],
};

/** What a database holds, as far as adoption is concerned. */
export type DatabaseKind =
  | 'original' // the original's six tables and no migration table: adoption can start
  | 'adopting' // an adoption started and its copy is not done: `make adopt ARGS=--apply` continues it
  | 'ours' // our migration table (after an adoption, or created by us): nothing to adopt
  | 'empty' // no tables: nothing to adopt (the server creates its schema)
  | 'unknown'; // anything else: refused

function classify(tables: ReadonlySet<string>, adoptionCopied: boolean | undefined): DatabaseKind {
  if (tables.has(ADOPTION_MARKER)) return adoptionCopied === true ? 'ours' : 'adopting';
  if (tables.has(MIGRATIONS_TABLE)) return 'ours';
  if (ORIGINAL_SERVICE_TABLES.every((name) => tables.has(name))) return 'original';
  return tables.size === 0 ? 'empty' : 'unknown';
}

/** An identifier quoted for `dialect`. */
export function quoteName(dialect: Dialect, name: string): string {
  return dialect === 'mssql' ? `[${name}]` : `"${name}"`;
}

/**
 * The copy of one table: `insert into <ours> (columns) select <converted columns> from <pre-adoption>`.
 * Conversions, each the value itself in our type (no row's data is changed):
 * - times: the original's naive UTC datetimes → our UTC times (SQLite: the same text, which is how we
 *   store them too; PostgreSQL: timestamptz read as UTC; SQL Server: DATETIME → datetime2);
 * - JSON text → our JSON text column, unchanged (SQL Server: TEXT → nvarchar(max)), and an absent
 *   (NULL) object → `{}`, which our API has always shown for it;
 * - a step run's NULL step_index → its step's index (the original's own rule for a missing one).
 */
export function copySql(dialect: Dialect, table: OriginalTable): string {
  const q = (name: string) => quoteName(dialect, name);
  const time = (column: string) =>
    dialect === 'sqlite'
      ? q(column)
      : dialect === 'postgresql'
        ? `(${q(column)} at time zone 'UTC')`
        : `cast(${q(column)} as datetime2)`;
  const text = (column: string) =>
    dialect === 'mssql' ? `cast(${q(column)} as nvarchar(max))` : `cast(${q(column)} as text)`;
  const json = (column: string, absent: string | null) =>
    absent === null ? text(column) : `coalesce(${text(column)}, '${absent}')`;
  const plain = (column: string) => q(column);
  const columns: Record<OriginalTable, [string, string][]> = {
    process: [
      ['id', plain('id')],
      ['name', plain('name')],
      ['meta', json('meta', '{}')],
      ['retention_months', plain('retention_months')],
      ['created_at', time('created_at')],
      ['updated_at', time('updated_at')],
      ['deleted_at', time('deleted_at')],
    ],
    process_step: [
      ['id', plain('id')],
      ['process_id', plain('process_id')],
      ['index', plain('index')],
      ['name', plain('name')],
      ['is_rerunnable', plain('is_rerunnable')],
      ['rerun_config', json('rerun_config', '{}')],
      ['created_at', time('created_at')],
      ['updated_at', time('updated_at')],
      ['deleted_at', time('deleted_at')],
    ],
    process_run: [
      ['id', plain('id')],
      ['process_id', plain('process_id')],
      ['entity_id', plain('entity_id')],
      ['entity_name', plain('entity_name')],
      ['status', plain('status')],
      ['meta', json('meta', '{}')],
      ['started_at', time('started_at')],
      ['finished_at', time('finished_at')],
      ['is_neutralized', plain('is_neutralized')],
      ['scheduled_deletion_at', time('scheduled_deletion_at')],
      ['created_at', time('created_at')],
      ['updated_at', time('updated_at')],
      ['deleted_at', time('deleted_at')],
    ],
    process_step_run: [
      ['id', plain('id')],
      ['run_id', plain('run_id')],
      ['step_id', plain('step_id')],
      [
        'step_index',
        `coalesce(${q('step_index')}, (select s.${q('index')} from ${q(`process_step${PRE_ADOPTION_SUFFIX}`)} s where s.${q('id')} = ${q('step_id')}))`,
      ],
      ['status', plain('status')],
      ['started_at', time('started_at')],
      ['finished_at', time('finished_at')],
      ['failure', json('failure', null)],
      ['last_modified_by', plain('last_modified_by')],
      ['can_rerun', plain('can_rerun')],
      ['rerun_config', json('rerun_config', '{}')],
      ['rerun_count', plain('rerun_count')],
      ['max_reruns', plain('max_reruns')],
      ['created_at', time('created_at')],
      ['updated_at', time('updated_at')],
      ['deleted_at', time('deleted_at')],
    ],
    api_key: [
      ['id', plain('id')],
      ['name', plain('name')],
      ['description', plain('description')],
      ['role', plain('role')],
      ['key_prefix', plain('key_prefix')],
      ['key_hash', plain('key_hash')],
      ['is_active', plain('is_active')],
      ['expires_at', time('expires_at')],
      ['usage_count', plain('usage_count')],
      ['last_used_at', time('last_used_at')],
      ['created_at', time('created_at')],
      ['updated_at', time('updated_at')],
    ],
    audit_log: [
      ['id', plain('id')],
      ['created_at', time('created_at')],
      ['api_key_id', plain('api_key_id')],
      ['api_key_name', plain('api_key_name')],
      ['user_email', plain('user_email')],
      ['action', plain('action')],
      ['method', plain('method')],
      ['path', plain('path')],
      ['query_params', json('query_params', null)],
      ['status_code', `coalesce(${q('status_code')}, 0)`],
      ['duration_ms', `coalesce(${q('duration_ms')}, 0)`],
      ['ip_address', plain('ip_address')],
      ['user_agent', plain('user_agent')],
      ['error_message', plain('error_message')],
    ],
  };
  const pairs = columns[table];
  return (
    `insert into ${q(table)} (${pairs.map(([name]) => q(name)).join(', ')}) ` +
    `select ${pairs.map(([, expression]) => expression).join(', ')} from ${q(table + PRE_ADOPTION_SUFFIX)}`
  );
}

/** What `make adopt` needs of the ORM: run SQL, in a transaction or not. */
export interface AdoptionConnection {
  dialect: Dialect;
  platform: Platform;
  execute<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  transactional<T>(work: (execute: AdoptionConnection['execute']) => Promise<T>): Promise<T>;
}

/** The names (lower case) of the tables in the connection's database, its current schema. */
export async function tableNamesOf(
  connection: Pick<AdoptionConnection, 'dialect' | 'execute'>,
): Promise<Set<string>> {
  const sql = {
    sqlite: "select name from sqlite_master where type = 'table' and name not like 'sqlite_%'",
    postgresql:
      'select table_name as name from information_schema.tables where table_schema = current_schema()',
    mssql: 'select table_name as name from information_schema.tables where table_schema = schema_name()',
  }[connection.dialect];
  const rows = await connection.execute<{ name: string }>(sql);
  return new Set(rows.map((row) => row.name.toLowerCase()));
}

/** The database's kind (see DatabaseKind), read from its tables (when not given) and the adoption marker. */
export async function databaseKind(
  connection: Pick<AdoptionConnection, 'dialect' | 'execute'>,
  tables?: ReadonlySet<string>,
): Promise<DatabaseKind> {
  tables ??= await tableNamesOf(connection);
  let copied: boolean | undefined;
  if (tables.has(ADOPTION_MARKER)) {
    const [marker] = await connection.execute<{ copied_at: string | null }>(
      `select copied_at from ${quoteName(connection.dialect, ADOPTION_MARKER)}`,
    );
    copied = marker !== undefined && marker.copied_at !== null;
  }
  return classify(tables, copied);
}

interface ColumnFact {
  name: string;
  type: string;
  nullable: boolean;
}

/** The columns of `table` as the database reports them (INFORMATION_SCHEMA; SQLite: pragma table_info). */
export async function columnsOf(
  connection: Pick<AdoptionConnection, 'dialect' | 'execute'>,
  table: string,
): Promise<ColumnFact[]> {
  if (connection.dialect === 'sqlite') {
    const rows = await connection.execute<{ name: string; type: string; notnull: number }>(
      `select name, type, "notnull" from pragma_table_info(?)`,
      [table],
    );
    return rows.map((row) => ({ name: row.name, type: row.type.toLowerCase(), nullable: row.notnull === 0 }));
  }
  const schema = connection.dialect === 'postgresql' ? 'current_schema()' : 'schema_name()';
  const rows = await connection.execute<{
    name: string;
    data_type: string;
    length: number | null;
    is_nullable: string;
  }>(
    'select column_name as name, data_type, character_maximum_length as length, is_nullable ' +
      `from information_schema.columns where table_schema = ${schema} and table_name = ? order by ordinal_position`,
    [table],
  );
  return rows.map((row) => ({
    name: row.name,
    type: row.length === null ? row.data_type : `${row.data_type}(${row.length === -1 ? 'max' : row.length})`,
    nullable: row.is_nullable === 'YES',
  }));
}

/** Text types that cannot hold every character (SQL Server's legacy non-Unicode types). */
function isNonUnicode(dialect: Dialect, type: string): boolean {
  return dialect === 'mssql' && /^(varchar|char|text)\b/.test(type);
}

export class AdoptionRefused extends Error {}

const rowCount = (rows: number) => `${rows} ${rows === 1 ? 'row' : 'rows'}`;

/** What `adoptionPlan` found (a database adoption can work on) and the lines to print. */
export interface AdoptionPlan {
  kind: 'original' | 'adopting' | 'ours';
  lines: string[];
}

/**
 * The plan of an adoption, as lines to print: what was found (tables, rows, column types, legacy types)
 * and what `--apply` does. AdoptionRefused when the database is not the original's or misses a column.
 */
export async function adoptionPlan(connection: AdoptionConnection): Promise<AdoptionPlan> {
  const kind = await databaseKind(connection);
  if (kind === 'ours') {
    return {
      kind,
      lines: ['This database is already ours (adopted, or created by this service): nothing to do.'],
    };
  }
  if (kind === 'empty') {
    throw new AdoptionRefused(
      'The database is empty: there is nothing to adopt. Start the service on it instead.',
    );
  }
  if (kind === 'unknown') {
    throw new AdoptionRefused(
      "The database holds tables, but not the original service's six tables " +
        `(${ORIGINAL_SERVICE_TABLES.join(', ')}) nor ours: it is not adopted, nothing was changed.`,
    );
  }
  const lines: string[] = [];
  const source = (table: string) => (kind === 'adopting' ? table + PRE_ADOPTION_SUFFIX : table);
  if (kind === 'adopting')
    lines.push('An adoption was started and its copy is not done; --apply continues it.');
  lines.push(`Found the original service's tables (${connection.dialect}):`);
  for (const table of ORIGINAL_SERVICE_TABLES) {
    const columns = await columnsOf(connection, source(table));
    const missing = ORIGINAL_COLUMNS[table].filter((name) => !columns.some((column) => column.name === name));
    if (missing.length > 0) {
      throw new AdoptionRefused(
        `${source(table)} lacks column(s) ${missing.join(', ')} of the original's schema: not adopted, nothing was changed.`,
      );
    }
    const [count] = await connection.execute<{ rows: number | string }>(
      `select count(*) as ${quoteName(connection.dialect, 'rows')} from ${quoteName(connection.dialect, source(table))}`,
    );
    const legacy = columns.filter((column) => isNonUnicode(connection.dialect, column.type));
    lines.push(
      `  ${table}: ${rowCount(Number(count?.rows ?? 0))}; ` +
        columns.map((column) => `${column.name} ${column.type}${column.nullable ? ' null' : ''}`).join(', '),
    );
    if (legacy.length > 0) {
      lines.push(`    non-Unicode, becomes Unicode: ${legacy.map((column) => column.name).join(', ')}`);
    }
  }
  lines.push(
    'With --apply, in three steps, each one transaction (a failed step rolls back alone; run it again to continue):',
    `  1. rename the six tables to <table>${PRE_ADOPTION_SUFFIX} and record the adoption in ${ADOPTION_MARKER};`,
    "  2. apply this service's migrations: our tables, Unicode text, UTC times, indexes, keys, new columns;",
    '  3. copy every row, ids kept: times as UTC, JSON text as JSON, a missing meta/rerun_config as {}, a missing',
    '     step_index from its step, a missing audit status code or duration as 0; legacy SHA-256 keys as they are.',
    `The ${PRE_ADOPTION_SUFFIX} tables stay untouched: drop them yourself once the service runs as it should.`,
  );
  return { kind, lines };
}

/** Step 1: the original's tables renamed aside, with the names of theirs that would collide with ours. */
async function renameAside(
  dialect: Dialect,
  execute: AdoptionConnection['execute'],
  now: string,
): Promise<void> {
  const q = (name: string) => quoteName(dialect, name);
  await execute(
    `create table ${q(ADOPTION_MARKER)} (${q('id')} int not null primary key, ${q('started_at')} varchar(40) not null, ${q('copied_at')} varchar(40) null)`,
  );
  await execute(`insert into ${q(ADOPTION_MARKER)} (${q('id')}, ${q('started_at')}) values (1, ?)`, [now]);
  for (const table of ORIGINAL_SERVICE_TABLES) {
    const aside = table + PRE_ADOPTION_SUFFIX;
    if (dialect === 'mssql') await execute(`exec sp_rename N'${table}', N'${aside}', N'OBJECT'`);
    else await execute(`alter table ${q(table)} rename to ${q(aside)}`);
    if (dialect === 'postgresql') {
      // PostgreSQL names a serial's sequence and a primary key after the table; ours take those names.
      const pkeys = await execute(`select 1 from pg_constraint where conname = ?`, [`${table}_pkey`]);
      if (pkeys.length > 0)
        await execute(
          `alter table ${q(aside)} rename constraint ${q(`${table}_pkey`)} to ${q(`${aside}_pkey`)}`,
        );
      await execute(`alter sequence if exists ${q(`${table}_id_seq`)} rename to ${q(`${aside}_id_seq`)}`);
    }
  }
  if (dialect === 'mssql') {
    // Babelfish names an unnamed primary key `<table>_pkey` (SQL Server: PK__…), which ours take, and
    // cannot rename a constraint: such keys of the set-aside tables are dropped, after the foreign keys
    // that point at them. Their rows are not touched.
    const asides = ORIGINAL_SERVICE_TABLES.map((table) => `'${table}${PRE_ADOPTION_SUFFIX}'`).join(', ');
    const colliding = await execute<{ table_name: string; constraint_name: string }>(
      'select table_name, constraint_name from information_schema.table_constraints ' +
        `where constraint_type = 'PRIMARY KEY' and table_name in (${asides})`,
    );
    const toDrop = colliding.filter(
      (row) =>
        row.constraint_name.toLowerCase() ===
        row.table_name.toLowerCase().replace(PRE_ADOPTION_SUFFIX, '') + '_pkey',
    );
    if (toDrop.length > 0) {
      const foreignKeys = await execute<{ table_name: string; constraint_name: string }>(
        'select table_name, constraint_name from information_schema.table_constraints ' +
          `where constraint_type = 'FOREIGN KEY' and table_name in (${asides})`,
      );
      for (const row of foreignKeys)
        await execute(`alter table ${q(row.table_name)} drop constraint ${q(row.constraint_name)}`);
      for (const row of toDrop)
        await execute(`alter table ${q(row.table_name)} drop constraint ${q(row.constraint_name)}`);
    }
  }
}

/** Step 3: every row copied into our tables (ids kept), id counters moved past them, deletes cascaded. */
async function copyRows(
  { dialect, platform }: Pick<AdoptionConnection, 'dialect' | 'platform'>,
  execute: AdoptionConnection['execute'],
  now: string,
): Promise<void> {
  const q = (name: string) => quoteName(dialect, name);
  for (const table of ORIGINAL_SERVICE_TABLES) {
    if (dialect === 'mssql') {
      await execute(
        `set identity_insert ${q(table)} on; ${copySql(dialect, table)}; set identity_insert ${q(table)} off;`,
      );
    } else {
      await execute(copySql(dialect, table));
    }
    if (dialect === 'postgresql') {
      await execute(
        `select setval(pg_get_serial_sequence('${table}', 'id'), coalesce((select max(id) from ${q(table)}), 1), ` +
          `(select max(id) from ${q(table)}) is not null)`,
      );
    }
  }
  for (const statement of CASCADE_ORIGINAL_DELETES) await execute(statement);
  // The run counts of every copied process (run-counts.ts).
  for (const { sql, params } of recountRunsSql(dialect)) await execute(sql, params);
  // The indexed meta values of every copied run (run-fields.ts).
  const read = (sql: string) => execute<{ id: number; meta: unknown }>(sql);
  for (const { sql, params } of await reindexAllRunFieldsSql(read, platform, dialect))
    await execute(sql, params);
  // SQLite: the trigram index, which the copy of the runs filled in bulk, merged into one segment.
  if (dialect === 'sqlite') await execute(OPTIMIZE_RUN_TEXT_SQL);
  await execute(`update ${q(ADOPTION_MARKER)} set ${q('copied_at')} = ? where ${q('id')} = 1`, [now]);
}

/**
 * The original service's soft deletes, brought to this service's rules (REQUIREMENTS §4): its process
 * delete marked the process and its steps only, leaving the runs visible; here a deleted process hides its
 * runs and their step runs too, and a restore brings back exactly what one delete hid, by deletion token.
 * So, in the copy:
 * - a deleted process gets a token, which its steps (deleted with it: the original had no step delete)
 *   and its live runs share; those runs take the process's deletion time;
 * - a run the original deleted on its own keeps its time and gets its own token;
 * - step runs of a deleted run share the run's token (the original's run delete covered its step runs);
 *   any other deleted row gets a token of its own.
 * Plain SQL valid on all three dialects (CONCAT and correlated subqueries); all within the copy's
 * transaction.
 */
const CASCADE_ORIGINAL_DELETES: readonly string[] = [
  "update process set deletion_token = concat('adopted-process-', id) where deleted_at is not null and deletion_token is null",
  'update process_step set deleted_at = coalesce(deleted_at, (select p.deleted_at from process p where p.id = process_step.process_id)), ' +
    'deletion_token = (select p.deletion_token from process p where p.id = process_step.process_id) ' +
    'where deletion_token is null and exists (select 1 from process p where p.id = process_step.process_id and p.deleted_at is not null)',
  "update process_step set deletion_token = concat('adopted-step-', id) where deleted_at is not null and deletion_token is null",
  "update process_run set deletion_token = concat('adopted-run-', id) where deleted_at is not null and deletion_token is null",
  'update process_run set deleted_at = (select p.deleted_at from process p where p.id = process_run.process_id), ' +
    'deletion_token = (select p.deletion_token from process p where p.id = process_run.process_id) ' +
    'where deleted_at is null and exists (select 1 from process p where p.id = process_run.process_id and p.deleted_at is not null)',
  'update process_step_run set deleted_at = coalesce(deleted_at, (select r.deleted_at from process_run r where r.id = process_step_run.run_id)), ' +
    'deletion_token = (select r.deletion_token from process_run r where r.id = process_step_run.run_id) ' +
    'where deletion_token is null and exists (select 1 from process_run r where r.id = process_step_run.run_id and r.deleted_at is not null)',
  "update process_step_run set deletion_token = concat('adopted-step-run-', id) where deleted_at is not null and deletion_token is null",
];

/**
 * Adopts the database (see the top of this file) that `plan` (adoptionPlan, which refuses a database
 * that is not the original's) describes: runs the steps not done yet. `migrate` applies our migrations
 * (step 2). Reports each step to `log`.
 */
export async function applyAdoption(
  connection: AdoptionConnection,
  { kind }: AdoptionPlan,
  migrate: () => Promise<void>,
  log: (line: string) => void,
): Promise<void> {
  if (kind === 'ours') {
    log('Nothing to do: the database is already ours.');
    return;
  }
  if (kind === 'original') {
    await connection.transactional((execute) =>
      renameAside(connection.dialect, execute, new Date().toISOString()),
    );
    log(`Step 1 of 3 done: the original's tables are now <table>${PRE_ADOPTION_SUFFIX}.`);
  }
  await migrate();
  log("Step 2 of 3 done: this service's schema is in place, its migrations recorded as applied.");
  await connection.transactional((execute) => copyRows(connection, execute, new Date().toISOString()));
  log('Step 3 of 3 done: every row is copied. The database is adopted.');
}
