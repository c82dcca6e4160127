import type { Container } from '../../container.ts';
import type { HandlerMap } from '../../contract.ts';
import { noteAuditChanges } from '../../middleware/audit-trail.ts';
import { sentQueryParameters } from '../../middleware/operation-router.ts';
import { pageOffset, pageRequest, sendPageHeaders } from '../pagination.ts';
import { toRerunJob, toRerunQueueDepth } from './rerun-jobs.mapper.ts';

type AdminOperation = 'getCleanupStats' | 'neutralizeDueRuns' | 'listRerunJobs';

/** Handlers of the `admin` tag: the retention cleanup on demand, the rerun queue. */
export function adminHandlers(container: Container): Pick<HandlerMap, AdminOperation> {
  return {
    listRerunJobs: async (req, res) => {
      const page = pageRequest(req.query);
      const em = container.em();
      const { items, total } = await container.reruns.jobs(em, {
        status: req.query.status,
        step_run_id: req.query.step_run_id,
        offset: pageOffset(page),
        limit: page.size,
      });
      const depth = await container.reruns.depth(em);
      const meta = sendPageHeaders(req, res, page, total);
      res.json({ queue: toRerunQueueDepth(depth), items: items.map(toRerunJob), ...meta });
    },
    getCleanupStats: async (req, res) => {
      const due = await container.lifecycle.dueRuns(container.em(), req.query.limit ?? 10);
      res.json({
        runs_due_for_neutralization: due.total,
        total_due_for_neutralization: due.total,
        sample_run_ids: due.sampleRunIds,
      });
    },
    neutralizeDueRuns: async (req, res) => {
      const sent = sentQueryParameters(req);
      const limit = (sent.has('limit') ? req.query.limit : req.query.batch_size) ?? 100;
      // dry_run defaults to true, except in the original service's form (batch_size sent, dry_run not),
      // which neutralised: cleanup jobs written for it keep working.
      const dryRun = sent.has('dry_run') ? req.query.dry_run !== false : !sent.has('batch_size');
      const batch = await container.lifecycle.neutralizeDue(container.em(), { limit, dryRun });
      const failedIds = batch.failed.map((failure) => failure.run_id);
      noteAuditChanges(res, {
        dry_run: batch.dryRun,
        ...(batch.dryRun ? {} : { neutralized_run_ids: batch.neutralized, failed_run_ids: failedIds }),
      });
      res.json({
        dry_run: batch.dryRun,
        total_found: batch.found,
        neutralized: batch.dryRun ? 0 : batch.neutralized.length,
        failed: failedIds.length,
        errors: batch.failed,
        neutralized_count: batch.dryRun ? 0 : batch.neutralized.length,
        failed_count: failedIds.length,
        neutralized_run_ids: batch.neutralized,
        failed_run_ids: failedIds,
      });
    },
  };
}
