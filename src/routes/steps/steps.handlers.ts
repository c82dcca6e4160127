import type { Container } from '../../container.ts';
import type { HandlerMap } from '../../contract.ts';
import { toProcessStep } from './steps.mapper.ts';

type StepsOperation = 'createStep' | 'listProcessSteps' | 'listRerunnableProcessSteps';

/** Handlers of the `steps` tag. */
export function stepsHandlers(container: Container): Pick<HandlerMap, StepsOperation> {
  const { steps } = container;
  return {
    createStep: async (req, res) => {
      const { process_id, index, name, is_rerunnable, rerun_config } = req.body;
      const step = await steps.create(container.em(), {
        process_id,
        index,
        name,
        is_rerunnable,
        rerun_config,
      });
      res.status(201).json(toProcessStep(step));
    },
    listProcessSteps: async (req, res) => {
      const found = await steps.listByProcess(container.em(), req.params.process_id);
      res.json(found.map(toProcessStep));
    },
    listRerunnableProcessSteps: async (req, res) => {
      const found = await steps.listByProcess(container.em(), req.params.process_id, {
        rerunnableOnly: true,
      });
      res.json(found.map(toProcessStep));
    },
  };
}
