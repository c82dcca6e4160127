/**
 * One attempt of a rerun's outbound call (REQUIREMENTS §5): a JSON POST or PUT to an allow-listed target,
 * classified into an outcome the job worker decides on (retry, wait, give up). No database, no retries
 * here: the worker owns those.
 *
 * Deliberate limits: TLS is always verified; redirects are not followed (a redirect could leave the
 * allow-list); one attempt has one deadline covering connect, request and the whole response; at most
 * 8 KiB of the answer is read, for the message only.
 */
import { request as httpRequest, STATUS_CODES, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import {
  ADDRESS_REFUSED_CODE,
  checkTargetUrl,
  createGuardedLookup,
  type OutboundPolicy,
} from './outbound-guard.ts';

/** The failure kinds of an attempt. */
export type FailureKind =
  'network_error' | 'timeout' | 'rate_limit' | 'server_error' | 'client_error' | 'refused';

/**
 * What one attempt came to; `message` is one line, safe to show (no secrets, no query), and may end with an
 * excerpt of the answer's body; `summary` is the same without that excerpt, for records that must not hold
 * what the external system echoed (it may be personal data).
 */
export type AttemptOutcome =
  | { kind: 'success'; status: number; durationMs: number }
  | {
      kind: FailureKind;
      status?: number;
      retryAfterSeconds?: number;
      message: string;
      summary?: string;
      durationMs: number;
    };

/** One outbound call to make. */
export interface OutboundRequest {
  method: 'POST' | 'PUT';
  url: string;
  /** Extra headers (e.g. Authorization); Content-Type, Content-Length and User-Agent are always ours. */
  headers: Record<string, string>;
  /** Sent as JSON (undefined as `null`). */
  body: unknown;
  /** Deadline of the whole attempt; fractions allowed. */
  timeoutSeconds: number;
  /** Which statuses count as success; default: 2xx. */
  successStatuses?: (status: number) => boolean;
}

/** User-Agent of every rerun call. */
export const RERUN_USER_AGENT = 'process-dashboard-api-rerun/1';

const MAX_BODY_BYTES = 8 * 1024;
const MAX_EXCERPT_CHARS = 300;
const MAX_RETRY_AFTER_SECONDS = 86_400;
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Headers the caller may not set: they describe the connection or the body, which are ours. */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'user-agent',
]);

type Draft =
  | { kind: 'success'; status: number }
  | { kind: FailureKind; status?: number; retryAfterSeconds?: number; message: string; summary?: string };

/**
 * Makes one attempt of `request` under `policy` and classifies it; never throws. 2xx (or
 * `successStatuses`) is success; 429 is `rate_limit` with `Retry-After`; 5xx `server_error`; other
 * statuses `client_error` (3xx too: redirects are not followed); connection and TLS failures
 * `network_error`; no answer in time `timeout`; the SSRF guard or an unsendable request `refused`.
 */
export async function callTarget(request: OutboundRequest, policy: OutboundPolicy): Promise<AttemptOutcome> {
  const started = performance.now();
  const draft = await attempt(request, policy).catch((error: unknown): Draft => ({
    kind: 'network_error',
    message: `The call failed unexpectedly: ${describe(error)}`,
  }));
  return { ...draft, durationMs: Math.round(performance.now() - started) };
}

async function attempt(request: OutboundRequest, policy: OutboundPolicy): Promise<Draft> {
  const check = checkTargetUrl(request.url, policy);
  if (!check.ok) return { kind: 'refused', message: check.reason };
  const timeoutMs = request.timeoutSeconds * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    return {
      kind: 'refused',
      message: `The timeout must be a positive number of seconds, not ${request.timeoutSeconds}.`,
    };
  }
  const payload = serialise(request.body);
  if (payload === undefined)
    return { kind: 'refused', message: 'The request body cannot be serialised as JSON.' };
  const lookup = createGuardedLookup({ allowPrivateAddresses: check.allowPrivateAddresses });
  // net.connect skips `lookup` for an IP literal, so a literal host goes through the same check here.
  const hostname = check.url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(hostname) !== 0) {
    const refusal = await lookupError(lookup, hostname);
    if (refusal !== undefined) return { kind: 'refused', message: refusal.message };
  }
  return send({ request, url: check.url, hostname, payload, lookup, timeoutMs });
}

function serialise(body: unknown): Buffer | undefined {
  try {
    return Buffer.from(JSON.stringify(body ?? null), 'utf8');
  } catch {
    return undefined;
  }
}

function lookupError(lookup: LookupFunction, hostname: string): Promise<Error | undefined> {
  return new Promise((resolve) => {
    lookup(hostname, { all: true }, (error) => resolve(error ?? undefined));
  });
}

interface Sending {
  request: OutboundRequest;
  url: URL;
  hostname: string;
  payload: Buffer;
  lookup: LookupFunction;
  timeoutMs: number;
}

function send({ request, url, hostname, payload, lookup, timeoutMs }: Sending): Promise<Draft> {
  return new Promise((resolve) => {
    let settled = false;
    let req: ClientRequest | undefined;
    const settle = (draft: Draft): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(draft);
      req?.destroy();
    };
    const timer = setTimeout(
      () => {
        settle({
          kind: 'timeout',
          message: `${url.hostname} did not answer completely within ${request.timeoutSeconds} s.`,
        });
      },
      Math.min(timeoutMs, MAX_TIMER_MS),
    );
    try {
      req = (url.protocol === 'https:' ? httpsRequest : httpRequest)({
        protocol: url.protocol,
        hostname,
        port: url.port === '' ? undefined : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method: request.method,
        headers: outgoingHeaders(request.headers, payload.length),
        lookup,
        // A fresh connection per attempt: a pooled socket would skip the connect-time address check.
        agent: false,
        // Explicit, so NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment cannot turn verification off.
        rejectUnauthorized: true,
      });
    } catch (error) {
      settle({ kind: 'refused', message: `The request could not be sent: ${describe(error)}` });
      return;
    }
    req.on('error', (error) => settle(classifyError(error, url.hostname)));
    req.on('response', (res) => readAnswer(res, request, url.hostname, settle));
    req.end(payload);
  });
}

function outgoingHeaders(headers: Record<string, string>, contentLength: number): Record<string, string> {
  const outgoing: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!RESERVED_HEADERS.has(name.toLowerCase())) outgoing[name.toLowerCase()] = value;
  }
  return {
    ...outgoing,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(contentLength),
    'user-agent': RERUN_USER_AGENT,
  };
}

function readAnswer(
  res: IncomingMessage,
  request: OutboundRequest,
  host: string,
  settle: (draft: Draft) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const done = (): void => {
    const draft = classifyAnswer(res, Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES), request, host);
    settle(draft.kind === 'success' ? draft : { ...draft, summary: answerSummary(res, host) });
  };
  res.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= MAX_BODY_BYTES) done();
  });
  res.on('end', done);
  res.on('error', (error) => settle(classifyError(error, host)));
}

/** `host answered 503 Service Unavailable`: an answer without its body. */
function answerSummary(res: IncomingMessage, host: string): string {
  const status = res.statusCode ?? 0;
  return `${host} answered ${status}${STATUS_CODES[status] === undefined ? '' : ` ${STATUS_CODES[status]}`}`;
}

function classifyAnswer(res: IncomingMessage, body: Buffer, request: OutboundRequest, host: string): Draft {
  const status = res.statusCode ?? 0;
  if (isSuccessStatus(status, request.successStatuses)) return { kind: 'success', status };
  const answered = answerSummary(res, host);
  const excerpt = bodyExcerpt(body);
  const withBody = (text: string): string => (excerpt === '' ? `${text}.` : `${text}: ${excerpt}`);
  if (status === 429) {
    const retryAfterSeconds = parseRetryAfter(headerValue(res, 'retry-after'));
    return { kind: 'rate_limit', status, retryAfterSeconds, message: withBody(answered) };
  }
  if (status >= 500) return { kind: 'server_error', status, message: withBody(answered) };
  if (status >= 300 && status <= 399) {
    return { kind: 'client_error', status, message: `${answered}; redirects are not followed.` };
  }
  if (status >= 200 && status <= 299) {
    return {
      kind: 'client_error',
      status,
      message: withBody(`${answered}, which is not a success status for this target`),
    };
  }
  return { kind: 'client_error', status, message: withBody(answered) };
}

function isSuccessStatus(status: number, successStatuses: OutboundRequest['successStatuses']): boolean {
  if (successStatuses === undefined) return status >= 200 && status <= 299;
  try {
    return successStatuses(status);
  } catch {
    // Runs in an event handler, where a throw would escape the attempt; a broken predicate accepts nothing.
    return false;
  }
}

function headerValue(res: IncomingMessage, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * A short excerpt of an answer's body for a message: one line, no control or format characters
 * (a body cannot forge log lines or reorder text), at most 300 characters.
 */
export function bodyExcerpt(body: Buffer): string {
  const text = body
    .toString('utf8')
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = Array.from(text);
  return chars.length <= MAX_EXCERPT_CHARS ? text : `${chars.slice(0, MAX_EXCERPT_CHARS - 1).join('')}…`;
}

/**
 * Seconds to wait from a `Retry-After` value (delta-seconds or HTTP-date, RFC 9110 §10.2.3), clamped to
 * 0..86400; undefined when absent or not one of those forms.
 */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  const text = value?.trim() ?? '';
  if (/^\d+$/.test(text)) return Math.min(Number(text), MAX_RETRY_AFTER_SECONDS);
  // The three HTTP-date forms all start with a day name; Date.parse alone would take "1.5" as a date.
  if (!/^(mon|tue|wed|thu|fri|sat|sun)[a-z]*,? /i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(Math.ceil((at - now) / 1000), 0), MAX_RETRY_AFTER_SECONDS);
}

function classifyError(error: Error, host: string): Draft {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (code === ADDRESS_REFUSED_CODE) return { kind: 'refused', message: error.message };
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_CERT/.test(code)) {
    return {
      kind: 'network_error',
      // Node appends advice for its own command line ("; … try running Node.js with --use-system-ca").
      message: `The TLS certificate of ${host} was refused: ${oneLine(error.message.split(';')[0] ?? '')} (${code}).`,
    };
  }
  return { kind: 'network_error', message: `Could not complete the call to ${host}: ${describe(error)}` };
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown error.';
  const code = (error as NodeJS.ErrnoException).code;
  return `${oneLine(error.message)}${code === undefined || error.message.includes(code) ? '' : ` (${code})`}.`;
}

function oneLine(text: string): string {
  return bodyExcerpt(Buffer.from(text, 'utf8'));
}

/**
 * Seconds to wait before the next attempt: the configured delay, or for `rate_limit` the larger of it and
 * the target's `Retry-After`.
 */
export function retryDelaySeconds(outcome: AttemptOutcome, configuredDelay: number): number {
  if (outcome.kind !== 'rate_limit') return configuredDelay;
  return Math.max(configuredDelay, outcome.retryAfterSeconds ?? 0);
}
