/** `make adopt` as an administrator runs it: `node src/cli/adopt.ts [--apply]` with DATABASE_URL. */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { closeOrm, createOrm } from '../../src/db/orm.ts';
import { originalSchemaDdl } from '../fixtures/original-schema.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'pd-adopt-'));
const adopt = (file: string, ...args: string[]) =>
  run(process.execPath, ['src/cli/adopt.ts', ...args], {
    env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: `sqlite:${file}` },
  }).then(
    ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

describe('make adopt (the command)', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a SQLite file that does not exist, and does not create it', async () => {
    const file = join(dir, 'missing.sqlite');
    const result = await adopt(file);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/nothing to adopt/);
    expect(existsSync(file)).toBe(false);
  });

  it('prints the plan without --apply, adopts with it, and then has nothing to do', async () => {
    const file = join(dir, 'original.sqlite');
    const orm = await createOrm(`sqlite:${file}`);
    for (const statement of originalSchemaDdl('sqlite'))
      await orm.em.fork().getConnection().execute(statement);
    await closeOrm(orm);
    const plan = await adopt(file);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/Found the original service's tables \(sqlite\)/);
    expect(plan.stdout).toMatch(/Nothing was changed\. Run again with --apply/);
    const applied = await adopt(file, '--apply');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/Step 3 of 3 done/);
    const again = await adopt(file);
    expect(again.stdout.trim()).toBe(
      'This database is already ours (adopted, or created by this service): nothing to do.',
    );
  });
});
