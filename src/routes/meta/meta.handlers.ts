import type { Container } from '../../container.ts';
import type { HandlerMap } from '../../contract.ts';
import { principalOf } from '../../auth/authenticate.ts';
import { ServiceUnavailableError } from '../../errors/domain-errors.ts';
import { SERVICE_DESCRIPTION, SERVICE_FEATURES, SERVICE_NAME, SERVICE_VERSION } from '../../version.ts';

/** `GET /` and `GET /health`: no key needed; `/health` adds details for a valid key. */
export function metaHandlers(container: Container): Pick<HandlerMap, 'getServiceInfo' | 'getHealth'> {
  return {
    getServiceInfo: (_req, res) => {
      res.json({
        status: 'healthy',
        app_name: SERVICE_NAME,
        app_version: SERVICE_VERSION,
        name: SERVICE_NAME,
        version: SERVICE_VERSION,
        description: SERVICE_DESCRIPTION,
        environment: container.config.environment,
        features: [...SERVICE_FEATURES],
        docs_url: '/docs',
        openapi_url: '/openapi.json',
      });
    },
    getHealth: async (_req, res) => {
      if (!(await databaseAnswers(container))) {
        throw new ServiceUnavailableError('The database is unreachable; retry shortly', 5);
      }
      if (principalOf(res) === undefined) {
        res.json({ status: 'ok' });
        return;
      }
      const uptimeSeconds = Math.floor((Date.now() - container.startedAt.getTime()) / 1000);
      res.json({
        status: 'healthy',
        timestamp: new Date().toISOString(),
        version: SERVICE_VERSION,
        database: 'connected',
        uptime: formatUptime(uptimeSeconds),
        uptime_seconds: uptimeSeconds,
      });
    },
  };
}

async function databaseAnswers(container: Container): Promise<boolean> {
  try {
    await container.em().getConnection().execute('select 1 as ok');
    return true;
  } catch (error) {
    container.logger.error('health check: database did not answer', { error: String(error) });
    return false;
  }
}

export function formatUptime(seconds: number): string {
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3_600);
  const minutes = Math.floor((seconds % 3_600) / 60);
  return `${days}d ${hours}h ${minutes}m`;
}
