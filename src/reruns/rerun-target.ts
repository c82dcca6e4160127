/**
 * Which external system a rerun calls and how (REQUIREMENTS §5), read from a step run's `rerun_config`
 * and the service's configuration: the generic HTTP target (`api_endpoint`, seed 000) or the original's
 * automation server (`workitem_id`). The rerun endpoint resolves it to refuse a rerun that could never be
 * executed (409); the worker resolves it again before every attempt, so a host taken off the allow-list
 * since is refused then.
 */
import type { Config } from '../config/config.ts';
import type { RerunAdapter } from '../entities/index.ts';
import type { FailureKind } from './outbound-call.ts';
import { checkTargetUrl, type OutboundPolicy } from './outbound-guard.ts';

/** The configuration a target is resolved with. */
export type RerunSettings = Pick<
  Config,
  'rerunAllowedHosts' | 'rerunAllowPrivateAddresses' | 'automationServerUrl' | 'automationServerToken'
>;

/** The failures `failure_conditions` may name, and which are retried when it is not given: all four. */
export const RETRYABLE_FAILURES = ['network_error', 'timeout', 'rate_limit', 'server_error'] as const;
type RetryableFailure = (typeof RETRYABLE_FAILURES)[number];

/** `timeout_seconds` when not given (the original's automation-server call also waited 30 s). */
export const DEFAULT_TIMEOUT_SECONDS = 30;
/** Bounds of the members a rerun reads from `rerun_config`. */
export const MAX_TIMEOUT_SECONDS = 3600;
export const MAX_RETRY_DELAYS = 20;
export const MAX_RETRY_DELAY_SECONDS = 86_400;

export interface RerunTarget {
  adapter: RerunAdapter;
  method: 'POST' | 'PUT';
  url: string;
  /** The URL as it may be shown and stored: scheme, host, port and path, never a query string. */
  shownUrl: string;
  /** Extra headers of the call (the automation server's bearer token). */
  headers: Record<string, string>;
  policy: OutboundPolicy;
  timeoutSeconds: number;
  /** Seconds to wait before each retry; one retry per entry. */
  retryDelays: readonly number[];
  /** The failures that are retried. */
  retriedFailures: ReadonlySet<FailureKind>;
  /** Which answers count as success: any 2xx for the HTTP target, exactly 200 for the automation server. */
  successStatuses: (status: number) => boolean;
}

export type TargetResolution = { ok: true; target: RerunTarget } | { ok: false; reason: string };

const refuse = (reason: string): TargetResolution => ({ ok: false, reason });

function shown(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function timeoutOf(value: unknown): number | string {
  if (value === undefined || value === null) return DEFAULT_TIMEOUT_SECONDS;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMEOUT_SECONDS) {
    return `rerun_config.timeout_seconds must be a number of seconds above 0 and at most ${MAX_TIMEOUT_SECONDS}`;
  }
  return value;
}

function retryDelaysOf(value: unknown): number[] | string {
  if (value === undefined || value === null) return [];
  if (
    !Array.isArray(value) ||
    value.length > MAX_RETRY_DELAYS ||
    !value.every(
      (delay) =>
        typeof delay === 'number' && Number.isFinite(delay) && delay >= 0 && delay <= MAX_RETRY_DELAY_SECONDS,
    )
  ) {
    return `rerun_config.retry_delays must be a list of at most ${MAX_RETRY_DELAYS} delays in seconds, each from 0 to ${MAX_RETRY_DELAY_SECONDS}`;
  }
  return value as number[];
}

function failureConditionsOf(value: unknown): Set<FailureKind> | string {
  if (value === undefined || value === null) return new Set(RETRYABLE_FAILURES);
  if (
    !Array.isArray(value) ||
    !value.every(
      (kind) => typeof kind === 'string' && (RETRYABLE_FAILURES as readonly string[]).includes(kind),
    )
  ) {
    return `rerun_config.failure_conditions must be a list of ${RETRYABLE_FAILURES.join(', ')}`;
  }
  return new Set(value as RetryableFailure[]);
}

/** The automation server's work item id: a non-negative integer or a short non-empty string. */
function workitemIdOf(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  if (typeof value === 'string' && value.trim() !== '' && value.length <= 200) return value.trim();
  return undefined;
}

/**
 * The target of a step run's `rerun_config`: `api_endpoint` when set, else `workitem_id`; with the
 * retry rules (`timeout_seconds`, `retry_delays`, `failure_conditions`) for either. A reason (for a 409
 * or a job's failure) when there is none, a member is not usable, or the host is not allowed.
 */
export function resolveRerunTarget(
  rerunConfig: Record<string, unknown>,
  settings: RerunSettings,
): TargetResolution {
  const timeoutSeconds = timeoutOf(rerunConfig['timeout_seconds']);
  if (typeof timeoutSeconds === 'string') return refuse(timeoutSeconds);
  const retryDelays = retryDelaysOf(rerunConfig['retry_delays']);
  if (typeof retryDelays === 'string') return refuse(retryDelays);
  const retriedFailures = failureConditionsOf(rerunConfig['failure_conditions']);
  if (typeof retriedFailures === 'string') return refuse(retriedFailures);
  const rules = { timeoutSeconds, retryDelays, retriedFailures };

  const endpoint = rerunConfig['api_endpoint'];
  if (endpoint !== undefined && endpoint !== null) {
    if (typeof endpoint !== 'string' || endpoint.trim() === '') {
      return refuse('rerun_config.api_endpoint must be an http(s) URL');
    }
    const policy: OutboundPolicy = {
      allowedHosts: settings.rerunAllowedHosts,
      allowPrivateAddresses: settings.rerunAllowPrivateAddresses,
    };
    const check = checkTargetUrl(endpoint.trim(), policy);
    if (!check.ok) return refuse(`rerun_config.api_endpoint is not allowed: ${check.reason}`);
    return {
      ok: true,
      target: {
        adapter: 'http',
        method: 'POST',
        url: check.url.href,
        shownUrl: shown(check.url),
        headers: {},
        policy,
        successStatuses: (status) => status >= 200 && status < 300,
        ...rules,
      },
    };
  }

  if (rerunConfig['workitem_id'] !== undefined && rerunConfig['workitem_id'] !== null) {
    const workitemId = workitemIdOf(rerunConfig['workitem_id']);
    if (workitemId === undefined) {
      return refuse('rerun_config.workitem_id must be a non-negative integer or a non-empty text');
    }
    if (settings.automationServerUrl === null) {
      return refuse(
        'rerun_config.workitem_id needs the automation server, and AUTOMATION_SERVER_URL is not configured',
      );
    }
    const base = new URL(settings.automationServerUrl);
    const url = new URL(`${settings.automationServerUrl}/workitems/${encodeURIComponent(workitemId)}/status`);
    // The administrator named this server in the configuration: it is allowed wherever it lives.
    const policy: OutboundPolicy = { allowedHosts: [base.host], allowPrivateAddresses: true };
    return {
      ok: true,
      target: {
        adapter: 'automation_server',
        method: 'PUT',
        url: url.href,
        shownUrl: shown(url),
        headers:
          settings.automationServerToken === null
            ? {}
            : { Authorization: `Bearer ${settings.automationServerToken}` },
        policy,
        successStatuses: (status) => status === 200,
        ...rules,
      },
    };
  }
  return refuse(
    'its rerun_config names no target: set api_endpoint (or workitem_id for the automation server)',
  );
}
