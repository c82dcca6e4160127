import type { Container } from '../../container.ts';
import type { HandlerMap } from '../../contract.ts';
import { notImplemented } from '../not-implemented.ts';

type ProcessesOperation =
  | 'createProcess'
  | 'listProcesses'
  | 'getProcess'
  | 'updateProcess'
  | 'deleteProcess'
  | 'restoreProcess'
  | 'setProcessRetention'
  | 'getProcessSearchableFields'
  | 'getProcessFilterMetadata';

/** Handlers of the `processes` tag. Operations still answering 501 belong to a later issue. */
export function processesHandlers(_container: Container): Pick<HandlerMap, ProcessesOperation> {
  return {
    createProcess: notImplemented('createProcess'),
    listProcesses: notImplemented('listProcesses'),
    getProcess: notImplemented('getProcess'),
    updateProcess: notImplemented('updateProcess'),
    deleteProcess: notImplemented('deleteProcess'),
    restoreProcess: notImplemented('restoreProcess'),
    setProcessRetention: notImplemented('setProcessRetention'),
    getProcessSearchableFields: notImplemented('getProcessSearchableFields'),
    getProcessFilterMetadata: notImplemented('getProcessFilterMetadata'),
  };
}
