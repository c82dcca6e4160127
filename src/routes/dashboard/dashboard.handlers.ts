import type { Container } from '../../container.ts';
import type { HandlerMap } from '../../contract.ts';
import { notImplemented } from '../not-implemented.ts';

type DashboardOperation = 'getProcessDashboard' | 'getProcessOverview';

/** Handlers of the `dashboard` tag. Operations still answering 501 belong to a later issue. */
export function dashboardHandlers(_container: Container): Pick<HandlerMap, DashboardOperation> {
  return {
    getProcessDashboard: notImplemented('getProcessDashboard'),
    getProcessOverview: notImplemented('getProcessOverview'),
  };
}
