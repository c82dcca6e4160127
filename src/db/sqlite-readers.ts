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
 * - Each thread runs one statement at a time; the others wait in order for the first one free. The threads
 *   start with the first reads and stop when the ORM closes.
 * - The WAL stays bounded: past `WAL_PAUSE_BYTES` the reads pause for a checkpoint (see below).
 * - An in-memory database has no file another connection could open: its reads stay on the main one.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { statSync } from 'node:fs';
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

interface Waiter {
  resolve: (rows: unknown[] | undefined) => void;
  reject: (error: Error) => void;
}

interface Reader {
  readonly worker: Worker;
  /** The one request this thread works on, if any. */
  busy: (Waiter & { id: number }) | undefined;
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

/**
 * The size the main connection cuts its WAL file back to when the WAL starts over (`journal_size_limit`,
 * set by `createOrm` with the read connections): without it the file keeps the size of its largest
 * moment, and its size would say nothing about the WAL's.
 */
export const WAL_SIZE_LIMIT = 16 * 1024 * 1024;

/**
 * How large the WAL file may grow before the read connections pause for a checkpoint (bytes). The main
 * connection checkpoints at each commit past 1,000 pages (~4 MB), but the WAL starts over only at a moment
 * no connection reads from it: with reads always running on the threads that moment never came (a mixed
 * load of searches and new runs grew it to 400 MB in 20 s). Each start over cuts the file back to
 * `WAL_SIZE_LIMIT`, so a file past this bound has gone that long without one.
 */
export const WAL_PAUSE_BYTES = 4 * WAL_SIZE_LIMIT;

/**
 * `count` read connections to the SQLite file `file`, started with the first reads. Each works on one
 * statement at a time; the others wait here, first come first served, so a pause for the WAL waits for at
 * most one statement per thread: past `walPauseBytes` no new statement starts, and when the running ones
 * have finished, `checkpoint` checkpoints the whole WAL on the main connection and truncates it, as soon
 * as that connection is outside a transaction (it is the one writer: nothing to wait for); then the
 * waiting statements start.
 */
export class SqliteReadConnections {
  readonly #file: string;
  readonly #count: number;
  readonly #busyTimeoutMs: number;
  readonly #walPauseBytes: number;
  readonly #readers: Reader[] = [];
  readonly #queue: (Waiter & { id: number; sql: string; values: readonly unknown[] })[] = [];
  #nextId = 1;
  #closed = false;
  #served = 0;
  #checkpoints = 0;
  /** Set while the reads pause for a checkpoint. */
  #pausing = false;
  #checkpointing = false;

  /**
   * Checkpoints the whole WAL and truncates it on the main connection; false when that connection is in a
   * transaction (then it is asked again on the next turn of the event loop).
   */
  readonly #checkpoint: () => boolean;

  constructor(
    file: string,
    options: { count: number; busyTimeoutMs: number; checkpoint: () => boolean; walPauseBytes?: number },
  ) {
    this.#file = file;
    this.#checkpoint = options.checkpoint;
    this.#count = options.count;
    this.#busyTimeoutMs = options.busyTimeoutMs;
    this.#walPauseBytes = options.walPauseBytes ?? WAL_PAUSE_BYTES;
  }

  /** Statements the read connections have answered (rows or error) since they started. */
  get served(): number {
    return this.#served;
  }

  /** Checkpoints the reads paused for (the WAL past its bound). */
  get checkpoints(): number {
    return this.#checkpoints;
  }

  /**
   * The rows of `sql` with `values` bound, from the first read connection free; undefined when the
   * statement would write (it is the main connection's).
   */
  read(sql: string, values: readonly unknown[]): Promise<unknown[] | undefined> {
    if (this.#closed) return Promise.reject(new Error('the SQLite read connections are closed'));
    return new Promise<unknown[] | undefined>((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, sql, values, resolve, reject });
      this.#pump();
    });
  }

  /** Stops the threads; statements still running or waiting are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    const readers = this.#readers.splice(0);
    await Promise.all(readers.map(({ worker }) => worker.terminate()));
    const error = new Error('the SQLite read connections closed');
    for (const reader of readers) reader.busy?.reject(error);
    for (const waiter of this.#queue.splice(0)) waiter.reject(error);
  }

  /**
   * Starts waiting statements on free threads (starting threads up to `count`), unless pausing. The size of
   * the WAL is looked at first (a `stat`, a few microseconds): only while statements keep coming can reads
   * keep the WAL from starting over.
   */
  #pump(): void {
    this.#checkWal();
    while (!this.#pausing && !this.#closed && this.#queue.length > 0) {
      const reader = this.#readers.find((candidate) => candidate.busy === undefined) ?? this.#start();
      if (reader === undefined) return;
      const { id, sql, values, resolve, reject } = this.#queue.shift()!;
      reader.busy = { id, resolve, reject };
      reader.worker.postMessage({ id, sql, values } satisfies ReaderRequest);
    }
  }

  /** A new thread, or undefined when there are `count` already. */
  #start(): Reader | undefined {
    if (this.#readers.length >= this.#count) return undefined;
    const worker = new Worker(new URL('./sqlite-reader-worker.ts', import.meta.url), {
      workerData: { file: this.#file, busyTimeoutMs: this.#busyTimeoutMs },
    });
    const reader: Reader = { worker, busy: undefined };
    worker.on('message', (reply: ReaderReply) => {
      const waiter = reader.busy;
      if (waiter?.id !== reply.id) return;
      reader.busy = undefined;
      this.#served += 1;
      if (reply.error !== undefined) waiter.reject(new SqliteReadError(reply.error));
      else waiter.resolve(reply.rows);
      this.#afterStatement();
    });
    // A thread that dies (it cannot open the file, or runs out of memory) fails what it had and is
    // replaced by the next read.
    const fail = (error: Error) => {
      const index = this.#readers.indexOf(reader);
      if (index < 0) return;
      this.#readers.splice(index, 1);
      const waiter = reader.busy;
      reader.busy = undefined;
      waiter?.reject(error);
      this.#afterStatement();
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

  #afterStatement(): void {
    if (this.#closed) return;
    if (this.#pausing) this.#checkpointWhenIdle();
    this.#pump();
  }

  /** Pauses the reads when the WAL has outgrown its bound (see WAL_PAUSE_BYTES). */
  #checkWal(): void {
    if (this.#pausing || this.#closed || this.#queue.length === 0) return;
    let size: number;
    try {
      size = statSync(`${this.#file}-wal`).size;
    } catch {
      return; // no WAL file (yet, or right after a truncation)
    }
    if (size <= this.#walPauseBytes) return;
    this.#pausing = true;
    this.#checkpointWhenIdle();
  }

  /** While pausing: once no thread reads, the main connection checkpoints and truncates the WAL. */
  #checkpointWhenIdle(): void {
    if (this.#checkpointing || this.#readers.some((reader) => reader.busy !== undefined)) return;
    this.#checkpointing = true;
    const attempt = () => {
      if (this.#closed) return;
      let done: boolean;
      try {
        done = this.#checkpoint();
      } catch {
        done = true; // the reads go on; the next statements look at the WAL again
      }
      if (!done) {
        setImmediate(attempt);
        return;
      }
      this.#checkpointing = false;
      this.#pausing = false;
      this.#checkpoints += 1;
      this.#pump();
    };
    attempt();
  }
}
