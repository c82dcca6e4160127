/**
 * One run that cannot be neutralised does not undo or stop the others: each run is neutralised in its own
 * transaction. The failure is forced by a trigger that refuses any update of one run (as a broken row or a
 * database constraint would), written for each dialect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/app.ts';
import { testDialect } from '../support/database.ts';

const POISON = 'POISONED-ROW';

/** A trigger refusing every update of the run whose entity_id is POISON. */
function poisonTrigger(): string[] {
  switch (testDialect()) {
    case 'sqlite':
      return [
        `create trigger poison before update on process_run when old.entity_id = '${POISON}' ` +
          `begin select raise(abort, 'this row cannot be changed'); end`,
      ];
    case 'postgresql':
      return [
        `create function poison() returns trigger language plpgsql as $$ begin ` +
          `if old.entity_id = '${POISON}' then raise exception 'this row cannot be changed'; end if; ` +
          `return new; end $$`,
        'create trigger poison before update on process_run for each row execute function poison()',
      ];
    case 'mssql':
      return [
        `create trigger poison on process_run after update as begin ` +
          `if exists (select 1 from deleted where entity_id = '${POISON}') ` +
          `throw 50000, 'this row cannot be changed', 1; end`,
      ];
  }
}

describe('a batch with a run that cannot be neutralised', () => {
  let server: TestServer;
  const sql = <T>(query: string, params: unknown[] = []) =>
    server.container.orm.em.fork().getConnection().execute<T[]>(query, params);

  beforeAll(async () => {
    // A small pool: a connection not given back after a failed transaction would show within 3 batches.
    server = await startTestServer({ DB_POOL_SIZE: '2', DB_ACQUIRE_TIMEOUT_MS: '2000' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('neutralises the others, lists the failed one with a reason, and leaves it unchanged', async () => {
    const process = await server.json<{ id: number }>('POST', '/api/v1/processes', {
      name: 'Forgiftet',
      retention_months: 1,
    });
    await server.json('POST', '/api/v1/steps', { process_id: process.id, index: 0, name: 'Trin' });
    const ids: number[] = [];
    for (const entity_id of ['0101901111', POISON, '0101903333']) {
      const run = await server.json<{ id: number }>('POST', '/api/v1/runs', {
        process_id: process.id,
        entity_id,
        entity_name: 'Karen Blixen',
        meta: { cpr: entity_id },
      });
      ids.push(run.id);
    }
    // Due now, in id order.
    for (const [index, id] of ids.entries()) {
      await server.container.orm.em
        .fork()
        .getConnection()
        .execute('update process_run set scheduled_deletion_at = ? where id = ?', [
          new Date(Date.UTC(2020, 0, 1, 0, index)),
          id,
        ]);
    }
    for (const statement of poisonTrigger()) await sql(statement);

    const result = await server.json<Record<string, unknown>>(
      'POST',
      '/api/v1/admin/cleanup/neutralize?limit=10&dry_run=false',
    );
    expect(result).toMatchObject({
      dry_run: false,
      total_found: 3,
      neutralized: 2,
      failed: 1,
      neutralized_run_ids: [ids[0], ids[2]],
      failed_run_ids: [ids[1]],
    });
    // One reason, for the failed run, without a stack, SQL or a table name.
    const errors = result['errors'] as { run_id: number; error: string }[];
    expect(errors.map((error) => error.run_id)).toEqual([ids[1]]);
    const reason = errors[0].error;
    expect(reason).toMatch(
      new RegExp(`^Run ${ids[1]} could not be neutralized: the database refused the change`),
    );
    expect(reason).not.toMatch(/process_run|update |select |\bat \//i);

    const rows = await sql<{
      id: number;
      entity_id: string;
      entity_name: string | null;
      is_neutralized: unknown;
    }>(
      `select id, entity_id, entity_name, is_neutralized from process_run where id in (?, ?, ?) order by id`,
      ids,
    );
    expect(rows.map((row) => [row.entity_id, row.entity_name, Boolean(row.is_neutralized)])).toEqual([
      [`NEUTRALIZED_${ids[0]}`, null, true],
      [POISON, 'Karen Blixen', false],
      [`NEUTRALIZED_${ids[2]}`, null, true],
    ]);
    // Every failed transaction gave its connection back (SQL Server ends such a transaction itself; see
    // skipRollbackOfEndedTransaction): more failing batches than the pool has connections still answer.
    for (let attempt = 0; attempt < 4; attempt++) {
      const again = await server.json<Record<string, unknown>>(
        'POST',
        '/api/v1/admin/cleanup/neutralize?limit=10&dry_run=false',
      );
      expect(again).toMatchObject({ total_found: 1, failed_run_ids: [ids[1]] });
    }
    // Still due: the next batch tries it again, and neutralises it once the row can be changed.
    const stats = await server.json<{ sample_run_ids: number[] }>('GET', '/api/v1/admin/cleanup/stats');
    expect(stats.sample_run_ids).toEqual([ids[1]]);
    await sql('drop trigger poison' + (testDialect() === 'postgresql' ? ' on process_run' : ''));
    const retried = await server.json<Record<string, unknown>>(
      'POST',
      '/api/v1/admin/cleanup/neutralize?limit=10&dry_run=false',
    );
    expect(retried).toMatchObject({ neutralized_run_ids: [ids[1]], failed_run_ids: [] });
  });
});
