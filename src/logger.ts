/**
 * The application logger: pino writing JSON lines asynchronously to stdout, with the keys we always had
 * (`time`, `level` as a word, `message`), secrets redacted, and the request id of the request being
 * handled on every line (an AsyncLocalStorage opened by the requestId() middleware, read by pino's mixin).
 *
 * All levels go to stdout, so one request's lines stay in order in one stream; only the process's own
 * start-up failures (bad configuration, a fatal error) are written to stderr, by src/server.ts.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import type { LogLevel } from './config/config.ts';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export type LogLevelName = Exclude<LogLevel, 'silent'>;

/** Receives every line (without its newline) instead of stdout: for tests and embedding. */
export type LogWrite = (level: LogLevelName, line: string) => void;

/** What the log knows about the request being handled. */
export interface RequestLogContext {
  readonly requestId: string;
}

/** The request being handled, for every log line written while it is (see runWithRequestContext). */
export const requestLogContext = new AsyncLocalStorage<RequestLogContext>();

/** Runs `fn` (the rest of the middleware chain) so that every line it logs carries `request_id`. */
export function runWithRequestContext<T>(context: RequestLogContext, fn: () => T): T {
  return requestLogContext.run(context, fn);
}

export const REDACTED = '[redacted]';

/**
 * Never logged: credentials in request headers (should anyone log a request or its headers), and keys,
 * plaintexts and key hashes anywhere in the top two levels of a line's fields (`body.key` of a create-key
 * response, `key` of an object passed as a field).
 */
export const REDACT_PATHS: readonly string[] = [
  'req.headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
  'key',
  'plaintext',
  'key_hash',
  '*.key',
  '*.plaintext',
  '*.key_hash',
];

const LEVEL_NAMES: Readonly<Record<number, LogLevelName>> = {
  [pino.levels.values['debug'] ?? 20]: 'debug',
  [pino.levels.values['info'] ?? 30]: 'info',
  [pino.levels.values['warn'] ?? 40]: 'warn',
  [pino.levels.values['error'] ?? 50]: 'error',
};

/** The pino instance behind each logger createLogger made (for the access log and flushLogger). */
const pinoOf = new WeakMap<Logger, PinoLogger>();

/**
 * A logger at `level`. Without `destination` it writes to stdout through an asynchronous buffer
 * (sonic-boom): a line costs the request no system call; call `flushLogger` before exiting (pino also
 * flushes it synchronously on process exit). `destination` may be a function that receives each line,
 * or any stream with `write(line)`.
 */
export function createLogger(level: LogLevel, destination?: LogWrite | DestinationStream): Logger {
  const instance = pino(
    {
      level,
      messageKey: 'message',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
      mixin: () => {
        const context = requestLogContext.getStore();
        return context === undefined ? {} : { request_id: context.requestId };
      },
    },
    streamFor(level, destination),
  );
  const logger = wrap(instance);
  pinoOf.set(logger, instance);
  return logger;
}

function streamFor(
  level: LogLevel,
  destination: LogWrite | DestinationStream | undefined,
): DestinationStream {
  if (typeof destination === 'function') return lineStream(destination);
  if (destination !== undefined) return destination;
  if (level === 'silent') return { write: () => undefined };
  return pino.destination({ dest: 1, sync: false });
}

/** A stream handing each line and its level to `write` (pino tells a stream the level it writes). */
function lineStream(write: LogWrite): DestinationStream {
  const stream = {
    [pino.symbols.needsMetadataGsym]: true as const,
    lastLevel: 0,
    write(line: string) {
      write(LEVEL_NAMES[stream.lastLevel] ?? 'info', line.endsWith('\n') ? line.slice(0, -1) : line);
    },
  };
  return stream;
}

function wrap(instance: PinoLogger): Logger {
  return {
    debug: (message, fields) => instance.debug(fields ?? {}, message),
    info: (message, fields) => instance.info(fields ?? {}, message),
    warn: (message, fields) => instance.warn(fields ?? {}, message),
    error: (message, fields) => instance.error(fields ?? {}, message),
  };
}

/**
 * The pino logger behind `logger`. A Logger that createLogger did not make (a test double) gets a pino
 * logger whose lines are handed back to its own methods, so pino-based middleware works with it too.
 */
export function pinoLoggerOf(logger: Logger): PinoLogger {
  const known = pinoOf.get(logger);
  if (known !== undefined) return known;
  const adapter = pino(
    {
      level: 'debug',
      messageKey: 'message',
      base: undefined,
      timestamp: false,
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
      mixin: () => {
        const context = requestLogContext.getStore();
        return context === undefined ? {} : { request_id: context.requestId };
      },
    },
    lineStream((level, line) => {
      const fields = JSON.parse(line) as Record<string, unknown>;
      const message = fields['message'];
      delete fields['message'];
      delete fields['level'];
      logger[level](typeof message === 'string' ? message : '', fields);
    }),
  );
  pinoOf.set(logger, adapter);
  return adapter;
}

/** Writes out whatever the logger still buffers; resolves at once for loggers without a buffer. */
export function flushLogger(logger: Logger): Promise<void> {
  const instance = pinoOf.get(logger);
  if (instance === undefined) return Promise.resolve();
  return new Promise((resolve) => instance.flush(() => resolve()));
}
