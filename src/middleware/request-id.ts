import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';

const ACCEPTABLE = /^[A-Za-z0-9._:-]{1,100}$/;

/** Takes the caller's `X-Request-ID` when it is sane, else generates one; echoes it on every response. */
export function requestId(): RequestHandler {
  return (req, res, next) => {
    const sent = req.get('x-request-id');
    const id = sent !== undefined && ACCEPTABLE.test(sent) ? sent : randomUUID();
    res.locals['requestId'] = id;
    res.setHeader('X-Request-ID', id);
    next();
  };
}
