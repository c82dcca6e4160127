// sqlite migration of the change `trigram_search`, written by hand: it changes nothing on SQLite,
// which has no trigram index (see migrations/postgresql/Migration20261126153904_trigram_search.ts and
// src/db/postgres-trigram-indexes.ts). It exists so that every dialect has the same migrations.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261126153904_trigram_search extends Migration {

  override name = 'Migration20261126153904_trigram_search';

  override up(): void | Promise<void> {}

  override down(): void | Promise<void> {}

}
