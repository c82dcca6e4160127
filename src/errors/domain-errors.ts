import type { ErrorType } from './problem-types.ts';

export interface ValidationIssue {
  location: 'body' | 'query' | 'path' | 'header';
  field?: string;
  message: string;
  code?: string;
}

/** Base of every error the app throws on purpose; the problem handler maps `errorType` to a status. */
export class DomainError extends Error {
  readonly errorType: ErrorType;
  readonly errors: readonly ValidationIssue[] | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    errorType: ErrorType,
    message: string,
    options: { errors?: readonly ValidationIssue[]; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = new.target.name;
    this.errorType = errorType;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }
}

export class BadRequestError extends DomainError {
  constructor(message: string) {
    super('bad_request', message);
  }
}

export class ValidationError extends DomainError {
  constructor(message: string, errors: readonly ValidationIssue[]) {
    super('validation_error', message, { errors });
  }
}

export class UnauthorizedError extends DomainError {
  constructor(message = 'Invalid or expired API key') {
    super('authentication_error', message, { headers: { 'WWW-Authenticate': 'ApiKey' } });
  }
}

export class ForbiddenError extends DomainError {
  constructor(message = 'This operation requires the admin role') {
    super('authorization_error', message);
  }
}

export class NotFoundError extends DomainError {
  constructor(message: string) {
    super('not_found', message);
  }
}

export class ConflictError extends DomainError {
  constructor(message: string) {
    super('conflict', message);
  }
}

export class NotImplementedError extends DomainError {
  constructor(operationId: string) {
    super('not_implemented', `Operation ${operationId} is part of the contract but not implemented yet`);
  }
}

export class ServiceUnavailableError extends DomainError {
  constructor(message: string, retryAfterSeconds: number) {
    super('service_unavailable', message, { headers: { 'Retry-After': String(retryAfterSeconds) } });
  }
}

export class TooManyRequestsError extends DomainError {
  constructor(message: string, retryAfterSeconds: number, headers: Record<string, string> = {}) {
    super('rate_limited', message, { headers: { ...headers, 'Retry-After': String(retryAfterSeconds) } });
  }
}

export class PayloadTooLargeError extends DomainError {
  constructor(message: string) {
    // The announced body is not read: the connection closes after the answer.
    super('payload_too_large', message, { headers: { Connection: 'close' } });
  }
}
