// mssql migration of the change `run_text`, written by hand: it changes nothing on SQL Server, which has no trigram index
// (see migrations/sqlite/Migration20261127043109_run_text.ts and src/db/sqlite-run-text.ts). It exists so
// that every dialect has the same migrations.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261127043109_run_text extends Migration {

  override name = 'Migration20261127043109_run_text';

  override up(): void | Promise<void> {}

  override down(): void | Promise<void> {}

}
