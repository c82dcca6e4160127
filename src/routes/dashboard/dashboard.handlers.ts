import type { Container } from '../../container.ts';
import type { HandlerMap } from '../../contract.ts';
import { onReadConnections } from '../../db/sqlite-readers.ts';
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
      const dashboard = await onReadConnections(() =>
        dashboards.dashboard(container.em(), req.params.process_id, limit),
      );
      res.json(toProcessDashboard(dashboard));
    },
    getProcessOverview: async (req, res) => {
      const limit = req.query.runs_limit ?? DEFAULT_RUNS_LIMIT;
      // On the main connection: its cost is the 1,000 runs it embeds (2.3 MB), which a thread would have
      // to hand over (at a million runs on two cores: 13 → 11 calls/s on read connections).
      res.json(toProcessOverview(await dashboards.overview(container.em(), req.params.process_id, limit)));
    },
  };
}
