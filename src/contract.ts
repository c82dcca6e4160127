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
  /** The same path in Express syntax, e.g. `/api/v1/runs/:run_id`. */
  readonly expressPath: string;
  readonly requiredRole: RequiredRole;
  readonly matcher: RegExp;
}

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
      const operation = item[method] as { operationId?: string; 'x-required-role'?: string } | undefined;
      if (operation === undefined) continue;
      if (operation.operationId === undefined)
        throw new Error(`${method.toUpperCase()} ${path} has no operationId`);
      const role = operation['x-required-role'];
      if (role !== 'admin' && role !== 'any' && role !== 'none') {
        throw new Error(`${operation.operationId} has no valid x-required-role (admin, any or none)`);
      }
      const pattern = path
        .split('/')
        .map((segment) => (/^\{.+\}$/.test(segment) ? '[^/]+' : segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
        .join('/');
      routes.push({
        operationId: operation.operationId as OperationId,
        method,
        path,
        expressPath: path.replace(/\{([^}]+)\}/g, ':$1'),
        requiredRole: role,
        matcher: new RegExp(`^${pattern}$`),
      });
    }
  }
  // Literal segments win over parameters (`/runs/search` before `/runs/{run_id}`), as in the validator.
  return routes.sort((a, b) => paramCount(a.path) - paramCount(b.path));
}

function paramCount(path: string): number {
  return (path.match(/\{/g) ?? []).length;
}

/** Finds the operation a request targets, or undefined (the validator then answers 404/405). */
export function matchOperation(
  routes: readonly OperationRoute[],
  method: string,
  path: string,
): OperationRoute | undefined {
  const lower = method.toLowerCase();
  return routes.find((route) => route.method === lower && route.matcher.test(path));
}
