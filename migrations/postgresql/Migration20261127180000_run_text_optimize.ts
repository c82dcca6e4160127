// postgresql migration of the change `run_text_optimize`, written by hand: it changes nothing on this database,
// which has no FTS5 index (see migrations/sqlite/Migration20261127180000_run_text_optimize.ts and
// src/db/sqlite-run-text.ts). It exists so that every dialect has the same migrations.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261127180000_run_text_optimize extends Migration {

  override name = 'Migration20261127180000_run_text_optimize';

  override up(): void | Promise<void> {}

  override down(): void | Promise<void> {}

}
