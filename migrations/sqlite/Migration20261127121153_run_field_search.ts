// sqlite migration of the change `run_field_search`, written by hand: the trigram index of the runs'
// texts (src/db/sqlite-run-text.ts) also indexes the values in each run's `meta`, so a search in a
// process narrows its declared fields as it narrows entity_id and entity_name. An FTS5 table cannot gain a
// column: the index and its triggers are made anew, the index keeping its text itself now, and filled with
// the runs already there. The triggers `process_run_text_ai`/`_ad` are the
// entity metadata's (the snapshot's), `_au` is RUN_TEXT_UPDATE_TRIGGER_SQL. The same change exists for the
// other dialects under the same name (PostgreSQL: a trigram index of process_run_field's values).
import { Migration } from '@mikro-orm/migrations';
import {
  CREATE_RUN_TEXT_SQL,
  RUN_TEXT_MERGE_SQL,
  RUN_TEXT_TABLE,
  RUN_TEXT_UPDATE_TRIGGER_SQL,
} from '../../src/db/sqlite-run-text.ts';
import { RUN_TEXT_FIRST_FORM_SQL } from './Migration20261127043109_run_text.ts';

const DROP_TRIGGERS = ['ai', 'ad', 'au'].map((event) => `drop trigger if exists \`process_run_text_${event}\`;`);

export class Migration20261127121153_run_field_search extends Migration {

  override name = 'Migration20261127121153_run_field_search';

  override up(): void | Promise<void> {
    for (const sql of DROP_TRIGGERS) this.addSql(sql);
    this.addSql(`drop table if exists ${RUN_TEXT_TABLE};`);
    for (const sql of CREATE_RUN_TEXT_SQL) this.addSql(sql);
    this.addSql(`create trigger \`process_run_text_ai\` AFTER INSERT on \`process_run\` for each ROW begin insert into process_run_text (rowid, entity_id, entity_name, meta) values (new.id, new.entity_id, new.entity_name, iif(json_valid(new.meta), (select group_concat(iif(j.type in ('true', 'false'), j.type, cast(j.value as text)), char(10)) from json_each(new.meta) j where j.type not in ('null', 'object', 'array')), null)); end;`);
    this.addSql(`create trigger \`process_run_text_ad\` AFTER DELETE on \`process_run\` for each ROW begin delete from process_run_text where rowid = old.id; end;`);
    this.addSql(RUN_TEXT_UPDATE_TRIGGER_SQL);
    // A new FTS5 table has FTS5's default automerge (see Migration20261127080000_run_text_merges.ts).
    this.addSql(RUN_TEXT_MERGE_SQL);
  }

  override down(): void | Promise<void> {
    for (const sql of DROP_TRIGGERS) this.addSql(sql);
    this.addSql(`drop table if exists ${RUN_TEXT_TABLE};`);
    for (const sql of RUN_TEXT_FIRST_FORM_SQL) this.addSql(sql);
    this.addSql(RUN_TEXT_MERGE_SQL);
  }

}
