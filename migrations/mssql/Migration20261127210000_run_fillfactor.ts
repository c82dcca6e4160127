// mssql migration of the change `run_fillfactor`, written by hand: it changes nothing on this database.
// On PostgreSQL process_run's pages are left 10 % free, so that a report's update of its run stays on the
// run's page without writing the table's indexes (migrations/postgresql/Migration20261127210000_run_fillfactor.ts).
// SQL Server updates a row in place; its fill factor is a setting of indexes, for page splits.
// It exists so that every dialect has the same migrations.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261127210000_run_fillfactor extends Migration {

  override name = 'Migration20261127210000_run_fillfactor';

  override up(): void | Promise<void> {}

  override down(): void | Promise<void> {}

}
