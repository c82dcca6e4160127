/**
 * Admission control: the server's bound on work in progress (REQUIREMENTS §9, overload).
 *
 * The original hung for good when 32 clients called at once: every request waited for a database
 * connection without limit. Here at most `maxInFlight` requests are worked on at once; up to `maxQueued`
 * more wait, each at most `maxWaitMs`, for a free slot in arrival order. A request beyond the queue, or one
 * whose wait runs out, is answered at once with a 503 problem and `Retry-After`, so a client under
 * overload gets an answer within `maxWaitMs` instead of a hang, and the server recovers by itself as soon
 * as work completes: nothing is left behind (a slot is freed when its response finishes or its client
 * goes away; a queued request whose client went away leaves the queue).
 *
 * Mounted after the operation router and before authentication, so a refused request costs no database
 * work. `exempt` operations (the health check) are never held back: they must answer while the server is
 * saturated.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ServiceUnavailableError } from '../errors/domain-errors.ts';
import { routedOperation } from './operation-router.ts';

export interface AdmissionOptions {
  /** Requests worked on at once. */
  maxInFlight: number;
  /** Requests waiting for a slot; beyond this a request is refused at once. */
  maxQueued: number;
  /** How long a request may wait for a slot before it is refused. */
  maxWaitMs: number;
  /** Operation ids never held back. */
  exempt: ReadonlySet<string>;
}

interface Waiter {
  start: () => void;
  timer: NodeJS.Timeout;
}

const RETRY_AFTER_SECONDS = 1;

export function admissionControl(options: AdmissionOptions): RequestHandler {
  let inFlight = 0;
  const queue: Waiter[] = [];

  const refuse = (next: NextFunction) => {
    next(
      new ServiceUnavailableError(
        'The server is at capacity; retry after the time in Retry-After',
        RETRY_AFTER_SECONDS,
      ),
    );
  };

  const startNext = () => {
    while (inFlight < options.maxInFlight && queue.length > 0) {
      const waiter = queue.shift() as Waiter;
      clearTimeout(waiter.timer);
      waiter.start();
    }
  };

  const admit = (res: Response, next: NextFunction) => {
    inFlight += 1;
    let done = false;
    const release = () => {
      if (done) return;
      done = true;
      inFlight -= 1;
      startNext();
    };
    res.once('finish', release);
    res.once('close', release);
    next();
  };

  return (_req: Request, res: Response, next: NextFunction) => {
    const operation = routedOperation(res);
    if (operation !== undefined && options.exempt.has(operation.operationId)) return next();
    if (inFlight < options.maxInFlight && queue.length === 0) return admit(res, next);
    if (queue.length >= options.maxQueued) return refuse(next);
    const waiter: Waiter = {
      start: () => {
        res.off('close', leave);
        admit(res, next);
      },
      timer: setTimeout(() => {
        remove();
        refuse(next);
      }, options.maxWaitMs),
    };
    const remove = () => {
      const index = queue.indexOf(waiter);
      if (index >= 0) queue.splice(index, 1);
    };
    // The client gave up while waiting: its place goes to the next one.
    const leave = () => {
      clearTimeout(waiter.timer);
      remove();
    };
    res.once('close', leave);
    queue.push(waiter);
  };
}
