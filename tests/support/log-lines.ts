/** The members of an access-log line, and nothing else (no headers, no query string, no key). */
export const ACCESS_LOG_MEMBERS = [
  'api_key_id',
  'duration_ms',
  'level',
  'message',
  'method',
  'path',
  'request_id',
  'status',
  'time',
].sort();
