// postgresql migration written by hand: process_run's pages are filled to 90 % (fillfactor), so the update a
// step-run report makes of its run (`updated_at`, the run's lock: run.service.ts lockRun) finds room on the
// run's own page and is a HOT update, which writes none of the table's twelve indexes, whenever the run's
// status and times stay. With full pages (the default, 100) such an update wrote a new entry into every index
// of the table, on pages all over them, each a full page image in the WAL after a checkpoint. The setting
// applies to the pages written from now on; `VACUUM FULL process_run` (it locks the table) rewrites the
// existing ones. MikroORM's entities cannot say this; the other dialects have the same migration, empty.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261127210000_run_fillfactor extends Migration {

  override name = 'Migration20261127210000_run_fillfactor';

  override up(): void | Promise<void> {
    this.addSql(`alter table "process_run" set (fillfactor = 90);`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "process_run" reset (fillfactor);`);
  }

}
