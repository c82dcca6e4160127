import type { Container } from '../container.ts';
import type { HandlerMap } from '../contract.ts';
import { adminHandlers } from './admin/admin.handlers.ts';
import { apiKeysHandlers } from './api-keys/api-keys.handlers.ts';
import { auditLogsHandlers } from './audit-logs/audit-logs.handlers.ts';
import { authHandlers } from './auth/auth.handlers.ts';
import { dashboardHandlers } from './dashboard/dashboard.handlers.ts';
import { metaHandlers } from './meta/meta.handlers.ts';
import { processesHandlers } from './processes/processes.handlers.ts';
import { runsHandlers } from './runs/runs.handlers.ts';
import { stepRunsHandlers } from './step-runs/step-runs.handlers.ts';
import { stepsHandlers } from './steps/steps.handlers.ts';

/**
 * One handler per operationId of the spec. `satisfies HandlerMap` makes a missing (or misspelt) handler a
 * compile error; createApp routes exactly the spec's operations, so an undocumented route cannot exist.
 */
export function createHandlers(container: Container): HandlerMap {
  return {
    ...metaHandlers(container),
    ...processesHandlers(container),
    ...stepsHandlers(container),
    ...runsHandlers(container),
    ...stepRunsHandlers(container),
    ...dashboardHandlers(container),
    ...authHandlers(container),
    ...apiKeysHandlers(container),
    ...adminHandlers(container),
    ...auditLogsHandlers(container),
  } satisfies HandlerMap;
}
