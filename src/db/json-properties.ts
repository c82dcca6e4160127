/**
 * JSON properties (declared with the portable `p.json()`) and how each dialect stores them.
 *
 * The original service stored JSON as text (`json.dumps`), and readers of its tables see that text. SQL
 * Server (nvarchar(max), see mssql-unicode-json.ts) and SQLite (text) store JSON as text by nature;
 * PostgreSQL would use jsonb, which rewrites the document (keys reordered, duplicates dropped, spacing
 * normalised) and has no `LIKE`. `storeJsonAsTextOnPostgres` keeps JSON as the text written, and JSON
 * functions read it with a `::jsonb` cast (run-queries.ts).
 */
import { JsonType, type EntityMetadata, type EntityProperty } from '@mikro-orm/core';

/** Whether `prop` is a JSON property (`p.json()` declares `type: JsonType`; a string 'json' is accepted too). */
export function isJsonProperty(prop: EntityProperty): boolean {
  const declared: unknown = prop.type;
  return (
    declared === JsonType ||
    (typeof declared === 'string' && ['json', 'jsonb'].includes(declared.toLowerCase())) ||
    prop.customType?.constructor === JsonType
  );
}

/** `discovery.onMetadata` hook for PostgreSQL: JSON properties are `text` columns. */
export function storeJsonAsTextOnPostgres(meta: EntityMetadata): void {
  for (const prop of Object.values(meta.properties)) {
    if (isJsonProperty(prop)) prop.columnTypes = ['text'];
  }
}
