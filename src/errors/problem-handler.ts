import type { ErrorRequestHandler, Request, Response } from 'express';
import {
  ConnectionException,
  DeadlockException,
  ForeignKeyConstraintViolationException,
  LockWaitTimeoutException,
  UniqueConstraintViolationException,
} from '@mikro-orm/core';
import { DomainError, type ValidationIssue } from './domain-errors.ts';
import { PROBLEM_TYPES, problemTypeUri, type ErrorType } from './problem-types.ts';
import type { Logger } from '../logger.ts';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  status_code: number;
  error_type: ErrorType;
  timestamp: string;
  request_id?: string;
  errors?: ValidationIssue[];
}

/** Shape of the errors express-openapi-validator throws (HttpError subclasses). */
interface ValidatorError {
  status: number;
  message: string;
  errors: { path?: string; message: string; errorCode?: string }[];
  headers?: Record<string, string>;
}

/** Shape of the errors body-parser throws. */
interface BodyParserError {
  type?: string;
  status?: number;
  message: string;
}

/** The RFC 9457 body of a problem, with the original service's members (one shape for every error). */
export function problemBody(
  errorType: ErrorType,
  detail: string,
  instance: string,
  requestId: string | undefined,
  errors?: readonly ValidationIssue[],
): ProblemBody {
  const { status, title } = PROBLEM_TYPES[errorType];
  return {
    type: problemTypeUri(errorType),
    title,
    status,
    detail,
    instance,
    status_code: status,
    error_type: errorType,
    timestamp: new Date().toISOString(),
    ...(requestId === undefined ? {} : { request_id: requestId }),
    ...(errors === undefined ? {} : { errors: [...errors] }),
  };
}

export function sendProblem(
  req: Request,
  res: Response,
  errorType: ErrorType,
  detail: string,
  extra: { errors?: readonly ValidationIssue[]; headers?: Readonly<Record<string, string>> } = {},
): void {
  const body = problemBody(
    errorType,
    detail,
    req.originalUrl.split('?')[0] ?? req.path,
    res.locals['requestId'] as string | undefined,
    extra.errors,
  );
  for (const [name, value] of Object.entries(extra.headers ?? {})) res.setHeader(name, value);
  res.status(body.status).type('application/problem+json').send(JSON.stringify(body));
}

/**
 * The one translator from thrown errors to RFC 9457 responses. Domain errors carry their kind; the
 * validator's and body-parser's errors are recognised by shape; anything else is a 500 whose details go
 * to the log (with the request id), never to the client.
 */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    if (err instanceof DomainError) {
      sendProblem(req, res, err.errorType, err.message, { errors: err.errors, headers: err.headers });
      return;
    }
    if (isValidatorError(err)) {
      const handled = translateValidatorError(err);
      if (handled !== undefined) {
        if (handled.type === 'internal_error') {
          logger.error('response broke the contract', {
            method: req.method,
            path: req.path,
            errors: err.errors,
          });
        }
        sendProblem(req, res, handled.type, handled.detail, handled);
        return;
      }
    }
    if (isBodyParserError(err)) {
      const kind = bodyParserKind(err);
      if (kind !== undefined) {
        sendProblem(req, res, kind.type, kind.detail);
        return;
      }
    }
    const database = databaseProblem(err);
    if (database !== undefined) {
      logger.error('database error', {
        method: req.method,
        path: req.path,
        error: err instanceof Error ? { name: err.name, message: err.message } : String(err),
      });
      sendProblem(req, res, database.type, database.detail, database);
      return;
    }
    logger.error('unhandled error', {
      method: req.method,
      path: req.path,
      error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
    });
    sendProblem(
      req,
      res,
      'internal_error',
      'An unexpected error occurred; quote the request id when reporting it',
    );
  };
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
]);

/**
 * Database failures a client can act on: a race on a unique or foreign key is a conflict (services check
 * first; this catches the race between check and write); an unreachable or busy database is temporary,
 * so the client gets 503 with Retry-After instead of a 500.
 */
function databaseProblem(
  err: unknown,
): { type: ErrorType; detail: string; headers?: Record<string, string> } | undefined {
  if (err instanceof UniqueConstraintViolationException) {
    return { type: 'conflict', detail: 'A resource with the same unique values already exists' };
  }
  if (err instanceof ForeignKeyConstraintViolationException) {
    return { type: 'conflict', detail: 'The change conflicts with a related resource' };
  }
  if (err instanceof DeadlockException || err instanceof LockWaitTimeoutException) {
    return {
      type: 'service_unavailable',
      detail: 'The database is busy; retry shortly',
      headers: { 'Retry-After': '1' },
    };
  }
  if (isDatabaseBusyTimeout(err)) {
    return {
      type: 'service_unavailable',
      detail: 'Every database connection is busy; retry shortly',
      headers: { 'Retry-After': '1' },
    };
  }
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (err instanceof ConnectionException || (typeof code === 'string' && UNREACHABLE.has(code))) {
    return {
      type: 'service_unavailable',
      detail: 'The database is unavailable; retry shortly',
      headers: { 'Retry-After': '5' },
    };
  }
  return undefined;
}

/**
 * No pooled connection came free within the acquire timeout (orm-config.ts) — pg-pool's error, tarn's on
 * SQL Server, also as MikroORM's DriverException wrapping them — or a SQL Server query ran into tedious's
 * request timeout (waiting for a lock) and was cancelled.
 */
const BUSY_MESSAGES = [
  'timeout exceeded when trying to connect',
  'operation timed out for an unknown reason',
  'Failed to cancel request in',
  'Request failed to complete in',
];

function isDatabaseBusyTimeout(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { name, message, code } = err as { name?: unknown; message?: unknown; code?: unknown };
  return (
    (typeof message === 'string' && BUSY_MESSAGES.some((text) => message.includes(text))) ||
    name === 'TimeoutError' ||
    code === 'ETIMEOUT'
  );
}

function isValidatorError(err: unknown): err is ValidatorError {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as ValidatorError).status === 'number' &&
    Array.isArray((err as ValidatorError).errors)
  );
}

/** body-parser's errors are http-errors: a 4xx `status`, often a `type`. */
function isBodyParserError(err: unknown): err is BodyParserError {
  if (typeof err !== 'object' || err === null) return false;
  const { type, status } = err as BodyParserError;
  return typeof type === 'string' || (typeof status === 'number' && status >= 400 && status < 500);
}

/** Every way reading a body can fail is the client's: a 4xx problem, never a 500. */
function bodyParserKind(err: BodyParserError): { type: ErrorType; detail: string } | undefined {
  switch (err.type) {
    case 'entity.parse.failed':
      return { type: 'bad_request', detail: 'The request body is not valid JSON' };
    case 'entity.too.large':
      return { type: 'payload_too_large', detail: 'The request body is larger than the configured limit' };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { type: 'unsupported_media_type', detail: err.message };
    case 'request.aborted':
      return { type: 'bad_request', detail: 'The request body ended early' };
    case 'request.size.invalid':
      return { type: 'bad_request', detail: 'The request body is not as long as its Content-Length says' };
    default:
      break;
  }
  if (err.status === 413) return { type: 'payload_too_large', detail: 'The request body is too large' };
  if (err.status === 415) return { type: 'unsupported_media_type', detail: err.message };
  if (err.status !== undefined && err.status >= 400 && err.status < 500) {
    // zlib's errors (a body declared gzip/deflate/br that is not) carry no type.
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && code.startsWith('Z_')
      ? { type: 'bad_request', detail: 'The request body does not match its Content-Encoding' }
      : { type: 'bad_request', detail: 'The request body could not be read' };
  }
  return undefined;
}

const LOCATIONS: Record<string, ValidationIssue['location']> = {
  body: 'body',
  query: 'query',
  params: 'path',
  path: 'path',
  headers: 'header',
};

function translateValidatorError(
  err: ValidatorError,
):
  | { type: ErrorType; detail: string; errors?: ValidationIssue[]; headers?: Record<string, string> }
  | undefined {
  switch (err.status) {
    case 400: {
      const errors = err.errors.map(toIssue);
      const count = errors.length === 1 ? '1 problem' : `${errors.length} problems`;
      return { type: 'validation_error', detail: `Request validation failed: ${count}`, errors };
    }
    case 404:
      return { type: 'not_found', detail: 'No such endpoint' };
    case 405:
      return {
        type: 'method_not_allowed',
        detail: err.message,
        ...(err.headers ? { headers: err.headers } : {}),
      };
    case 413:
      return { type: 'payload_too_large', detail: err.message };
    case 415:
      return { type: 'unsupported_media_type', detail: err.message };
    case 500:
      return { type: 'internal_error', detail: 'The server produced a response that breaks its contract' };
    default:
      return undefined;
  }
}

function toIssue(error: { path?: string; message: string; errorCode?: string }): ValidationIssue {
  const [, where = 'body', ...rest] = (error.path ?? '/body').split('/');
  const location = LOCATIONS[where] ?? 'body';
  const field = location === 'body' ? '/' + rest.join('/') : rest.join('.');
  const code = error.errorCode?.replace(/\.openapi\.validation$/, '');
  return {
    location,
    ...(field === '' || field === '/' ? {} : { field }),
    message: error.message,
    ...(code === undefined ? {} : { code }),
  };
}
