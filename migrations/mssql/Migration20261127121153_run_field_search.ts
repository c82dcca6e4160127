// mssql migration of the change `run_field_search`, written by hand: it changes nothing on this database,
// which has no trigram index of `process_run_field` (see
// migrations/postgresql/Migration20261127121153_run_field_search.ts and src/db/postgres-trigram-indexes.ts).
// It exists so that every dialect has the same migrations.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261127121153_run_field_search extends Migration {

  override name = 'Migration20261127121153_run_field_search';

  override up(): void | Promise<void> {}

  override down(): void | Promise<void> {}

}
