/**
 * The one seam over the generated contract: the bundled spec (read at run time by the validator and the
 * router) and the types openapi-typescript generated from it (used at compile time by handlers/mappers).
 */
import { readFileSync } from 'node:fs';
import type { Request, Response } from 'express';
import type { components, operations } from '../generated/types/api.ts';

export const BUNDLED_SPEC_PATH = new URL('../generated/openapi.json', import.meta.url).pathname;

export type OperationId = keyof operations;
export type Schemas = components['schemas'];
export type Role = 'admin' | 'user';
export type RequiredRole = 'admin' | 'any' | 'none';

type Operation<K extends OperationId> = operations[K];
type Parameters<K extends OperationId> = Operation<K>['parameters'];
type Defined<T, Fallback> = [T] extends [undefined]
  ? Fallback
  : [T] extends [never]
    ? Fallback
    : NonNullable<T>;

export type PathParams<K extends OperationId> = Defined<Parameters<K>['path'], Record<string, never>>;
export type QueryParams<K extends OperationId> = Defined<Parameters<K>['query'], Record<string, never>>;
export type RequestBody<K extends OperationId> =
  Operation<K> extends { requestBody?: { content: { 'application/json': infer B } } } ? B : undefined;
type Responses<K extends OperationId> = Operation<K>['responses'];
type JsonOf<R> = R extends { content: { 'application/json': infer B } } ? B : never;
/** The JSON body of the operation's 2xx responses. */
export type SuccessBody<K extends OperationId> = {
  [S in keyof Responses<K>]: S extends 200 | 201 | 202 ? JsonOf<Responses<K>[S]> : never;
}[keyof Responses<K>];

/** A route handler for one operation: validated input in, one service call, mapped output. */
export type Handler<K extends OperationId> = (
  req: Request<PathParams<K>, SuccessBody<K>, RequestBody<K>, QueryParams<K>>,
  res: Response<SuccessBody<K>>,
) => Promise<void> | void;

export type HandlerMap = { [K in OperationId]: Handler<K> };

export interface OperationRoute {
  readonly operationId: OperationId;
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** The spec's path template, e.g. `/api/v1/runs/{run_id}`. */
  readonly path: string;
  readonly requiredRole: RequiredRole;
  /** Whether the operation declares a request body (only then is a body read). */
  readonly hasBody: boolean;
  /** Case-sensitive, anchored; one capture group per path parameter, in `paramNames` order. */
  readonly matcher: RegExp;
  readonly paramNames: readonly string[];
}

/** The outcome of matching a request line against the contract. */
export type OperationMatch =
  | { readonly kind: 'operation'; readonly route: OperationRoute; readonly rawParams: Record<string, string> }
  /** The path exists, but not for this method: the methods it has (for 405 and `Allow`). */
  | { readonly kind: 'method_not_allowed'; readonly allowed: readonly string[] }
  | { readonly kind: 'none' };

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

export function loadBundledSpec(path = BUNDLED_SPEC_PATH): OpenApiDocument {
  return JSON.parse(readFileSync(path, 'utf8')) as OpenApiDocument;
}

/** Every (method, path, operationId) of the spec, with the role its `x-required-role` demands. */
export function listOperations(spec: OpenApiDocument): OperationRoute[] {
  const routes: OperationRoute[] = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of METHODS) {
      const operation = item[method] as
        { operationId?: string; 'x-required-role'?: string; requestBody?: unknown } | undefined;
      if (operation === undefined) continue;
      if (operation.operationId === undefined)
        throw new Error(`${method.toUpperCase()} ${path} has no operationId`);
      const role = operation['x-required-role'];
      if (role !== 'admin' && role !== 'any' && role !== 'none') {
        throw new Error(`${operation.operationId} has no valid x-required-role (admin, any or none)`);
      }
      const paramNames: string[] = [];
      const pattern = path
        .split('/')
        .map((segment) => {
          const parameter = /^\{(.+)\}$/.exec(segment);
          if (parameter === null) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          paramNames.push(parameter[1] ?? '');
          return '([^/]+)';
        })
        .join('/');
      routes.push({
        operationId: operation.operationId as OperationId,
        method,
        path,
        requiredRole: role,
        hasBody: operation.requestBody !== undefined,
        matcher: new RegExp(`^${pattern}$`),
        paramNames,
      });
    }
  }
  return routes.sort((a, b) => compareSpecificity(a.path, b.path));
}

/**
 * Literal segments win over parameters at the first segment where two templates differ
 * (`/runs/search` before `/runs/{run_id}`, `/step-runs/run/{run_id}` before `/step-runs/{step_run_id}/…`),
 * so the order of the spec never decides which operation a path reaches.
 */
function compareSpecificity(a: string, b: string): number {
  const left = a.split('/');
  const right = b.split('/');
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const leftParam = left[i]?.startsWith('{') ?? false;
    const rightParam = right[i]?.startsWith('{') ?? false;
    if (leftParam !== rightParam) return leftParam ? 1 : -1;
  }
  return 0;
}

/**
 * The one matcher: which operation a request targets. Case-sensitive and literal (no percent-decoding of
 * the path before matching, no dot-segment or slash folding): a spelling the contract does not name
 * matches nothing, and what matches nothing is refused. Routing, authorisation and validation all follow
 * from its answer. `path` is the request path without the query string (one trailing slash run removed);
 * HEAD has become GET before (head-as-get.ts).
 */
export function matchOperation(
  routes: readonly OperationRoute[],
  method: string,
  path: string,
): OperationMatch {
  const wanted = method.toLowerCase();
  const allowed = new Set<string>();
  // The most specific template that matches the path is the resource (OpenAPI: concrete paths before
  // templated ones): `/runs/search` is not also `/runs/{run_id}`, so DELETE on it is a 405 that allows
  // GET only, never deleteRun with the id "search".
  let resource: string | undefined;
  for (const route of routes) {
    if (resource !== undefined && route.path !== resource) continue;
    const found = route.matcher.exec(path);
    if (found === null) continue;
    resource = route.path;
    if (route.method !== wanted) {
      allowed.add(route.method.toUpperCase());
      continue;
    }
    const rawParams: Record<string, string> = {};
    route.paramNames.forEach((name, index) => (rawParams[name] = found[index + 1] ?? ''));
    return { kind: 'operation', route, rawParams };
  }
  if (allowed.size > 0) return { kind: 'method_not_allowed', allowed: [...allowed].sort() };
  return { kind: 'none' };
}
