import type { Container } from '../../container.ts';
import type { HandlerMap } from '../../contract.ts';
import { notImplemented } from '../not-implemented.ts';

type StepRunsOperation =
  | 'createStepRun'
  | 'getStepRun'
  | 'updateStepRun'
  | 'rerunStepRun'
  | 'listStepRunReruns'
  | 'listRunStepRuns'
  | 'getRunStepRunByStep'
  | 'listRerunnableRunStepRuns';

/** Handlers of the `step-runs` tag. Operations still answering 501 belong to a later issue. */
export function stepRunsHandlers(_container: Container): Pick<HandlerMap, StepRunsOperation> {
  return {
    createStepRun: notImplemented('createStepRun'),
    getStepRun: notImplemented('getStepRun'),
    updateStepRun: notImplemented('updateStepRun'),
    rerunStepRun: notImplemented('rerunStepRun'),
    listStepRunReruns: notImplemented('listStepRunReruns'),
    listRunStepRuns: notImplemented('listRunStepRuns'),
    getRunStepRunByStep: notImplemented('getRunStepRunByStep'),
    listRerunnableRunStepRuns: notImplemented('listRerunnableRunStepRuns'),
  };
}
