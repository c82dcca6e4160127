/**
 * The HTTP server around the app, with the limits Node leaves loose by default: a client gets
 * `HEADERS_TIMEOUT_MS` to send its headers and `REQUEST_TIMEOUT_MS` for the whole request (Node's default is
 * five minutes, which lets a slow-body client hold a connection and a request slot that long), checked
 * every second; what Node's parser refuses is answered as a problem (client-errors.ts).
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Config } from './config/config.ts';
import { answerClientErrors } from './middleware/client-errors.ts';

/** How often Node checks open requests against the timeouts (its default is 30 s). */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

export function createHttpServer(
  app: RequestListener,
  config: Pick<Config, 'requestTimeoutMs' | 'headersTimeoutMs'>,
): Server {
  const server = createServer(
    {
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: Math.min(config.headersTimeoutMs, config.requestTimeoutMs),
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    },
    app,
  );
  answerClientErrors(server);
  return server;
}
