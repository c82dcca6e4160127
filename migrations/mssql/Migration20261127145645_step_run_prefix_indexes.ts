// mssql migration of the change `step_run_prefix_indexes`, written by hand: it changes nothing on this
// database. MikroORM gives a many-to-one its own index only on SQLite, so only SQLite had the two indexes that
// change drops (see migrations/sqlite/Migration20261127145645_step_run_prefix_indexes.ts). It exists so that
// every dialect has the same migrations.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261127145645_step_run_prefix_indexes extends Migration {

  override name = 'Migration20261127145645_step_run_prefix_indexes';

  override up(): void | Promise<void> {}

  override down(): void | Promise<void> {}

}
