// sqlite migration written by hand: the trigram index merged into one segment (FTS5 `optimize`, see
// OPTIMIZE_RUN_TEXT_SQL in src/db/sqlite-run-text.ts). The migrations that filled it in bulk left large
// segments at FTS5's lowest level, which the first new runs' commits then merged all at once, holding the
// event loop for seconds. No entity changes; the same change exists for the other dialects under the same
// name, where it changes nothing.
import { Migration } from '@mikro-orm/migrations';
import { OPTIMIZE_RUN_TEXT_SQL } from '../../src/db/sqlite-run-text.ts';

export class Migration20261127180000_run_text_optimize extends Migration {

  override name = 'Migration20261127180000_run_text_optimize';

  override up(): void | Promise<void> {
    this.addSql(OPTIMIZE_RUN_TEXT_SQL);
  }

  // Nothing to undo: the index holds the same rows in fewer segments.
  override down(): void | Promise<void> {}

}
