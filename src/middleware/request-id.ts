import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { runWithRequestContext } from '../logger.ts';

const ACCEPTABLE = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * Takes the caller's `X-Request-ID` when it is sane, else generates one; echoes it on every response.
 * Runs first: the rest of the chain runs inside the request's log context, so every line logged while
 * the request is handled carries its `request_id`.
 */
export function requestId(): RequestHandler {
  return (req, res, next) => {
    const sent = req.get('x-request-id');
    const id = sent !== undefined && ACCEPTABLE.test(sent) ? sent : randomUUID();
    res.locals['requestId'] = id;
    res.setHeader('X-Request-ID', id);
    runWithRequestContext({ requestId: id }, next);
  };
}
