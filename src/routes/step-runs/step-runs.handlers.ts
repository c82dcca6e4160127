import type { Container } from '../../container.ts';
import type { HandlerMap } from '../../contract.ts';
import { ValidationError } from '../../errors/domain-errors.ts';
import { parseTimestamp } from '../../util/timestamps.ts';
import { noteAuditChanges } from '../../middleware/audit-trail.ts';
import { toProcessStepRun } from './step-runs.mapper.ts';

type StepRunsOperation =
  | 'createStepRun'
  | 'getStepRun'
  | 'updateStepRun'
  | 'rerunStepRun'
  | 'listStepRunReruns'
  | 'listRunStepRuns'
  | 'getRunStepRunByStep'
  | 'listRerunnableRunStepRuns';

/** A body timestamp the validator accepted (RFC 3339, offset-less UTC or a date); undefined stays undefined. */
function bodyTimestamp(name: string, value: string | null | undefined): Date | null | undefined {
  if (value == null) return value;
  const date = parseTimestamp(value);
  if (date === undefined) {
    throw new ValidationError('Request validation failed', [
      { location: 'body', field: name, message: 'must be a date-time', code: 'format' },
    ]);
  }
  return date;
}

/** Handlers of the `step-runs` tag. */
export function stepRunsHandlers(container: Container): Pick<HandlerMap, StepRunsOperation> {
  const { stepRuns } = container;
  return {
    createStepRun: async (req, res) => {
      const { run_id, step_id, step_index } = req.body;
      const created = await stepRuns.create(container.em(), { run_id, step_id, step_index });
      res.status(201).json(toProcessStepRun(created));
    },
    getStepRun: async (req, res) => {
      res.json(toProcessStepRun(await stepRuns.get(container.em(), req.params.step_run_id)));
    },
    updateStepRun: async (req, res) => {
      const { status, started_at, finished_at, failure, rerun_config, last_modified_by, meta } = req.body;
      const updated = await stepRuns.report(container.em(), req.params.step_run_id, {
        status,
        started_at: bodyTimestamp('started_at', started_at),
        finished_at: bodyTimestamp('finished_at', finished_at),
        failure,
        rerun_config,
        last_modified_by,
        meta,
      });
      res.json(toProcessStepRun(updated));
    },
    rerunStepRun: async (req, res) => {
      const started = await container.reruns.rerun(
        container.em(),
        req.params.step_run_id,
        req.body?.meta ?? null,
      );
      noteAuditChanges(res, {
        new_step_run_id: started.stepRun.id,
        rerun_job_id: started.job.id,
        adapter: started.target.adapter,
      });
      const stepRun = toProcessStepRun(started.stepRun);
      res.json({
        id: stepRun.id,
        original_step_run_id: started.original.id,
        status: stepRun.status,
        created_at: stepRun.created_at,
        message: 'Step rerun initiated successfully',
        step_run: stepRun,
        rerun_result: {
          result: 'queued',
          message: `Rerun queued for ${started.target.shownUrl}`,
          adapter: started.target.adapter,
        },
      });
    },
    listStepRunReruns: async (req, res) => {
      const chain = await container.reruns.history(container.em(), req.params.step_run_id);
      res.json(chain.map(toProcessStepRun));
    },
    listRunStepRuns: async (req, res) => {
      const found = await stepRuns.listByRun(container.em(), req.params.run_id);
      res.json(found.map(toProcessStepRun));
    },
    getRunStepRunByStep: async (req, res) => {
      const found = await stepRuns.getByRunAndStep(container.em(), req.params.run_id, req.params.step_id);
      res.json(toProcessStepRun(found));
    },
    listRerunnableRunStepRuns: async (req, res) => {
      const found = await stepRuns.listByRun(container.em(), req.params.run_id, { rerunnableOnly: true });
      res.json(found.map(toProcessStepRun));
    },
  };
}
