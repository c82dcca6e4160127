import type { Container } from '../../container.ts';
import type { HandlerMap } from '../../contract.ts';
import { notImplemented } from '../not-implemented.ts';

type StepsOperation = 'createStep' | 'listProcessSteps' | 'listRerunnableProcessSteps';

/** Handlers of the `steps` tag. Operations still answering 501 belong to a later issue. */
export function stepsHandlers(_container: Container): Pick<HandlerMap, StepsOperation> {
  return {
    createStep: notImplemented('createStep'),
    listProcessSteps: notImplemented('listProcessSteps'),
    listRerunnableProcessSteps: notImplemented('listRerunnableProcessSteps'),
  };
}
