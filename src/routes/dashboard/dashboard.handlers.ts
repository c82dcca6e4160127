import type { Container } from '../../container.ts';
import type { HandlerMap } from '../../contract.ts';
import { toProcessDashboard, toProcessOverview } from './dashboard.mapper.ts';

type DashboardOperation = 'getProcessDashboard' | 'getProcessOverview';

/** The contract's default of `runs_limit`. */
const DEFAULT_RUNS_LIMIT = 1000;

/** Handlers of the `dashboard` tag. */
export function dashboardHandlers(container: Container): Pick<HandlerMap, DashboardOperation> {
  const { dashboards } = container;
  return {
    getProcessDashboard: async (req, res) => {
      const limit = req.query.runs_limit ?? DEFAULT_RUNS_LIMIT;
      res.json(toProcessDashboard(await dashboards.dashboard(container.em(), req.params.process_id, limit)));
    },
    getProcessOverview: async (req, res) => {
      const limit = req.query.runs_limit ?? DEFAULT_RUNS_LIMIT;
      res.json(toProcessOverview(await dashboards.overview(container.em(), req.params.process_id, limit)));
    },
  };
}
