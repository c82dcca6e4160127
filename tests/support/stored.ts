/**
 * Values as a test reads them straight from the tables (what reports and robots read with SQL), the same
 * on every dialect the suite runs on.
 */
import { testDialect } from './database.ts';

/** A JSON column as the driver returns it (text on every dialect), parsed. */
export function parsed(value: unknown): unknown {
  return typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
}

/** A stored boolean (SQLite: 1/0; PostgreSQL and SQL Server: true/false) as a boolean. */
export function storedBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return Number(value) !== 0;
  throw new Error(`not a stored boolean: ${String(value)}`);
}

/** A time column as `YYYY-MM-DD HH:MM:SS.fff` in UTC, read with the SQL of each dialect. */
export function utcTextSql(column: string): string {
  switch (testDialect()) {
    case 'sqlite':
      return `substr(${column}, 1, 23)`;
    case 'postgresql':
      return `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS')`;
    case 'mssql':
      // Style 121 alone: SQL Server writes `.270`, Babelfish `.27` (and no fraction for whole seconds).
      return (
        `convert(varchar(19), ${column}, 120) + '.' + ` +
        `right('00' + cast(datepart(millisecond, ${column}) as varchar(3)), 3)`
      );
  }
}
