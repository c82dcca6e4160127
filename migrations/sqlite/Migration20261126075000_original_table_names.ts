// sqlite migration, written by hand from the generated one (which would have dropped and re-created the
// tables): the tables take the original service's names (process, process_step, process_run,
// process_step_run, api_key, audit_log), keeping every row. ALTER TABLE … RENAME also rewrites the
// foreign keys of the other tables; SQLite cannot rename an index, so the indexes are dropped and created
// under their new names. The same change exists for the other dialects under the same name.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261126075000_original_table_names extends Migration {

  override name = 'Migration20261126075000_original_table_names';

  override up(): void | Promise<void> {
    this.addSql(`drop index \`api_keys_key_prefix_index\`;`);
    this.addSql(`drop index \`audit_logs_action_index\`;`);
    this.addSql(`drop index \`audit_logs_api_key_id_created_at_index\`;`);
    this.addSql(`drop index \`audit_logs_created_at_index\`;`);
    this.addSql(`drop index \`audit_logs_user_email_index\`;`);
    this.addSql(`drop index \`process_runs_created_at_index\`;`);
    this.addSql(`drop index \`process_runs_entity_id_index\`;`);
    this.addSql(`drop index \`process_runs_finished_at_index\`;`);
    this.addSql(`drop index \`process_runs_process_id_created_at_index\`;`);
    this.addSql(`drop index \`process_runs_process_id_index\`;`);
    this.addSql(`drop index \`process_runs_scheduled_deletion_at_is_neutralized_index\`;`);
    this.addSql(`drop index \`process_runs_started_at_index\`;`);
    this.addSql(`drop index \`process_runs_status_created_at_index\`;`);
    this.addSql(`drop index \`process_step_runs_rerun_of_id_index\`;`);
    this.addSql(`drop index \`process_step_runs_run_id_index\`;`);
    this.addSql(`drop index \`process_step_runs_run_id_step_index_index\`;`);
    this.addSql(`drop index \`process_step_runs_step_id_index\`;`);
    this.addSql(`drop index \`process_step_runs_step_id_status_index\`;`);
    this.addSql(`drop index \`process_steps_process_id_index\`;`);
    this.addSql(`drop index \`process_steps_process_id_index_live_unique\`;`);
    this.addSql(`alter table \`processes\` rename to \`process\`;`);
    this.addSql(`alter table \`process_steps\` rename to \`process_step\`;`);
    this.addSql(`alter table \`process_runs\` rename to \`process_run\`;`);
    this.addSql(`alter table \`process_step_runs\` rename to \`process_step_run\`;`);
    this.addSql(`alter table \`api_keys\` rename to \`api_key\`;`);
    this.addSql(`alter table \`audit_logs\` rename to \`audit_log\`;`);
    this.addSql(`create index \`api_key_key_prefix_index\` on \`api_key\` (\`key_prefix\`);`);
    this.addSql(`create index \`audit_log_action_index\` on \`audit_log\` (\`action\`);`);
    this.addSql(`create index \`audit_log_api_key_id_created_at_index\` on \`audit_log\` (\`api_key_id\`, \`created_at\`);`);
    this.addSql(`create index \`audit_log_created_at_index\` on \`audit_log\` (\`created_at\`);`);
    this.addSql(`create index \`audit_log_user_email_index\` on \`audit_log\` (\`user_email\`);`);
    this.addSql(`create index \`process_run_created_at_index\` on \`process_run\` (\`created_at\`);`);
    this.addSql(`create index \`process_run_entity_id_index\` on \`process_run\` (\`entity_id\`);`);
    this.addSql(`create index \`process_run_finished_at_index\` on \`process_run\` (\`finished_at\`);`);
    this.addSql(`create index \`process_run_process_id_created_at_index\` on \`process_run\` (\`process_id\`, \`created_at\`);`);
    this.addSql(`create index \`process_run_process_id_index\` on \`process_run\` (\`process_id\`);`);
    this.addSql(`create index \`process_run_scheduled_deletion_at_is_neutralized_index\` on \`process_run\` (\`scheduled_deletion_at\`, \`is_neutralized\`);`);
    this.addSql(`create index \`process_run_started_at_index\` on \`process_run\` (\`started_at\`);`);
    this.addSql(`create index \`process_run_status_created_at_index\` on \`process_run\` (\`status\`, \`created_at\`);`);
    this.addSql(`create index \`process_step_process_id_index\` on \`process_step\` (\`process_id\`);`);
    this.addSql(`create unique index \`process_step_process_id_index_live_unique\` on \`process_step\` (\`process_id\`, \`index\`) where \`deleted_at\` is null;`);
    this.addSql(`create index \`process_step_run_rerun_of_id_index\` on \`process_step_run\` (\`rerun_of_id\`);`);
    this.addSql(`create index \`process_step_run_run_id_index\` on \`process_step_run\` (\`run_id\`);`);
    this.addSql(`create index \`process_step_run_run_id_step_index_index\` on \`process_step_run\` (\`run_id\`, \`step_index\`);`);
    this.addSql(`create index \`process_step_run_step_id_index\` on \`process_step_run\` (\`step_id\`);`);
    this.addSql(`create index \`process_step_run_step_id_status_index\` on \`process_step_run\` (\`step_id\`, \`status\`);`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index \`api_key_key_prefix_index\`;`);
    this.addSql(`drop index \`audit_log_action_index\`;`);
    this.addSql(`drop index \`audit_log_api_key_id_created_at_index\`;`);
    this.addSql(`drop index \`audit_log_created_at_index\`;`);
    this.addSql(`drop index \`audit_log_user_email_index\`;`);
    this.addSql(`drop index \`process_run_created_at_index\`;`);
    this.addSql(`drop index \`process_run_entity_id_index\`;`);
    this.addSql(`drop index \`process_run_finished_at_index\`;`);
    this.addSql(`drop index \`process_run_process_id_created_at_index\`;`);
    this.addSql(`drop index \`process_run_process_id_index\`;`);
    this.addSql(`drop index \`process_run_scheduled_deletion_at_is_neutralized_index\`;`);
    this.addSql(`drop index \`process_run_started_at_index\`;`);
    this.addSql(`drop index \`process_run_status_created_at_index\`;`);
    this.addSql(`drop index \`process_step_process_id_index\`;`);
    this.addSql(`drop index \`process_step_process_id_index_live_unique\`;`);
    this.addSql(`drop index \`process_step_run_rerun_of_id_index\`;`);
    this.addSql(`drop index \`process_step_run_run_id_index\`;`);
    this.addSql(`drop index \`process_step_run_run_id_step_index_index\`;`);
    this.addSql(`drop index \`process_step_run_step_id_index\`;`);
    this.addSql(`drop index \`process_step_run_step_id_status_index\`;`);
    this.addSql(`alter table \`process\` rename to \`processes\`;`);
    this.addSql(`alter table \`process_step\` rename to \`process_steps\`;`);
    this.addSql(`alter table \`process_run\` rename to \`process_runs\`;`);
    this.addSql(`alter table \`process_step_run\` rename to \`process_step_runs\`;`);
    this.addSql(`alter table \`api_key\` rename to \`api_keys\`;`);
    this.addSql(`alter table \`audit_log\` rename to \`audit_logs\`;`);
    this.addSql(`create index \`api_keys_key_prefix_index\` on \`api_keys\` (\`key_prefix\`);`);
    this.addSql(`create index \`audit_logs_action_index\` on \`audit_logs\` (\`action\`);`);
    this.addSql(`create index \`audit_logs_api_key_id_created_at_index\` on \`audit_logs\` (\`api_key_id\`, \`created_at\`);`);
    this.addSql(`create index \`audit_logs_created_at_index\` on \`audit_logs\` (\`created_at\`);`);
    this.addSql(`create index \`audit_logs_user_email_index\` on \`audit_logs\` (\`user_email\`);`);
    this.addSql(`create index \`process_runs_created_at_index\` on \`process_runs\` (\`created_at\`);`);
    this.addSql(`create index \`process_runs_entity_id_index\` on \`process_runs\` (\`entity_id\`);`);
    this.addSql(`create index \`process_runs_finished_at_index\` on \`process_runs\` (\`finished_at\`);`);
    this.addSql(`create index \`process_runs_process_id_created_at_index\` on \`process_runs\` (\`process_id\`, \`created_at\`);`);
    this.addSql(`create index \`process_runs_process_id_index\` on \`process_runs\` (\`process_id\`);`);
    this.addSql(`create index \`process_runs_scheduled_deletion_at_is_neutralized_index\` on \`process_runs\` (\`scheduled_deletion_at\`, \`is_neutralized\`);`);
    this.addSql(`create index \`process_runs_started_at_index\` on \`process_runs\` (\`started_at\`);`);
    this.addSql(`create index \`process_runs_status_created_at_index\` on \`process_runs\` (\`status\`, \`created_at\`);`);
    this.addSql(`create index \`process_step_runs_rerun_of_id_index\` on \`process_step_runs\` (\`rerun_of_id\`);`);
    this.addSql(`create index \`process_step_runs_run_id_index\` on \`process_step_runs\` (\`run_id\`);`);
    this.addSql(`create index \`process_step_runs_run_id_step_index_index\` on \`process_step_runs\` (\`run_id\`, \`step_index\`);`);
    this.addSql(`create index \`process_step_runs_step_id_index\` on \`process_step_runs\` (\`step_id\`);`);
    this.addSql(`create index \`process_step_runs_step_id_status_index\` on \`process_step_runs\` (\`step_id\`, \`status\`);`);
    this.addSql(`create index \`process_steps_process_id_index\` on \`process_steps\` (\`process_id\`);`);
    this.addSql(`create unique index \`process_steps_process_id_index_live_unique\` on \`process_steps\` (\`process_id\`, \`index\`) where \`deleted_at\` is null;`);
  }

}
