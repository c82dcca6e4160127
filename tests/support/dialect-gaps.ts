/**
 * The one list of tests that cannot run on a database server the suite supports, each with its reason.
 *
 * Only Babelfish for PostgreSQL (T-SQL over TDS, used where no SQL Server is at hand) has gaps: the
 * tests below are skipped only when TEST_DATABASE_URL is an mssql:// URL AND the server answers
 * `@@VERSION` as Babelfish — never on SQLite, PostgreSQL or a real SQL Server. A test in this list calls
 * `await skipWhereUnsupported(ctx)` first; the skip shows its reason in the test report.
 *
 * Keys: `<test file> > <test name>` (names inside a describe as vitest reports them, without the suite).
 */
import type { TestContext } from 'vitest';
import { isBabelfish, testDialect, testServerUrl } from './database.ts';

/** Why MikroORM cannot read a live schema on Babelfish 4.3. */
const NO_SCHEMA_INSPECTION =
  "MikroORM's live-schema inspection (SchemaGenerator / DatabaseSchema.create) queries sys.parameters " +
  'and information_schema.referential_constraints, which Babelfish does not have';

export const BABELFISH_GAPS: Readonly<Record<string, string>> = {
  'tests/db/migrations.test.ts > leaves no difference between the migrated database and the entities':
    NO_SCHEMA_INSPECTION,
  'tests/db/migrations.test.ts > has a snapshot that describes exactly what the migrations created':
    NO_SCHEMA_INSPECTION,
};

/** Whether the suite runs on Babelfish (asked once per process). */
export async function onBabelfish(): Promise<boolean> {
  const url = testServerUrl();
  return url !== undefined && testDialect() === 'mssql' && isBabelfish(url);
}

/** Skips the running test when it is in the gap list of the server the suite runs on. */
export async function skipWhereUnsupported(ctx: TestContext): Promise<void> {
  const key = `${ctx.task.file.name} > ${ctx.task.name}`;
  const reason = BABELFISH_GAPS[key];
  if (reason !== undefined && (await onBabelfish())) ctx.skip(`not on Babelfish: ${reason}`);
}
