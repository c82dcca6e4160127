// mssql migration of the change `run_text_merges`, written by hand: it changes nothing on this database,
// which has no FTS5 index (see migrations/sqlite/Migration20261127080000_run_text_merges.ts and
// src/db/sqlite-run-text.ts). It exists so that every dialect has the same migrations.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261127080000_run_text_merges extends Migration {

  override name = 'Migration20261127080000_run_text_merges';

  override up(): void | Promise<void> {}

  override down(): void | Promise<void> {}

}
