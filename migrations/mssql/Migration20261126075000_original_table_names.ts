// mssql migration, written by hand from the generated one (which would have dropped and re-created the
// tables): the tables take the original service's names (process, process_step, process_run,
// process_step_run, api_key, audit_log), keeping every row. Tables are renamed with sp_rename; their
// keys, indexes, constraints and defaults are dropped and created under the new names (sp_rename of an
// index or constraint is not supported by Babelfish, on which the suite runs the SQL Server dialect).
// One transaction: on failure nothing is changed. The same change exists for the other dialects under
// the same name.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261126075000_original_table_names extends Migration {

  override name = 'Migration20261126075000_original_table_names';

  override up(): void | Promise<void> {
    this.addSql(`alter table [process_runs] drop constraint [process_runs_process_id_foreign];`);
    this.addSql(`alter table [process_step_runs] drop constraint [process_step_runs_rerun_of_id_foreign];`);
    this.addSql(`alter table [process_step_runs] drop constraint [process_step_runs_run_id_foreign];`);
    this.addSql(`alter table [process_step_runs] drop constraint [process_step_runs_step_id_foreign];`);
    this.addSql(`alter table [process_steps] drop constraint [process_steps_index_check];`);
    this.addSql(`alter table [process_steps] drop constraint [process_steps_process_id_foreign];`);
    this.addSql(`drop index [api_keys_key_prefix_index] on [api_keys];`);
    this.addSql(`drop index [audit_logs_action_index] on [audit_logs];`);
    this.addSql(`drop index [audit_logs_api_key_id_created_at_index] on [audit_logs];`);
    this.addSql(`drop index [audit_logs_created_at_index] on [audit_logs];`);
    this.addSql(`drop index [audit_logs_user_email_index] on [audit_logs];`);
    this.addSql(`drop index [process_runs_created_at_index] on [process_runs];`);
    this.addSql(`drop index [process_runs_entity_id_index] on [process_runs];`);
    this.addSql(`drop index [process_runs_finished_at_index] on [process_runs];`);
    this.addSql(`drop index [process_runs_process_id_created_at_index] on [process_runs];`);
    this.addSql(`drop index [process_runs_scheduled_deletion_at_is_neutralized_index] on [process_runs];`);
    this.addSql(`drop index [process_runs_started_at_index] on [process_runs];`);
    this.addSql(`drop index [process_runs_status_created_at_index] on [process_runs];`);
    this.addSql(`drop index [process_step_runs_rerun_of_id_index] on [process_step_runs];`);
    this.addSql(`drop index [process_step_runs_run_id_step_index_index] on [process_step_runs];`);
    this.addSql(`drop index [process_step_runs_step_id_status_index] on [process_step_runs];`);
    this.addSql(`drop index [process_steps_process_id_index_live_unique] on [process_steps];`);
    this.addSql(`alter table [api_keys] drop constraint [api_keys_pkey];`);
    this.addSql(`alter table [audit_logs] drop constraint [audit_logs_pkey];`);
    this.addSql(`alter table [process_runs] drop constraint [process_runs_pkey];`);
    this.addSql(`alter table [process_step_runs] drop constraint [process_step_runs_pkey];`);
    this.addSql(`alter table [process_steps] drop constraint [process_steps_pkey];`);
    this.addSql(`alter table [processes] drop constraint [processes_pkey];`);
    this.addSql(`if object_id(N'api_keys_is_active_default', N'D') is not null alter table [api_keys] drop constraint [api_keys_is_active_default];`);
    this.addSql(`if object_id(N'api_keys_usage_count_default', N'D') is not null alter table [api_keys] drop constraint [api_keys_usage_count_default];`);
    this.addSql(`if object_id(N'process_runs_is_neutralized_default', N'D') is not null alter table [process_runs] drop constraint [process_runs_is_neutralized_default];`);
    this.addSql(`if object_id(N'process_steps_is_rerunnable_default', N'D') is not null alter table [process_steps] drop constraint [process_steps_is_rerunnable_default];`);
    this.addSql(`if object_id(N'process_step_runs_can_rerun_default', N'D') is not null alter table [process_step_runs] drop constraint [process_step_runs_can_rerun_default];`);
    this.addSql(`if object_id(N'process_step_runs_rerun_count_default', N'D') is not null alter table [process_step_runs] drop constraint [process_step_runs_rerun_count_default];`);
    this.addSql(`if object_id(N'process_step_runs_max_reruns_default', N'D') is not null alter table [process_step_runs] drop constraint [process_step_runs_max_reruns_default];`);
    this.addSql(`exec sp_rename N'processes', N'process', N'OBJECT';`);
    this.addSql(`exec sp_rename N'process_steps', N'process_step', N'OBJECT';`);
    this.addSql(`exec sp_rename N'process_runs', N'process_run', N'OBJECT';`);
    this.addSql(`exec sp_rename N'process_step_runs', N'process_step_run', N'OBJECT';`);
    this.addSql(`exec sp_rename N'api_keys', N'api_key', N'OBJECT';`);
    this.addSql(`exec sp_rename N'audit_logs', N'audit_log', N'OBJECT';`);
    this.addSql(`alter table [api_key] add constraint [api_key_pkey] primary key ([id]);`);
    this.addSql(`alter table [audit_log] add constraint [audit_log_pkey] primary key ([id]);`);
    this.addSql(`alter table [process] add constraint [process_pkey] primary key ([id]);`);
    this.addSql(`alter table [process_run] add constraint [process_run_pkey] primary key ([id]);`);
    this.addSql(`alter table [process_step] add constraint [process_step_pkey] primary key ([id]);`);
    this.addSql(`alter table [process_step_run] add constraint [process_step_run_pkey] primary key ([id]);`);
    this.addSql(`alter table [api_key] add constraint [api_key_is_active_default] default 1 for [is_active];`);
    this.addSql(`alter table [api_key] add constraint [api_key_usage_count_default] default 0 for [usage_count];`);
    this.addSql(`alter table [process_run] add constraint [process_run_is_neutralized_default] default 0 for [is_neutralized];`);
    this.addSql(`alter table [process_step] add constraint [process_step_is_rerunnable_default] default 0 for [is_rerunnable];`);
    this.addSql(`alter table [process_step_run] add constraint [process_step_run_can_rerun_default] default 0 for [can_rerun];`);
    this.addSql(`alter table [process_step_run] add constraint [process_step_run_rerun_count_default] default 0 for [rerun_count];`);
    this.addSql(`alter table [process_step_run] add constraint [process_step_run_max_reruns_default] default 0 for [max_reruns];`);
    this.addSql(`create index [api_key_key_prefix_index] on [api_key] ([key_prefix]);`);
    this.addSql(`create index [audit_log_action_index] on [audit_log] ([action]);`);
    this.addSql(`create index [audit_log_api_key_id_created_at_index] on [audit_log] ([api_key_id], [created_at]);`);
    this.addSql(`create index [audit_log_created_at_index] on [audit_log] ([created_at]);`);
    this.addSql(`create index [audit_log_user_email_index] on [audit_log] ([user_email]);`);
    this.addSql(`create index [process_run_created_at_index] on [process_run] ([created_at]);`);
    this.addSql(`create index [process_run_entity_id_index] on [process_run] ([entity_id]);`);
    this.addSql(`create index [process_run_finished_at_index] on [process_run] ([finished_at]);`);
    this.addSql(`create index [process_run_process_id_created_at_index] on [process_run] ([process_id], [created_at]);`);
    this.addSql(`create index [process_run_scheduled_deletion_at_is_neutralized_index] on [process_run] ([scheduled_deletion_at], [is_neutralized]);`);
    this.addSql(`create index [process_run_started_at_index] on [process_run] ([started_at]);`);
    this.addSql(`create index [process_run_status_created_at_index] on [process_run] ([status], [created_at]);`);
    this.addSql(`create unique index [process_step_process_id_index_live_unique] on [process_step] ([process_id], [index]) where [deleted_at] is null;`);
    this.addSql(`create index [process_step_run_rerun_of_id_index] on [process_step_run] ([rerun_of_id]);`);
    this.addSql(`create index [process_step_run_run_id_step_index_index] on [process_step_run] ([run_id], [step_index]);`);
    this.addSql(`create index [process_step_run_step_id_status_index] on [process_step_run] ([step_id], [status]);`);
    this.addSql(`alter table [process_run] add constraint [process_run_process_id_foreign] foreign key ([process_id]) references [process] ([id]) on update no action on delete no action;`);
    this.addSql(`alter table [process_step] add constraint [process_step_index_check] check ([index] >= 0);`);
    this.addSql(`alter table [process_step] add constraint [process_step_process_id_foreign] foreign key ([process_id]) references [process] ([id]) on update no action on delete no action;`);
    this.addSql(`alter table [process_step_run] add constraint [process_step_run_rerun_of_id_foreign] foreign key ([rerun_of_id]) references [process_step_run] ([id]);`);
    this.addSql(`alter table [process_step_run] add constraint [process_step_run_run_id_foreign] foreign key ([run_id]) references [process_run] ([id]) on update no action on delete no action;`);
    this.addSql(`alter table [process_step_run] add constraint [process_step_run_step_id_foreign] foreign key ([step_id]) references [process_step] ([id]) on update no action on delete no action;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table [process_run] drop constraint [process_run_process_id_foreign];`);
    this.addSql(`alter table [process_step] drop constraint [process_step_index_check];`);
    this.addSql(`alter table [process_step] drop constraint [process_step_process_id_foreign];`);
    this.addSql(`alter table [process_step_run] drop constraint [process_step_run_rerun_of_id_foreign];`);
    this.addSql(`alter table [process_step_run] drop constraint [process_step_run_run_id_foreign];`);
    this.addSql(`alter table [process_step_run] drop constraint [process_step_run_step_id_foreign];`);
    this.addSql(`drop index [api_key_key_prefix_index] on [api_key];`);
    this.addSql(`drop index [audit_log_action_index] on [audit_log];`);
    this.addSql(`drop index [audit_log_api_key_id_created_at_index] on [audit_log];`);
    this.addSql(`drop index [audit_log_created_at_index] on [audit_log];`);
    this.addSql(`drop index [audit_log_user_email_index] on [audit_log];`);
    this.addSql(`drop index [process_run_created_at_index] on [process_run];`);
    this.addSql(`drop index [process_run_entity_id_index] on [process_run];`);
    this.addSql(`drop index [process_run_finished_at_index] on [process_run];`);
    this.addSql(`drop index [process_run_process_id_created_at_index] on [process_run];`);
    this.addSql(`drop index [process_run_scheduled_deletion_at_is_neutralized_index] on [process_run];`);
    this.addSql(`drop index [process_run_started_at_index] on [process_run];`);
    this.addSql(`drop index [process_run_status_created_at_index] on [process_run];`);
    this.addSql(`drop index [process_step_process_id_index_live_unique] on [process_step];`);
    this.addSql(`drop index [process_step_run_rerun_of_id_index] on [process_step_run];`);
    this.addSql(`drop index [process_step_run_run_id_step_index_index] on [process_step_run];`);
    this.addSql(`drop index [process_step_run_step_id_status_index] on [process_step_run];`);
    this.addSql(`alter table [api_key] drop constraint [api_key_pkey];`);
    this.addSql(`alter table [audit_log] drop constraint [audit_log_pkey];`);
    this.addSql(`alter table [process] drop constraint [process_pkey];`);
    this.addSql(`alter table [process_run] drop constraint [process_run_pkey];`);
    this.addSql(`alter table [process_step] drop constraint [process_step_pkey];`);
    this.addSql(`alter table [process_step_run] drop constraint [process_step_run_pkey];`);
    this.addSql(`if object_id(N'api_key_is_active_default', N'D') is not null alter table [api_key] drop constraint [api_key_is_active_default];`);
    this.addSql(`if object_id(N'api_key_usage_count_default', N'D') is not null alter table [api_key] drop constraint [api_key_usage_count_default];`);
    this.addSql(`if object_id(N'process_run_is_neutralized_default', N'D') is not null alter table [process_run] drop constraint [process_run_is_neutralized_default];`);
    this.addSql(`if object_id(N'process_step_is_rerunnable_default', N'D') is not null alter table [process_step] drop constraint [process_step_is_rerunnable_default];`);
    this.addSql(`if object_id(N'process_step_run_can_rerun_default', N'D') is not null alter table [process_step_run] drop constraint [process_step_run_can_rerun_default];`);
    this.addSql(`if object_id(N'process_step_run_rerun_count_default', N'D') is not null alter table [process_step_run] drop constraint [process_step_run_rerun_count_default];`);
    this.addSql(`if object_id(N'process_step_run_max_reruns_default', N'D') is not null alter table [process_step_run] drop constraint [process_step_run_max_reruns_default];`);
    this.addSql(`exec sp_rename N'process', N'processes', N'OBJECT';`);
    this.addSql(`exec sp_rename N'process_step', N'process_steps', N'OBJECT';`);
    this.addSql(`exec sp_rename N'process_run', N'process_runs', N'OBJECT';`);
    this.addSql(`exec sp_rename N'process_step_run', N'process_step_runs', N'OBJECT';`);
    this.addSql(`exec sp_rename N'api_key', N'api_keys', N'OBJECT';`);
    this.addSql(`exec sp_rename N'audit_log', N'audit_logs', N'OBJECT';`);
    this.addSql(`alter table [api_keys] add constraint [api_keys_pkey] primary key ([id]);`);
    this.addSql(`alter table [audit_logs] add constraint [audit_logs_pkey] primary key ([id]);`);
    this.addSql(`alter table [process_runs] add constraint [process_runs_pkey] primary key ([id]);`);
    this.addSql(`alter table [process_step_runs] add constraint [process_step_runs_pkey] primary key ([id]);`);
    this.addSql(`alter table [process_steps] add constraint [process_steps_pkey] primary key ([id]);`);
    this.addSql(`alter table [processes] add constraint [processes_pkey] primary key ([id]);`);
    this.addSql(`alter table [api_keys] add constraint [api_keys_is_active_default] default 1 for [is_active];`);
    this.addSql(`alter table [api_keys] add constraint [api_keys_usage_count_default] default 0 for [usage_count];`);
    this.addSql(`alter table [process_runs] add constraint [process_runs_is_neutralized_default] default 0 for [is_neutralized];`);
    this.addSql(`alter table [process_steps] add constraint [process_steps_is_rerunnable_default] default 0 for [is_rerunnable];`);
    this.addSql(`alter table [process_step_runs] add constraint [process_step_runs_can_rerun_default] default 0 for [can_rerun];`);
    this.addSql(`alter table [process_step_runs] add constraint [process_step_runs_rerun_count_default] default 0 for [rerun_count];`);
    this.addSql(`alter table [process_step_runs] add constraint [process_step_runs_max_reruns_default] default 0 for [max_reruns];`);
    this.addSql(`create index [api_keys_key_prefix_index] on [api_keys] ([key_prefix]);`);
    this.addSql(`create index [audit_logs_action_index] on [audit_logs] ([action]);`);
    this.addSql(`create index [audit_logs_api_key_id_created_at_index] on [audit_logs] ([api_key_id], [created_at]);`);
    this.addSql(`create index [audit_logs_created_at_index] on [audit_logs] ([created_at]);`);
    this.addSql(`create index [audit_logs_user_email_index] on [audit_logs] ([user_email]);`);
    this.addSql(`create index [process_runs_created_at_index] on [process_runs] ([created_at]);`);
    this.addSql(`create index [process_runs_entity_id_index] on [process_runs] ([entity_id]);`);
    this.addSql(`create index [process_runs_finished_at_index] on [process_runs] ([finished_at]);`);
    this.addSql(`create index [process_runs_process_id_created_at_index] on [process_runs] ([process_id], [created_at]);`);
    this.addSql(`create index [process_runs_scheduled_deletion_at_is_neutralized_index] on [process_runs] ([scheduled_deletion_at], [is_neutralized]);`);
    this.addSql(`create index [process_runs_started_at_index] on [process_runs] ([started_at]);`);
    this.addSql(`create index [process_runs_status_created_at_index] on [process_runs] ([status], [created_at]);`);
    this.addSql(`create index [process_step_runs_rerun_of_id_index] on [process_step_runs] ([rerun_of_id]);`);
    this.addSql(`create index [process_step_runs_run_id_step_index_index] on [process_step_runs] ([run_id], [step_index]);`);
    this.addSql(`create index [process_step_runs_step_id_status_index] on [process_step_runs] ([step_id], [status]);`);
    this.addSql(`create unique index [process_steps_process_id_index_live_unique] on [process_steps] ([process_id], [index]) where [deleted_at] is null;`);
    this.addSql(`alter table [process_runs] add constraint [process_runs_process_id_foreign] foreign key ([process_id]) references [processes] ([id]) on update no action on delete no action;`);
    this.addSql(`alter table [process_step_runs] add constraint [process_step_runs_rerun_of_id_foreign] foreign key ([rerun_of_id]) references [process_step_runs] ([id]);`);
    this.addSql(`alter table [process_step_runs] add constraint [process_step_runs_run_id_foreign] foreign key ([run_id]) references [process_runs] ([id]) on update no action on delete no action;`);
    this.addSql(`alter table [process_step_runs] add constraint [process_step_runs_step_id_foreign] foreign key ([step_id]) references [process_steps] ([id]) on update no action on delete no action;`);
    this.addSql(`alter table [process_steps] add constraint [process_steps_index_check] check ([index] >= 0);`);
    this.addSql(`alter table [process_steps] add constraint [process_steps_process_id_foreign] foreign key ([process_id]) references [processes] ([id]) on update no action on delete no action;`);
  }

}
