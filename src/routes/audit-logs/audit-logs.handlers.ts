import type { Container } from '../../container.ts';
import type { HandlerMap, QueryParams } from '../../contract.ts';
import type { AuditLogFilters } from '../../db/audit-log-queries.ts';
import { ormDialect } from '../../db/orm.ts';
import { BadRequestError } from '../../errors/domain-errors.ts';
import { AuditLogService } from '../../services/audit-log.service.ts';
import { parseTimestamp } from '../../util/timestamps.ts';
import { pageOffset, pageRequest, sendPageHeaders } from '../pagination.ts';
import { toAuditLog, toAuditLogStats } from './audit-logs.mapper.ts';

type AuditLogsOperation = 'listAuditLogs' | 'listAuditLogUsers' | 'listAuditLogActions' | 'getAuditLogStats';

/** The contract's default period of getAuditLogStats, in hours. */
const DEFAULT_STATS_HOURS = 24;

function timestamp(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = parseTimestamp(value);
  if (date === undefined) throw new BadRequestError(`${name} "${value}" is not a date or date-time`);
  return date;
}

function auditLogFilters(query: QueryParams<'listAuditLogs'>): AuditLogFilters {
  return {
    user_email: query.user_email,
    action: query.action,
    method: query.method,
    path: query.path,
    status_code: query.status_code,
    min_duration: query.min_duration,
    api_key_id: query.api_key_id,
    role: query.role,
    operation_id: query.operation_id,
    created_after: timestamp('created_after', query.created_after),
    created_before: timestamp('created_before', query.created_before),
    resource_type: query.resource_type,
    resource_id: query.resource_id,
  };
}

/** Handlers of the `audit-logs` tag: reading the audit trail (admin only; the router checks the role). */
export function auditLogsHandlers(container: Container): Pick<HandlerMap, AuditLogsOperation> {
  const auditLogs = new AuditLogService({ dialect: ormDialect(container.orm) });
  return {
    listAuditLogs: async (req, res) => {
      const page = pageRequest(req.query);
      const { items, total } = await auditLogs.list(container.em(), {
        filters: auditLogFilters(req.query),
        offset: pageOffset(page),
        limit: page.size,
      });
      const meta = sendPageHeaders(req, res, page, total);
      res.json({ items: items.map(toAuditLog), ...meta });
    },
    listAuditLogUsers: async (_req, res) => {
      res.json(await auditLogs.distinctValues(container.em(), 'user_email'));
    },
    listAuditLogActions: async (_req, res) => {
      res.json(await auditLogs.distinctValues(container.em(), 'action'));
    },
    getAuditLogStats: async (req, res) => {
      const stats = await auditLogs.statistics(container.em(), {
        hours: req.query.hours ?? DEFAULT_STATS_HOURS,
        ...(req.query.user_email === undefined ? {} : { user_email: req.query.user_email }),
      });
      res.json(toAuditLogStats(stats));
    },
  };
}
