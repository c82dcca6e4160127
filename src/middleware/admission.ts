/**
 * Admission control: the server's bound on work in progress (REQUIREMENTS §9, overload).
 *
 * The original hung for good when 32 clients called at once: every request waited for a database
 * connection without limit. Here at most `maxInFlight` requests are worked on at once; up to `maxQueued`
 * more wait, each at most `maxWaitMs`, for a free slot in arrival order. A request beyond the queue, or one
 * whose wait runs out, is answered at once with a 503 problem and `Retry-After`, so a client under
 * overload gets an answer within `maxWaitMs` instead of a hang, and the server recovers by itself as soon
 * as work completes: nothing is left behind (a slot is freed when its response is ended or its client
 * goes away; a queued request whose client went away leaves the queue).
 *
 * Mounted after the operation router and before authentication, so a refused request costs no database
 * work. `exempt` operations (the health check) are never held back: they must answer while the server is
 * saturated.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ServiceUnavailableError } from '../errors/domain-errors.ts';
import { routedOperation } from './operation-router.ts';
import { onResponseEnd } from '../util/response-end.ts';

export interface AdmissionOptions {
  /** Requests worked on at once. */
  maxInFlight: number;
  /** Requests waiting for a slot; beyond this a request is refused at once. */
  maxQueued: number;
  /** How long a request may wait for a slot before it is refused. */
  maxWaitMs: number;
  /** Operation ids never held back. */
  exempt?: ReadonlySet<string>;
  /** When given, only these operation ids are held back (the gate of one kind of work); others pass. */
  only?: ReadonlySet<string>;
  /** The refusal's detail (default: the server is at capacity). */
  refusal?: string;
}

interface Waiter {
  /** Works on the request in the slot handed to it. */
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
        options.refusal ?? 'The server is at capacity; retry after the time in Retry-After',
        RETRY_AFTER_SECONDS,
      ),
    );
  };

  // A freed slot goes to the first waiter at once, but its work starts on a later turn of the event loop
  // (setImmediate): the requests that arrived meanwhile are read first. Started where the slot is freed —
  // inside the previous request's `res.end`, or its 'finish' as it was first — one long request after
  // another would hold the loop for their sum (16 process overviews: a GET run waited 2 s).
  const startNext = () => {
    while (inFlight < options.maxInFlight && queue.length > 0) {
      const waiter = queue.shift() as Waiter;
      clearTimeout(waiter.timer);
      inFlight += 1;
      setImmediate(waiter.start);
    }
  };

  /**
   * Works on a request in a slot already counted in `inFlight`. The slot is freed when the response is
   * ended — the work is done then, though a slow client may still be reading it (a 2 MB overview over a
   * slow link: seconds) — or when the client goes away.
   */
  const work = (res: Response, next: NextFunction) => {
    let done = false;
    const release = () => {
      if (done) return;
      done = true;
      inFlight -= 1;
      startNext();
    };
    onResponseEnd(res, release);
    res.once('close', release);
    if (res.closed) return release();
    next();
  };

  return (_req: Request, res: Response, next: NextFunction) => {
    const operation = routedOperation(res);
    const id = operation?.operationId;
    if (id !== undefined && options.exempt?.has(id) === true) return next();
    if (options.only !== undefined && (id === undefined || !options.only.has(id))) return next();
    if (inFlight < options.maxInFlight && queue.length === 0) {
      inFlight += 1;
      return work(res, next);
    }
    if (queue.length >= options.maxQueued) return refuse(next);
    const waiter: Waiter = {
      // A client that went away between the handover and the start frees its slot at once (`work`).
      start: () => {
        res.off('close', leave);
        work(res, next);
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
