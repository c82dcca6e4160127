// postgresql migration, written by hand (a data change the schema diff cannot see): statuses are stored as the
// original service stored them, as the upper-case names of its enum members (`FAILED`); the entities
// map them to the lower-case values of the API (src/db/types/enum-name.type.ts). The same change exists
// for the other dialects under the same name.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261126074500_status_enum_names extends Migration {

  override name = 'Migration20261126074500_status_enum_names';

  override up(): void | Promise<void> {
    this.addSql(`update process_runs set status = upper(status);`);
    this.addSql(`update process_step_runs set status = upper(status);`);
  }

  override down(): void | Promise<void> {
    this.addSql(`update process_runs set status = lower(status);`);
    this.addSql(`update process_step_runs set status = lower(status);`);
  }

}
