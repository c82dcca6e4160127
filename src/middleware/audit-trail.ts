/**
 * The audit trail (REQUIREMENTS §6, the original's audit middleware): one entry per request once its
 * response is finished — every `/api/v1` request, successful or refused, failed authentications included;
 * not `/`, `/health` or the documentation. Recording is an append to AuditRecorder's queue: no database
 * round trip on the request's path.
 *
 * Never recorded: API keys or their hashes (only the key's id and name), request or response bodies, and
 * the personal data of runs — a write is summarised by the NAMES of the body members sent, and query
 * parameters are kept by value only when they cannot carry personal data (`SAFE_QUERY_PARAMETERS`); any
 * other value becomes `[REDACTED]` (`entity_name=Jens Hansen`, `meta_filter=cpr:…`, `q=…`).
 */
import { performance } from 'node:perf_hooks';
import type { Request, RequestHandler, Response } from 'express';
import { principalOf } from '../auth/authenticate.ts';
import type { AuditEntry, AuditRecorder } from '../services/audit-recorder.ts';
import { rawQuery, routedOperation, sentBodyMembers, UNMETERED_OPERATIONS } from './operation-router.ts';

/** Query parameters whose values never hold personal data: ids, paging, sorting, switches, periods. */
const SAFE_QUERY_PARAMETERS = new Set([
  'page',
  'size',
  'limit',
  'batch_size',
  'dry_run',
  'process_id',
  'run_id',
  'step_id',
  'status',
  'run_status',
  'failed_at',
  'order_by',
  'sort_direction',
  'runs_limit',
  'hours',
  'include_deleted',
  'created_after',
  'created_before',
  'started_after',
  'started_before',
  'finished_after',
  'finished_before',
  'method',
  'role',
  'operation_id',
  'status_code',
  'min_duration',
  'api_key_id',
  'resource_type',
  'resource_id',
]);

export const REDACTED = '[REDACTED]';

/** The path parameter naming the resource an operation addresses, and that resource's type. */
const RESOURCE_PARAMETERS: readonly [parameter: string, type: string][] = [
  ['step_run_id', 'step_run'],
  ['run_id', 'run'],
  ['step_id', 'step'],
  ['process_id', 'process'],
  ['key_id', 'api_key'],
];

/** The resource type a collection path creates into (POST answered 201 with the new item's id). */
const CREATED_TYPES: Readonly<Record<string, string>> = {
  createProcess: 'process',
  createStep: 'step',
  createRun: 'run',
  createStepRun: 'step_run',
  createApiKey: 'api_key',
};

/** A header value fit for a column: control characters become spaces, trimmed, at most `max` characters. */
function headerText(req: Request, name: string, max: number): string | null {
  const value = req
    .get(name)
    ?.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ')
    .trim();
  return value ? value.slice(0, max) : null;
}

function queryParameters(req: Request): Record<string, unknown> | null {
  const result: Record<string, string | string[]> = {};
  for (const [name, value] of rawQuery(req)) {
    const shown = SAFE_QUERY_PARAMETERS.has(name) ? value.slice(0, 200) : REDACTED;
    const previous = result[name];
    if (previous === undefined) result[name] = shown;
    else result[name] = Array.isArray(previous) ? [...previous, shown] : [previous, shown];
  }
  return Object.keys(result).length === 0 ? null : result;
}

interface Captured {
  createdId?: number;
  problemDetail?: string;
}

/** Keeps what the audit entry needs from the response body: a created item's id, a problem's detail. */
function captureBody(res: Response, captured: Captured): void {
  const send = res.send.bind(res);
  res.send = (body?: unknown) => {
    if (typeof body === 'string' && res.statusCode >= 400 && body.startsWith('{')) {
      try {
        const detail = (JSON.parse(body) as { detail?: unknown }).detail;
        if (typeof detail === 'string') captured.problemDetail = detail.slice(0, 2000);
      } catch {
        // Not JSON: no detail to keep.
      }
    }
    return send(body);
  };
  const json = res.json.bind(res);
  res.json = (body?: unknown) => {
    if (res.statusCode === 201 && typeof body === 'object' && body !== null && 'id' in body) {
      const id = body.id;
      if (typeof id === 'number') captured.createdId = id;
    }
    return json(body);
  };
}

const AUDIT_CHANGES = 'auditChanges';

/**
 * Adds to the audit entry's `changes` what a handler knows the request changed beyond the members sent
 * (e.g. the runs a cleanup batch neutralised). Ids and settings only: never personal data.
 */
export function noteAuditChanges(res: Response, changes: Record<string, unknown>): void {
  res.locals[AUDIT_CHANGES] = {
    ...(res.locals[AUDIT_CHANGES] as Record<string, unknown> | undefined),
    ...changes,
  };
}

/** Whether the request is outside the audit trail: the service root, health and the documentation. */
function exempt(req: Request, res: Response): boolean {
  const operation = routedOperation(res);
  if (operation !== undefined) return UNMETERED_OPERATIONS.has(operation.operationId);
  return !req.path.toLowerCase().startsWith('/api/');
}

/** Middleware recording every request's entry into `recorder` when its response is finished. */
export function auditTrail(recorder: AuditRecorder): RequestHandler {
  return (req, res, next) => {
    const createdAt = new Date();
    const started = performance.now();
    const captured: Captured = {};
    captureBody(res, captured);
    res.once('finish', () => {
      if (exempt(req, res)) return;
      recorder.record(entryOf(req, res, captured, createdAt, performance.now() - started));
    });
    next();
  };
}

function entryOf(
  req: Request,
  res: Response,
  captured: Captured,
  createdAt: Date,
  durationMs: number,
): AuditEntry {
  const principal = principalOf(res);
  const operation = routedOperation(res);
  const params = (req as { openapi?: { pathParams?: Record<string, unknown> } }).openapi?.pathParams ?? {};
  let resourceType: string | null = null;
  let resourceId: string | null = null;
  for (const [parameter, type] of RESOURCE_PARAMETERS) {
    const value = params[parameter];
    const text = typeof value === 'number' || typeof value === 'string' ? String(value) : '';
    if (/^\d{1,18}$/.test(text)) {
      resourceType = type;
      resourceId = text;
      break;
    }
  }
  if (operation !== undefined && captured.createdId !== undefined && operation.operationId in CREATED_TYPES) {
    resourceType = CREATED_TYPES[operation.operationId]!;
    resourceId = String(captured.createdId);
  }
  const write = req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS';
  const members = [...sentBodyMembers(res)].sort();
  return {
    created_at: createdAt,
    api_key_id: principal?.keyId ?? null,
    api_key_name: principal?.name.slice(0, 100) ?? null,
    api_key_role: principal?.role ?? null,
    user_email: headerText(req, 'x-user', 255),
    action: headerText(req, 'x-action', 100),
    method: req.method.slice(0, 10),
    path: req.originalUrl.split('?')[0]!.slice(0, 2048),
    operation_id: operation?.operationId ?? null,
    query_params: queryParameters(req),
    resource_type: resourceType,
    resource_id: resourceId,
    status_code: res.statusCode,
    duration_ms: Math.round(durationMs * 1000) / 1000,
    ip_address: req.ip?.slice(0, 45) ?? null,
    user_agent: headerText(req, 'user-agent', 512),
    request_id: ((res.locals['requestId'] as string | undefined) ?? null)?.slice(0, 100) ?? null,
    error_message: res.statusCode >= 400 ? (captured.problemDetail ?? null) : null,
    changes:
      write && operation !== undefined
        ? {
            operation: operation.operationId,
            ...(members.length > 0 ? { members } : {}),
            ...(res.locals[AUDIT_CHANGES] as Record<string, unknown> | undefined),
          }
        : null,
  };
}
