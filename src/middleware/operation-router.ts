/**
 * The seam between the HTTP layer and the contract: one matcher (`matchOperation`, compiled once from the
 * spec) decides which operation a request targets, and everything else follows from its answer — the
 * role authentication demands (`x-required-role` of the matched operation), whether a body is read, which
 * schemas the validator applies and which handler runs. Nothing else routes API requests: Express's
 * router only serves the docs pages, and express-openapi-validator's own route lookup (which recompiles
 * every path pattern on every request) runs once per operation at start-up, to obtain its request and
 * response schemas, and is cross-checked against ours. A request that matches no operation is refused
 * (404, or 405 with `Allow`) before any key check, body parser or handler sees it: no match, no access.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { OpenApiRequestMetadata } from 'express-openapi-validator/dist/framework/types.js';
import { matchOperation, type HandlerMap, type OperationId, type OperationRoute } from '../contract.ts';
import {
  BadRequestError,
  NotFoundError,
  DomainError,
  PayloadTooLargeError,
  ValidationError,
  type ValidationIssue,
} from '../errors/domain-errors.ts';

/** What the validator needs on `req.openapi` (its own metadata plus the response-schema copy). */
type ValidatorMetadata = OpenApiRequestMetadata & { _responseSchema?: unknown };
type ValidatorMiddleware = (req: Request, res: Response, next: NextFunction) => unknown;

export class MethodNotAllowedError extends DomainError {
  constructor(method: string, allowed: readonly string[]) {
    super('method_not_allowed', `${method} is not allowed here; allowed: ${allowed.join(', ')}`, {
      headers: { Allow: allowed.join(', ') },
    });
  }
}

const SENT_MEMBERS = 'sentBodyMembers';

/**
 * The top-level body members the client sent (after unknown ones were dropped, before the validator
 * filled in defaults); empty for a request without a JSON object body.
 */
export function sentBodyMembers(res: Response): ReadonlySet<string> {
  return (res.locals[SENT_MEMBERS] as ReadonlySet<string> | undefined) ?? new Set();
}

/**
 * The query string exactly as the client sent it, parsed (no defaults filled in, repeated names kept);
 * empty without one. `req.query` cannot tell what was sent: the validator fills in defaults.
 */
export function rawQuery(req: { originalUrl: string }): URLSearchParams {
  const start = req.originalUrl.indexOf('?');
  return new URLSearchParams(start < 0 ? '' : req.originalUrl.slice(start + 1));
}

/** The query parameter names the client sent. */
export function sentQueryParameters(req: { originalUrl: string }): ReadonlySet<string> {
  return new Set(rawQuery(req).keys());
}

/** Operations outside the audit trail and the rate limits: the service root and the health check. */
export const UNMETERED_OPERATIONS: ReadonlySet<string> = new Set(['getServiceInfo', 'getHealth']);

/** The operation a request was routed to (set by `resolve`, read by authentication and dispatch). */
export function routedOperation(res: Response): OperationRoute | undefined {
  return res.locals['operation'] as OperationRoute | undefined;
}

export interface OperationRouter {
  /** The one matcher: sets the operation and `req.openapi`, or refuses the request (404/405/400). */
  readonly resolve: RequestHandler;
  /** Runs `parse` only for operations that declare a request body; other requests' bodies are never read. */
  readonly bodyOf: (parse: RequestHandler, limitBytes: number) => RequestHandler;
  /** Removes body members the contract does not name where it says they are ignored. */
  readonly dropUnknownMembers: RequestHandler;
  /** Refuses U+0000 anywhere in the body, query or path parameters (422), before validation. */
  readonly refuseNul: RequestHandler;
  /** The validator's request and response validation, fed by `resolve`. */
  readonly validate: RequestHandler[];
  /** Calls the handler of the matched operation. */
  readonly dispatch: RequestHandler;
}

/**
 * Builds the seam from the spec's operations, the handlers and the middlewares of
 * `OpenApiValidator.middleware(...)` (picked by name; a version that renames them fails at start).
 */
export function operationRouter(
  routes: readonly OperationRoute[],
  handlers: HandlerMap,
  validatorMiddlewares: readonly ValidatorMiddleware[],
): OperationRouter {
  const named = (name: string): ValidatorMiddleware => {
    const found = validatorMiddlewares.find((middleware) => middleware.name === name);
    if (found === undefined) {
      throw new Error(
        `express-openapi-validator has no ${name}: the seam in operation-router.ts needs review`,
      );
    }
    return found;
  };
  const metadataMiddleware = named('metadataMiddleware');
  // Response validation is there unless VALIDATE_RESPONSES=off left it out.
  const responseMiddleware = validatorMiddlewares.filter(
    (middleware) => middleware.name === 'responseMiddleware',
  );
  const validate = [named('requestMiddleware'), ...responseMiddleware] as unknown as RequestHandler[];

  // The validator's own lookup, once per operation: a request for each template with placeholder values
  // that no literal segment equals. Its answer must be the operation our matcher chose.
  let metadata: Promise<Map<OperationId, ValidatorMetadata>> | undefined;
  const captureAll = (app: Request['app']) =>
    (metadata ??= Promise.all(routes.map((route) => capture(metadataMiddleware, app, route))).then(
      (entries) => new Map(entries),
    ));

  const resolve: RequestHandler = (req, res, next) => {
    const match = matchOperation(routes, req.method, req.path);
    if (match.kind === 'none') throw new NotFoundError(`No route for ${req.method} ${req.path}`);
    if (match.kind === 'method_not_allowed') throw new MethodNotAllowedError(req.method, match.allowed);
    const pathParams = decodeParams(match.rawParams);
    res.locals['operation'] = match.route;
    return captureAll(req.app).then((all) => {
      const known = all.get(match.route.operationId);
      if (known === undefined) throw new Error(`no validator metadata for ${match.route.operationId}`);
      (req as Request & { openapi?: ValidatorMetadata }).openapi = { ...known, pathParams };
      next();
    });
  };

  /**
   * Runs `parse` only for operations that declare a body. A body announced larger than `limitBytes` is
   * refused at once, unread, and the connection closed: body-parser would read it all before answering,
   * so a client announcing megabytes and sending none held a request slot until the socket timed out.
   */
  const bodyOf =
    (parse: RequestHandler, limitBytes: number): RequestHandler =>
    (req, res, next) => {
      if (routedOperation(res)?.hasBody !== true) return next();
      const announced = Number(req.get('content-length'));
      if (Number.isFinite(announced) && announced > limitBytes) {
        throw new PayloadTooLargeError('The request body is larger than the configured limit');
      }
      return parse(req, res, next);
    };

  /**
   * Members the contract does not name are accepted and ignored (REQUIREMENTS §1): removed from the body
   * before validation, wherever the body's schema is marked `x-unknown-members: ignored`, so server-owned
   * members (`id`, `usage_count`, ...) can never reach a handler.
   */
  const dropUnknownMembers: RequestHandler = (req, res, next) => {
    const schema = requestBodySchemaOf(req);
    if (schema !== undefined) dropUnknown(req.body, schema);
    // The validator fills in the schema's defaults next; a rule about what the client sent (an
    // admin-only member sent at all, even as null) needs the members as they came.
    if (typeof req.body === 'object' && req.body !== null && !Array.isArray(req.body)) {
      res.locals[SENT_MEMBERS] = new Set(Object.keys(req.body as object));
    }
    next();
  };

  const refuseNul: RequestHandler = (req, _res, next) => {
    const depth = nestingDepth(req.body);
    if (depth > MAX_JSON_DEPTH) {
      throw new ValidationError(
        `Request validation failed: the body nests deeper than ${MAX_JSON_DEPTH} levels`,
        [
          {
            location: 'body',
            field: '/',
            message: `must not nest deeper than ${MAX_JSON_DEPTH} levels`,
            code: 'depth',
          },
        ],
      );
    }
    const issues: ValidationIssue[] = [];
    findNonDecimalIntegers(req, issues);
    findNul(req.body, 'body', '', issues);
    findNul(req.query, 'query', '', issues);
    findNul(pathParamsOf(req), 'path', '', issues);
    if (issues.length > 0) {
      throw new ValidationError(
        issues.some((issue) => issue.code === 'nul')
          ? `Request validation failed: text must not contain the NUL character (U+0000)`
          : 'Request validation failed: integers must be written in decimal digits',
        issues,
      );
    }
    next();
  };

  const dispatch: RequestHandler = (req, res) => {
    const operation = routedOperation(res);
    if (operation === undefined) throw new Error('dispatch without a routed operation');
    const handler = handlers[operation.operationId] as unknown as RequestHandler;
    // Express resets req.params for every middleware layer; the handler gets the validated (coerced) ones.
    req.params = pathParamsOf(req);
    return handler(req, res, () => undefined);
  };

  return { resolve, bodyOf, dropUnknownMembers, refuseNul, validate, dispatch };
}

type SchemaNode = {
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  allOf?: SchemaNode[];
  'x-unknown-members'?: string;
};

/** The JSON request-body schema of the routed operation (dereferenced by the validator). */
function requestBodySchemaOf(req: Request): SchemaNode | undefined {
  const operation = (req as Request & { openapi?: { schema?: { requestBody?: unknown } } }).openapi?.schema;
  const body = operation?.requestBody as { content?: Record<string, { schema?: SchemaNode }> } | undefined;
  return body?.content?.['application/json']?.schema;
}

function dropUnknown(value: unknown, schema: SchemaNode): void {
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    if (schema.items !== undefined) for (const item of value) dropUnknown(item, schema.items);
    return;
  }
  for (const member of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])]) {
    dropUnknown(value, member);
  }
  const properties = schema.properties ?? {};
  for (const key of Object.keys(value)) {
    const known = Object.hasOwn(properties, key);
    if (!known && schema['x-unknown-members'] === 'ignored') delete (value as Record<string, unknown>)[key];
    else if (known) dropUnknown((value as Record<string, unknown>)[key], properties[key] as SchemaNode);
  }
}

function pathParamsOf(req: Request): Record<string, string> {
  return (req as Request & { openapi?: ValidatorMetadata }).openapi?.pathParams ?? {};
}

async function capture(
  metadataMiddleware: ValidatorMiddleware,
  app: Request['app'],
  route: OperationRoute,
): Promise<[OperationId, ValidatorMetadata]> {
  const url = route.path.replace(/\{([^}]+)\}/g, '__$1__');
  const probe = {
    method: route.method.toUpperCase(),
    url,
    originalUrl: url,
    path: url,
    baseUrl: '',
    app,
    params: {},
  };
  await new Promise<void>((resolve, reject) => {
    void metadataMiddleware(probe as unknown as Request, {} as Response, (error?: unknown) =>
      error === undefined
        ? resolve()
        : reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
    );
  });
  const found = (probe as { openapi?: ValidatorMetadata }).openapi;
  if (found?.schema.operationId !== route.operationId) {
    throw new Error(
      `the validator routes ${route.method.toUpperCase()} ${route.path} to ${found?.schema.operationId ?? 'nothing'}, ` +
        `not ${route.operationId}`,
    );
  }
  const { expressRoute, openApiRoute, schema, serial, _responseSchema } = found;
  return [route.operationId, { expressRoute, openApiRoute, schema, serial, _responseSchema, pathParams: {} }];
}

function decodeParams(raw: Record<string, string>): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    try {
      decoded[name] = decodeURIComponent(value);
    } catch {
      throw new BadRequestError(`The path parameter ${name} is not valid percent-encoding`);
    }
  }
  return decoded;
}

/** How deep JSON bodies may nest (objects and arrays); deeper ones are refused before anything reads them. */
export const MAX_JSON_DEPTH = 32;

/** The nesting depth of a parsed JSON value (0 for a scalar), computed without recursion. */
function nestingDepth(value: unknown): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 1]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth > deepest) deepest = depth;
    if (deepest > MAX_JSON_DEPTH) return deepest;
    for (const child of Object.values(current)) {
      if (typeof child === 'object' && child !== null) pending.push([child, depth + 1]);
    }
  }
  return deepest;
}

const DECIMAL_INTEGER = /^-?\d+$/;

/**
 * Path and query parameters the contract types as integers must be written in decimal digits: the
 * validator coerces with `Number()`, which also takes `Infinity`, `1e309`, `0x1`, `+1` and ` 1`, giving one
 * resource several names and letting a non-finite number reach the SQL.
 */
function findNonDecimalIntegers(req: Request, issues: ValidationIssue[]): void {
  const operation = (req as Request & { openapi?: { schema?: { parameters?: unknown[] } } }).openapi?.schema;
  for (const parameter of operation?.parameters ?? []) {
    const {
      name,
      in: location,
      schema,
    } = parameter as {
      name: string;
      in: 'path' | 'query' | 'header' | 'cookie';
      schema?: { type?: unknown };
    };
    const types = Array.isArray(schema?.type) ? (schema.type as unknown[]) : [schema?.type];
    if (!types.includes('integer') || (location !== 'path' && location !== 'query')) continue;
    const raw: unknown =
      location === 'path' ? pathParamsOf(req)[name] : (req.query as Record<string, unknown>)[name];
    const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    for (const value of values) {
      if (typeof value === 'string' && !DECIMAL_INTEGER.test(value)) {
        issues.push({ location, field: name, message: 'must be an integer in decimal digits', code: 'type' });
        break;
      }
    }
  }
}

function findNul(
  value: unknown,
  location: ValidationIssue['location'],
  at: string,
  issues: ValidationIssue[],
): void {
  if (issues.length >= 20) return;
  const field = () => (location === 'body' ? at || '/' : at.replace(/^\//, '').replaceAll('/', '.'));
  if (typeof value === 'string') {
    if (value.includes('\u0000')) {
      issues.push({
        location,
        field: field(),
        message: 'must not contain the NUL character (U+0000)',
        code: 'nul',
      });
    }
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const [key, child] of Object.entries(value)) {
    const pointer = `${at}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    if (key.includes('\u0000')) {
      issues.push({ location, field: field(), message: 'member names must not contain U+0000', code: 'nul' });
      continue;
    }
    findNul(child, location, pointer, issues);
  }
}
