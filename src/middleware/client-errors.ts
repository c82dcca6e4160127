import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { problemBody } from '../errors/problem-handler.ts';

/**
 * Requests Node's HTTP parser refuses before Express sees them — a request target with raw non-ASCII
 * bytes (curl sends `?q=Æblegård` as typed; browsers and HTTP libraries percent-encode it), malformed
 * request lines or headers — get the same RFC 9457 problem as every other error, instead of Node's bare
 * `400` with an empty body. Oversized headers keep Node's `431`; a socket that is gone is just closed.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    if (error.code === 'HPE_HEADER_OVERFLOW') {
      socket.end(
        'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT' || error.code === 'HPE_REQUEST_TIMEOUT') {
      // The request (headers or body) did not arrive in time. A response already begun is cut short.
      const response = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
      if (response?.headersSent === true) {
        socket.destroy();
        return;
      }
      answer(
        socket,
        'request_timeout',
        'The request was not received in time: send the headers and the whole body without pausing',
      );
      return;
    }
    answer(
      socket,
      'bad_request',
      'The request line or headers are not valid HTTP: percent-encode non-ASCII characters and spaces in the URL (UTF-8)',
    );
  });
}

/** Writes a problem response straight to the socket and closes the connection. */
function answer(socket: Duplex, type: 'bad_request' | 'request_timeout', detail: string): void {
  const requestId = randomUUID();
  const problem = problemBody(type, detail, '/', requestId);
  const body = JSON.stringify(problem);
  socket.end(
    [
      `HTTP/1.1 ${problem.status} ${problem.title}`,
      'Content-Type: application/problem+json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      `X-Request-ID: ${requestId}`,
      'Connection: close',
      '',
      body,
    ].join('\r\n'),
  );
}
