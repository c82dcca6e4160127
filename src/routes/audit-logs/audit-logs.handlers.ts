import type { Container } from '../../container.ts';
import type { HandlerMap } from '../../contract.ts';
import { notImplemented } from '../not-implemented.ts';

type AuditLogsOperation = 'listAuditLogs' | 'listAuditLogUsers' | 'listAuditLogActions' | 'getAuditLogStats';

/** Handlers of the `audit-logs` tag. Operations still answering 501 belong to a later issue. */
export function auditLogsHandlers(_container: Container): Pick<HandlerMap, AuditLogsOperation> {
  return {
    listAuditLogs: notImplemented('listAuditLogs'),
    listAuditLogUsers: notImplemented('listAuditLogUsers'),
    listAuditLogActions: notImplemented('listAuditLogActions'),
    getAuditLogStats: notImplemented('getAuditLogStats'),
  };
}
