// sqlite migration written by hand: the trigram index merges its segments in fewer, larger steps
// (`automerge` 0, see RUN_TEXT_MERGE_SQL in src/db/sqlite-run-text.ts). No entity changes; the same change
// exists for the other dialects under the same name, where it changes nothing.
import { Migration } from '@mikro-orm/migrations';
import { RUN_TEXT_MERGE_SQL, RUN_TEXT_TABLE } from '../../src/db/sqlite-run-text.ts';

export class Migration20261127080000_run_text_merges extends Migration {

  override name = 'Migration20261127080000_run_text_merges';

  override up(): void | Promise<void> {
    this.addSql(RUN_TEXT_MERGE_SQL);
  }

  override down(): void | Promise<void> {
    // FTS5's default.
    this.addSql(`insert into ${RUN_TEXT_TABLE} (${RUN_TEXT_TABLE}, rank) values ('automerge', 4)`);
  }

}
