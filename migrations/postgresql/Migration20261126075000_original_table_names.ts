// postgresql migration, written by hand from the generated one (which would have dropped and re-created
// the tables): the tables take the original service's names (process, process_step, process_run,
// process_step_run, api_key, audit_log), keeping every row. Renames only (no data is copied or rebuilt):
// tables, their id sequences, primary keys, indexes and constraints. The same change exists for the
// other dialects under the same name.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261126075000_original_table_names extends Migration {

  override name = 'Migration20261126075000_original_table_names';

  override up(): void | Promise<void> {
    this.addSql(`alter table "processes" rename to "process";`);
    this.addSql(`alter sequence "processes_id_seq" rename to "process_id_seq";`);
    this.addSql(`alter table "process" rename constraint "processes_pkey" to "process_pkey";`);
    this.addSql(`alter table "process_steps" rename to "process_step";`);
    this.addSql(`alter sequence "process_steps_id_seq" rename to "process_step_id_seq";`);
    this.addSql(`alter table "process_step" rename constraint "process_steps_pkey" to "process_step_pkey";`);
    this.addSql(`alter table "process_runs" rename to "process_run";`);
    this.addSql(`alter sequence "process_runs_id_seq" rename to "process_run_id_seq";`);
    this.addSql(`alter table "process_run" rename constraint "process_runs_pkey" to "process_run_pkey";`);
    this.addSql(`alter table "process_step_runs" rename to "process_step_run";`);
    this.addSql(`alter sequence "process_step_runs_id_seq" rename to "process_step_run_id_seq";`);
    this.addSql(`alter table "process_step_run" rename constraint "process_step_runs_pkey" to "process_step_run_pkey";`);
    this.addSql(`alter table "api_keys" rename to "api_key";`);
    this.addSql(`alter sequence "api_keys_id_seq" rename to "api_key_id_seq";`);
    this.addSql(`alter table "api_key" rename constraint "api_keys_pkey" to "api_key_pkey";`);
    this.addSql(`alter table "audit_logs" rename to "audit_log";`);
    this.addSql(`alter sequence "audit_logs_id_seq" rename to "audit_log_id_seq";`);
    this.addSql(`alter table "audit_log" rename constraint "audit_logs_pkey" to "audit_log_pkey";`);
    this.addSql(`alter index "api_keys_key_prefix_index" rename to "api_key_key_prefix_index";`);
    this.addSql(`alter index "audit_logs_action_index" rename to "audit_log_action_index";`);
    this.addSql(`alter index "audit_logs_api_key_id_created_at_index" rename to "audit_log_api_key_id_created_at_index";`);
    this.addSql(`alter index "audit_logs_created_at_index" rename to "audit_log_created_at_index";`);
    this.addSql(`alter index "audit_logs_user_email_index" rename to "audit_log_user_email_index";`);
    this.addSql(`alter index "process_runs_created_at_index" rename to "process_run_created_at_index";`);
    this.addSql(`alter index "process_runs_entity_id_index" rename to "process_run_entity_id_index";`);
    this.addSql(`alter index "process_runs_finished_at_index" rename to "process_run_finished_at_index";`);
    this.addSql(`alter index "process_runs_process_id_created_at_index" rename to "process_run_process_id_created_at_index";`);
    this.addSql(`alter index "process_runs_scheduled_deletion_at_is_neutralized_index" rename to "process_run_scheduled_deletion_at_is_neutralized_index";`);
    this.addSql(`alter index "process_runs_started_at_index" rename to "process_run_started_at_index";`);
    this.addSql(`alter index "process_runs_status_created_at_index" rename to "process_run_status_created_at_index";`);
    this.addSql(`alter index "process_step_runs_rerun_of_id_index" rename to "process_step_run_rerun_of_id_index";`);
    this.addSql(`alter index "process_step_runs_run_id_step_index_index" rename to "process_step_run_run_id_step_index_index";`);
    this.addSql(`alter index "process_step_runs_step_id_status_index" rename to "process_step_run_step_id_status_index";`);
    this.addSql(`alter index "process_steps_process_id_index_live_unique" rename to "process_step_process_id_index_live_unique";`);
    this.addSql(`alter table "process_run" rename constraint "process_runs_process_id_foreign" to "process_run_process_id_foreign";`);
    this.addSql(`alter table "process_step_run" rename constraint "process_step_runs_rerun_of_id_foreign" to "process_step_run_rerun_of_id_foreign";`);
    this.addSql(`alter table "process_step_run" rename constraint "process_step_runs_run_id_foreign" to "process_step_run_run_id_foreign";`);
    this.addSql(`alter table "process_step_run" rename constraint "process_step_runs_step_id_foreign" to "process_step_run_step_id_foreign";`);
    this.addSql(`alter table "process_step" rename constraint "process_steps_index_check" to "process_step_index_check";`);
    this.addSql(`alter table "process_step" rename constraint "process_steps_process_id_foreign" to "process_step_process_id_foreign";`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "process" rename to "processes";`);
    this.addSql(`alter sequence "process_id_seq" rename to "processes_id_seq";`);
    this.addSql(`alter table "processes" rename constraint "process_pkey" to "processes_pkey";`);
    this.addSql(`alter table "process_step" rename to "process_steps";`);
    this.addSql(`alter sequence "process_step_id_seq" rename to "process_steps_id_seq";`);
    this.addSql(`alter table "process_steps" rename constraint "process_step_pkey" to "process_steps_pkey";`);
    this.addSql(`alter table "process_run" rename to "process_runs";`);
    this.addSql(`alter sequence "process_run_id_seq" rename to "process_runs_id_seq";`);
    this.addSql(`alter table "process_runs" rename constraint "process_run_pkey" to "process_runs_pkey";`);
    this.addSql(`alter table "process_step_run" rename to "process_step_runs";`);
    this.addSql(`alter sequence "process_step_run_id_seq" rename to "process_step_runs_id_seq";`);
    this.addSql(`alter table "process_step_runs" rename constraint "process_step_run_pkey" to "process_step_runs_pkey";`);
    this.addSql(`alter table "api_key" rename to "api_keys";`);
    this.addSql(`alter sequence "api_key_id_seq" rename to "api_keys_id_seq";`);
    this.addSql(`alter table "api_keys" rename constraint "api_key_pkey" to "api_keys_pkey";`);
    this.addSql(`alter table "audit_log" rename to "audit_logs";`);
    this.addSql(`alter sequence "audit_log_id_seq" rename to "audit_logs_id_seq";`);
    this.addSql(`alter table "audit_logs" rename constraint "audit_log_pkey" to "audit_logs_pkey";`);
    this.addSql(`alter index "api_key_key_prefix_index" rename to "api_keys_key_prefix_index";`);
    this.addSql(`alter index "audit_log_action_index" rename to "audit_logs_action_index";`);
    this.addSql(`alter index "audit_log_api_key_id_created_at_index" rename to "audit_logs_api_key_id_created_at_index";`);
    this.addSql(`alter index "audit_log_created_at_index" rename to "audit_logs_created_at_index";`);
    this.addSql(`alter index "audit_log_user_email_index" rename to "audit_logs_user_email_index";`);
    this.addSql(`alter index "process_run_created_at_index" rename to "process_runs_created_at_index";`);
    this.addSql(`alter index "process_run_entity_id_index" rename to "process_runs_entity_id_index";`);
    this.addSql(`alter index "process_run_finished_at_index" rename to "process_runs_finished_at_index";`);
    this.addSql(`alter index "process_run_process_id_created_at_index" rename to "process_runs_process_id_created_at_index";`);
    this.addSql(`alter index "process_run_scheduled_deletion_at_is_neutralized_index" rename to "process_runs_scheduled_deletion_at_is_neutralized_index";`);
    this.addSql(`alter index "process_run_started_at_index" rename to "process_runs_started_at_index";`);
    this.addSql(`alter index "process_run_status_created_at_index" rename to "process_runs_status_created_at_index";`);
    this.addSql(`alter index "process_step_process_id_index_live_unique" rename to "process_steps_process_id_index_live_unique";`);
    this.addSql(`alter index "process_step_run_rerun_of_id_index" rename to "process_step_runs_rerun_of_id_index";`);
    this.addSql(`alter index "process_step_run_run_id_step_index_index" rename to "process_step_runs_run_id_step_index_index";`);
    this.addSql(`alter index "process_step_run_step_id_status_index" rename to "process_step_runs_step_id_status_index";`);
    this.addSql(`alter table "process_runs" rename constraint "process_run_process_id_foreign" to "process_runs_process_id_foreign";`);
    this.addSql(`alter table "process_steps" rename constraint "process_step_index_check" to "process_steps_index_check";`);
    this.addSql(`alter table "process_steps" rename constraint "process_step_process_id_foreign" to "process_steps_process_id_foreign";`);
    this.addSql(`alter table "process_step_runs" rename constraint "process_step_run_rerun_of_id_foreign" to "process_step_runs_rerun_of_id_foreign";`);
    this.addSql(`alter table "process_step_runs" rename constraint "process_step_run_run_id_foreign" to "process_step_runs_run_id_foreign";`);
    this.addSql(`alter table "process_step_runs" rename constraint "process_step_run_step_id_foreign" to "process_step_runs_step_id_foreign";`);
  }

}
