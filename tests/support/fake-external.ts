/**
 * The external system a rerun calls, for tests: a real HTTP (or HTTPS, self-signed) server on 127.0.0.1
 * whose answers are scripted per request number, recording every request it receives.
 *
 *   const external = await startFakeExternal([respond(503), respond(503), respond(200)]);
 *   …call external.url…
 *   expect(external.requests).toHaveLength(3);
 *   await external.close();
 *
 * node: modules only and a JSON-serialisable script (the array form), so a separate child process can
 * start it too.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** What the server does with one request, after reading its body. */
export type FakeAction =
  | {
      action: 'respond';
      status: number;
      /** A string is sent as is (text/plain unless headers say otherwise); anything else as JSON. */
      body?: unknown;
      headers?: Record<string, string>;
      /** Send the status line, headers and a first byte of the body, then never finish. */
      stallBody?: boolean;
    }
  /** Never answer (keeps the connection open until the client gives up or the server closes). */
  | { action: 'hang' }
  /** Destroy the socket without answering. */
  | { action: 'destroy' };

/**
 * Request n (1-based) gets the n-th action of an array, the last one once the array runs out (an empty
 * array answers 204); a function decides from the recorded request itself.
 */
export type FakeScript = readonly FakeAction[] | ((request: RecordedRequest) => FakeAction);

/** One request as the fake received it. */
export interface RecordedRequest {
  /** 1-based, counting since the start or the last reset. */
  number: number;
  method: string;
  /** The request target: path and query. */
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** The body parsed as JSON, undefined when empty or not JSON. */
  body: unknown;
  receivedAt: Date;
}

export interface FakeExternal {
  /** `http://127.0.0.1:<port>` (`https://` with `tls`), no trailing slash. */
  url: string;
  port: number;
  /** Every request received since the start or the last reset, in order. */
  readonly requests: readonly RecordedRequest[];
  /** With `tls`: the server's self-signed certificate (PEM), for a client that chooses to trust it. */
  certificatePem: string | undefined;
  /** Forgets the requests and restarts the numbering, with a new script when given. */
  reset(script?: FakeScript): void;
  /** Stops the server, dropping connections left hanging. */
  close(): Promise<void>;
}

/** An answer with `status` (and body and headers). */
export function respond(status: number, body?: unknown, headers: Record<string, string> = {}): FakeAction {
  return { action: 'respond', status, body, headers };
}

/** No answer at all. */
export function hang(): FakeAction {
  return { action: 'hang' };
}

/** The socket destroyed without an answer. */
export function destroySocket(): FakeAction {
  return { action: 'destroy' };
}

/** Starts the fake on 127.0.0.1, on a free port; `tls` serves HTTPS with a fresh self-signed certificate. */
export async function startFakeExternal(
  script: FakeScript = [],
  options: { tls?: boolean } = {},
): Promise<FakeExternal> {
  let current = script;
  let requests: RecordedRequest[] = [];
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded = record(req, Buffer.concat(chunks).toString('utf8'), requests.length + 1);
      requests.push(recorded);
      perform(actionFor(current, recorded), res);
    });
  };
  const certificate = options.tls === true ? createSelfSignedCertificate() : undefined;
  const server: Server =
    certificate === undefined
      ? createHttpServer(handle)
      : createHttpsServer({ cert: certificate.certificatePem, key: certificate.privateKeyPem }, handle);
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${certificate === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    port,
    get requests() {
      return requests;
    },
    certificatePem: certificate?.certificatePem,
    reset(script?: FakeScript) {
      requests = [];
      if (script !== undefined) current = script;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function record(req: IncomingMessage, rawBody: string, number: number): RecordedRequest {
  let body: unknown;
  try {
    body = rawBody === '' ? undefined : JSON.parse(rawBody);
  } catch {
    body = undefined;
  }
  return {
    number,
    method: req.method ?? '',
    path: req.url ?? '',
    headers: { ...req.headers },
    rawBody,
    body,
    receivedAt: new Date(),
  };
}

function actionFor(script: FakeScript, request: RecordedRequest): FakeAction {
  if (typeof script === 'function') return script(request);
  return script[Math.min(request.number, script.length) - 1] ?? respond(204);
}

function perform(action: FakeAction, res: ServerResponse): void {
  if (action.action === 'hang') return;
  if (action.action === 'destroy') {
    res.socket?.destroy();
    return;
  }
  const { body, headers = {} } = action;
  const isText = typeof body === 'string';
  const payload = body === undefined ? '' : isText ? body : JSON.stringify(body);
  const hasContentType = Object.keys(headers).some((name) => name.toLowerCase() === 'content-type');
  res.writeHead(action.status, {
    ...(payload === '' || hasContentType
      ? {}
      : { 'Content-Type': isText ? 'text/plain; charset=utf-8' : 'application/json' }),
    ...headers,
  });
  if (action.stallBody === true) {
    res.write(payload === '' ? ' ' : payload.slice(0, 1));
    return;
  }
  res.end(payload);
}

/**
 * A self-signed certificate for 127.0.0.1 and localhost (ECDSA P-256, valid for a day), made with
 * node:crypto alone: Node can sign but not build X.509, so the DER is written here (RFC 5280).
 */
export function createSelfSignedCertificate(): { certificatePem: string; privateKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = Date.now();
  const signatureAlgorithm = sequence(oid('1.2.840.10045.4.3.2')); // ecdsa-with-SHA256
  const name = sequence(der(0x31, sequence(oid('2.5.4.3'), der(0x0c, Buffer.from('127.0.0.1')))));
  const subjectAltName = sequence(
    oid('2.5.29.17'),
    der(0x04, sequence(der(0x87, Buffer.from([127, 0, 0, 1])), der(0x82, Buffer.from('localhost')))),
  );
  const tbs = sequence(
    der(0xa0, integer(Buffer.from([2]))), // v3
    integer(randomBytes(8)),
    signatureAlgorithm,
    name,
    sequence(utcTime(new Date(now - 60_000)), utcTime(new Date(now + 86_400_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(0xa3, sequence(subjectAltName)),
  );
  const certificate = sequence(
    tbs,
    signatureAlgorithm,
    der(0x03, Buffer.from([0]), sign('sha256', tbs, privateKey)),
  );
  const lines = certificate.toString('base64').match(/.{1,64}/g) ?? [];
  return {
    certificatePem: `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

function der(tag: number, ...contents: Buffer[]): Buffer {
  const content = Buffer.concat(contents);
  const length: number[] = [];
  for (let rest = content.length; rest > 0; rest = Math.floor(rest / 256)) length.unshift(rest % 256);
  const header = content.length < 0x80 ? [content.length] : [0x80 | length.length, ...length];
  return Buffer.concat([Buffer.from([tag, ...header]), content]);
}

function sequence(...contents: Buffer[]): Buffer {
  return der(0x30, ...contents);
}

function integer(bytes: Buffer): Buffer {
  // DER integers are signed: a leading 1 bit would make it negative.
  return der(0x02, (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const encoded = [arc & 0x7f];
    for (let high = arc >> 7; high > 0; high >>= 7) encoded.unshift(0x80 | (high & 0x7f));
    bytes.push(...encoded);
  }
  return der(0x06, Buffer.from(bytes));
}

function utcTime(date: Date): Buffer {
  return der(0x17, Buffer.from(`${date.toISOString().replace(/[-:T]/g, '').slice(2, 14)}Z`));
}
