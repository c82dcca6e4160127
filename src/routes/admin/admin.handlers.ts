import type { Container } from '../../container.ts';
import type { HandlerMap } from '../../contract.ts';
import { notImplemented } from '../not-implemented.ts';

type AdminOperation = 'getCleanupStats' | 'neutralizeDueRuns';

/** Handlers of the `admin` tag. Operations still answering 501 belong to a later issue. */
export function adminHandlers(_container: Container): Pick<HandlerMap, AdminOperation> {
  return {
    getCleanupStats: notImplemented('getCleanupStats'),
    neutralizeDueRuns: notImplemented('neutralizeDueRuns'),
  };
}
