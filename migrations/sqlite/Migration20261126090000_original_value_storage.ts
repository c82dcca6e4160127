// sqlite migration, written by hand (a data change the schema diff cannot see): times are stored as the
// original service stored them on SQLite, UTC text `YYYY-MM-DD HH:MM:SS.ffffff`, instead of epoch
// milliseconds (src/db/sqlite-utc-text.ts writes them so from now on). Each value keeps its instant, to
// the millisecond. Under the same name PostgreSQL turns its JSON columns into text; SQL Server, whose
// times (datetime2, UTC) and JSON (nvarchar(max)) are already stored so, has nothing to do.
import { Migration } from '@mikro-orm/migrations';

const TIME_COLUMNS: Record<string, string[]> = {
  api_key: ['created_at', 'updated_at', 'expires_at', 'last_used_at'],
  audit_log: ['created_at'],
  process: ['created_at', 'updated_at', 'deleted_at'],
  process_step: ['created_at', 'updated_at', 'deleted_at'],
  process_run: [
    'created_at',
    'updated_at',
    'started_at',
    'finished_at',
    'neutralized_at',
    'scheduled_deletion_at',
    'deleted_at',
  ],
  process_step_run: ['created_at', 'updated_at', 'started_at', 'finished_at', 'deleted_at'],
};

export class Migration20261126090000_original_value_storage extends Migration {

  override name = 'Migration20261126090000_original_value_storage';

  override up(): void | Promise<void> {
    for (const [table, columns] of Object.entries(TIME_COLUMNS)) {
      for (const column of columns) {
        this.addSql(
          `update "${table}" set "${column}" = strftime('%Y-%m-%d %H:%M:%f', "${column}" / 1000.0, 'unixepoch') || '000' ` +
            `where typeof("${column}") in ('integer', 'real');`,
        );
      }
    }
  }

  override down(): void | Promise<void> {
    for (const [table, columns] of Object.entries(TIME_COLUMNS)) {
      for (const column of columns) {
        this.addSql(
          `update "${table}" set "${column}" = cast(round((julianday("${column}") - 2440587.5) * 86400000.0) as integer) ` +
            `where typeof("${column}") = 'text';`,
        );
      }
    }
  }

}
