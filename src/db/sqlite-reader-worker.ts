/**
 * A worker thread with a read-only connection of its own to the service's SQLite file (see
 * sqlite-readers.ts). It answers `{ id, sql, values }` with `{ id, rows }`, or `{ id, error }` with the
 * error's name, message and SQLite code, or `{ id, write: true }` for a statement that would write. Its
 * connection reads as the main one does (sqlite-connection.ts: Unicode `lower()`, kept prepared
 * statements); `query_only` makes SQLite refuse any statement that would write.
 */
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { prepareSqliteReading, type SqliteReadingDatabase } from './sqlite-connection.ts';
import type { ReaderReply, ReaderRequest } from './sqlite-readers.ts';

interface ReaderStatement {
  readonly reader: boolean;
  readonly readonly: boolean;
  readonly busy: boolean;
  all(values: readonly unknown[]): unknown[];
}
interface ReaderDatabase extends SqliteReadingDatabase {
  prepare(sql: string): ReaderStatement;
  pragma(sql: string): unknown;
}

const { file, busyTimeoutMs } = workerData as { file: string; busyTimeoutMs: number };
// better-sqlite3 is a CommonJS module; required as MikroORM's driver loads it.
const Database = createRequire(import.meta.url)('better-sqlite3') as new (
  path: string,
  options: { fileMustExist: boolean; timeout: number },
) => ReaderDatabase;
const database = new Database(file, { fileMustExist: true, timeout: busyTimeoutMs });
database.pragma('query_only = on');
prepareSqliteReading(database);

parentPort!.on('message', ({ id, sql, values }: ReaderRequest) => {
  let reply: ReaderReply;
  try {
    const statement = database.prepare(sql);
    // A statement that writes (`with … insert`, `insert … returning`) is sent back to the main connection.
    reply =
      statement.reader && statement.readonly ? { id, rows: statement.all(values) } : { id, write: true };
  } catch (error) {
    const { name, message, code } = error as { name?: string; message?: string; code?: unknown };
    reply = {
      id,
      error: {
        name: String(name ?? 'Error'),
        message: String(message ?? error),
        ...(typeof code === 'string' ? { code } : {}),
      },
    };
  }
  parentPort!.postMessage(reply);
});
