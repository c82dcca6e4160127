// mssql migration, written by hand: values stored as the original service stored them. On SQL Server
// there is nothing to change — JSON is already text (nvarchar(max)) and times are UTC datetime2 — so this
// migration is empty; it exists because every change has the same name on every dialect (SQLite converts
// its times to the original's UTC text, PostgreSQL its JSON columns from jsonb to text).
import { Migration } from '@mikro-orm/migrations';

export class Migration20261126090000_original_value_storage extends Migration {

  override name = 'Migration20261126090000_original_value_storage';

  override up(): void | Promise<void> {}

  override down(): void | Promise<void> {}

}
