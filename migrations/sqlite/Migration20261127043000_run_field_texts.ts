// sqlite migration, written by hand (no schema change; the same change exists for the other dialects under the
// same name): process_run_field gets a row, with value null, for a declared field whose value is a JSON
// object or array, so a run without a row has no text and a sort by the field can read the index
// (src/db/run-field-order.ts). The rows are rebuilt for every process as the migration that created the
// table built them (src/db/run-fields.ts).
import { raw } from '@mikro-orm/core';
import { Migration } from '@mikro-orm/migrations';
import { reindexAllRunFieldsSql } from '../../src/db/meta-fields.ts';

export class Migration20261127043000_run_field_texts extends Migration {

  override name = 'Migration20261127043000_run_field_texts';

  override async up(): Promise<void> {
    const read = (sql: string) => this.execute(sql) as Promise<{ id: number; meta: unknown }[]>;
    for (const { sql, params } of await reindexAllRunFieldsSql(read, this.driver.getPlatform(), 'sqlite')) {
      this.addSql(raw(sql, params));
    }
  }

  override down(): void | Promise<void> {
    // The rows with value null for objects and arrays are harmless to the code before this migration:
    // its filters never match a null value, and its filter metadata reads those runs' JSON.
  }

}
