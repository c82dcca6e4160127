import type { Container } from '../../container.ts';
import type { HandlerMap } from '../../contract.ts';
import { notImplemented } from '../not-implemented.ts';

type RunsOperation =
  | 'createRun'
  | 'listRuns'
  | 'searchRuns'
  | 'getRun'
  | 'updateRunMetadata'
  | 'deleteRun'
  | 'restoreRun'
  | 'neutralizeRun';

/** Handlers of the `runs` tag. Operations still answering 501 belong to a later issue. */
export function runsHandlers(_container: Container): Pick<HandlerMap, RunsOperation> {
  return {
    createRun: notImplemented('createRun'),
    listRuns: notImplemented('listRuns'),
    searchRuns: notImplemented('searchRuns'),
    getRun: notImplemented('getRun'),
    updateRunMetadata: notImplemented('updateRunMetadata'),
    deleteRun: notImplemented('deleteRun'),
    restoreRun: notImplemented('restoreRun'),
    neutralizeRun: notImplemented('neutralizeRun'),
  };
}
