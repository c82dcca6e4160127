/**
 * The catalog of problem types: one `type` URI and `title` per `error_type`. `problem-handler.ts` is the
 * only place that turns errors into responses; everything else throws the domain errors below.
 */
export const PROBLEM_BASE_URI = 'https://process-dashboard.dev/problems/';

export const PROBLEM_TYPES = {
  validation_error: { status: 422, title: 'Validation failed' },
  bad_request: { status: 400, title: 'Bad request' },
  authentication_error: { status: 401, title: 'Authentication required' },
  authorization_error: { status: 403, title: 'Insufficient permissions' },
  not_found: { status: 404, title: 'Resource not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  request_timeout: { status: 408, title: 'Request timeout' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal_error: { status: 500, title: 'Internal server error' },
  not_implemented: { status: 501, title: 'Not implemented yet' },
  service_unavailable: { status: 503, title: 'Service unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorType = keyof typeof PROBLEM_TYPES;

export function problemTypeUri(errorType: ErrorType): string {
  return PROBLEM_BASE_URI + errorType.replaceAll('_', '-');
}
