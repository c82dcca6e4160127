/**
 * The server loads only the driver of its dialect (each client library costs memory: all three together
 * added about 35 MB RSS at start). Checked in a fresh Node process, whose module cache is not shared with
 * the tests: it builds the ORM (offline, no server needed) and lists the packages it loaded.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ORM_MODULE = join(import.meta.dirname, '../../src/db/orm.ts');

function packagesLoadedFor(databaseUrl: string): string[] {
  const script = `
    import { createRequire } from 'node:module';
    const { createOrm, closeOrm } = await import(${JSON.stringify(ORM_MODULE)});
    await closeOrm(await createOrm(${JSON.stringify(databaseUrl)}, { connect: false }));
    const names = Object.keys(createRequire(import.meta.url).cache).map(
      (path) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(path)?.[1],
    );
    process.stdout.write(JSON.stringify([...new Set(names.filter(Boolean))]));
  `;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(output) as string[];
}

const CLIENTS = ['better-sqlite3', 'pg', 'tedious'];

describe('database drivers', () => {
  it.each([
    ['sqlite:data/never-created.sqlite', 'better-sqlite3'],
    ['postgresql://u:p@127.0.0.1:1/db', 'pg'],
    ['mssql://u:p@127.0.0.1:1/db', 'tedious'],
  ])('%s loads only %s', (url, client) => {
    const loaded = packagesLoadedFor(url);
    expect(loaded.filter((name) => CLIENTS.includes(name))).toEqual([client]);
  });
});
