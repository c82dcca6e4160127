/**
 * SQLite's heavy reads on worker threads. better-sqlite3 is synchronous: every query on the service's one
 * connection runs on the event loop, so while a dashboard or a search over a million runs counts its
 * matches (100–300 ms), no other request moves — not a robot's report, not a health check. WAL lets other
 * connections read while that one writes, so the reads of the dashboards, lists and searches go to
 * connections of their own, each on a worker thread (sqlite-reader-worker.ts):
 *
 * - Only inside `onReadConnections(work)` (the handlers of those endpoints), only statements that read
 *   (SQLite's `reader` and `readonly` of the prepared statement decide, on the thread; one that would write
 *   comes back and runs on the main connection), and only outside a transaction: a transaction's
 *   statements stay on its connection.
 * - A read connection sees what was committed when its statement starts, as the main connection does for
 *   a statement outside a transaction: a request's own earlier writes are committed before it answers.
 * - The main connection is still the only one that writes; the read connections are `query_only`.
 * - A statement goes to the read connection with the fewest statements waiting (first started, first
 *   served on each). The threads start on the first read and stop when the ORM closes.
 * - An in-memory database has no file another connection could open: its reads stay on the main one.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Worker } from 'node:worker_threads';

/** What a read connection is asked (sqlite-reader-worker.ts). */
export interface ReaderRequest {
  id: number;
  sql: string;
  values: readonly unknown[];
}

/** What a read connection answers: the rows, or the error as SQLite raised it. */
export type ReaderReply =
  | { id: number; rows: unknown[]; write?: undefined; error?: undefined }
  | { id: number; write: true; rows?: undefined; error?: undefined }
  | {
      id: number;
      error: { name: string; message: string; code?: string };
      rows?: undefined;
      write?: undefined;
    };

const offloaded = new AsyncLocalStorage<boolean>();

/** Runs `work` with its reads outside transactions on the read connections (when the database has them). */
export function onReadConnections<T>(work: () => Promise<T>): Promise<T> {
  return offloaded.run(true, work);
}

/** Whether the current work asked for the read connections (`onReadConnections`). */
export function readsOffloaded(): boolean {
  return offloaded.getStore() === true;
}

/** A statement that only reads: SQLite's `reader` decides on the thread, this only picks the candidates. */
export function isReadStatement(sql: string): boolean {
  return /^\s*(select|with)\b/i.test(sql);
}

interface Reader {
  readonly worker: Worker;
  readonly waiting: Map<number, { resolve(rows: unknown[] | undefined): void; reject(error: Error): void }>;
}

/** An error of a read connection, with the name, message and SQLite code it had on the thread. */
export class SqliteReadError extends Error {
  readonly code: string | undefined;
  constructor(error: { name: string; message: string; code?: string }) {
    super(error.message);
    this.name = error.name;
    this.code = error.code;
  }
}

/** `count` read connections to the SQLite file `file`, started on the first read. */
export class SqliteReadConnections {
  readonly #file: string;
  readonly #count: number;
  readonly #busyTimeoutMs: number;
  readonly #readers: Reader[] = [];
  #nextId = 1;
  #closed = false;
  #served = 0;

  constructor(file: string, options: { count: number; busyTimeoutMs: number }) {
    this.#file = file;
    this.#count = options.count;
    this.#busyTimeoutMs = options.busyTimeoutMs;
  }

  /** Statements the read connections have answered (rows or error) since they started. */
  get served(): number {
    return this.#served;
  }

  /**
   * The rows of `sql` with `values` bound, from the read connection with the fewest statements waiting;
   * undefined when the statement would write (it is the main connection's).
   */
  read(sql: string, values: readonly unknown[]): Promise<unknown[] | undefined> {
    if (this.#closed) return Promise.reject(new Error('the SQLite read connections are closed'));
    const reader = this.#leastBusy();
    const id = this.#nextId++;
    return new Promise<unknown[] | undefined>((resolve, reject) => {
      reader.waiting.set(id, { resolve, reject });
      reader.worker.postMessage({ id, sql, values } satisfies ReaderRequest);
    });
  }

  /** Stops the threads; statements still waiting are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    const readers = this.#readers.splice(0);
    await Promise.all(readers.map(({ worker }) => worker.terminate()));
    for (const reader of readers)
      this.#refuseWaiting(reader, new Error('the SQLite read connections closed'));
  }

  #leastBusy(): Reader {
    let best: Reader | undefined;
    for (const reader of this.#readers) {
      if (best === undefined || reader.waiting.size < best.waiting.size) best = reader;
    }
    if (best !== undefined && (best.waiting.size === 0 || this.#readers.length >= this.#count)) return best;
    return this.#start();
  }

  #start(): Reader {
    const worker = new Worker(new URL('./sqlite-reader-worker.ts', import.meta.url), {
      workerData: { file: this.#file, busyTimeoutMs: this.#busyTimeoutMs },
    });
    const reader: Reader = { worker, waiting: new Map() };
    worker.on('message', (reply: ReaderReply) => {
      const waiter = reader.waiting.get(reply.id);
      if (waiter === undefined) return;
      reader.waiting.delete(reply.id);
      this.#served += 1;
      if (reply.error !== undefined) waiter.reject(new SqliteReadError(reply.error));
      else waiter.resolve(reply.rows);
    });
    // A thread that dies (it cannot open the file, or runs out of memory) fails what it had and is
    // replaced by the next read.
    const fail = (error: Error) => {
      const index = this.#readers.indexOf(reader);
      if (index >= 0) this.#readers.splice(index, 1);
      this.#refuseWaiting(reader, error);
    };
    worker.on('error', fail);
    worker.on('exit', (code) =>
      fail(
        new Error(
          this.#closed
            ? 'the SQLite read connections closed'
            : `an SQLite read connection's thread exited (code ${code})`,
        ),
      ),
    );
    worker.unref();
    this.#readers.push(reader);
    return reader;
  }

  #refuseWaiting(reader: Reader, error: Error): void {
    for (const waiter of reader.waiting.values()) waiter.reject(error);
    reader.waiting.clear();
  }
}
