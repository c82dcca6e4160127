/**
 * A delete racing the robots: runs, steps and step runs created while their process (or run) is being
 * soft-deleted are hidden with it or refused (404), never left live under a deleted parent: the delete and
 * every creation check again after they commit (`hideUnderDeletedProcess`); step-run writes take the run's
 * row lock (`lockRun`), which the run's delete waits for. Checked in the tables themselves, every round.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/app.ts';

describe('deletes racing creation', () => {
  let server: TestServer;
  const send = (method: string, path: string, body?: unknown) =>
    server.json<Record<string, unknown> & { id: number }>(method, path, body);
  const sql = <T>(query: string, params: unknown[] = []) =>
    server.container.orm.em.fork().getConnection().execute<T[]>(query, params);

  /** Live rows whose parent is deleted: [table, count] for each kind of child. */
  async function orphans(): Promise<Record<string, number>> {
    const count = async (query: string) => Number((await sql<{ n: number | string }>(query))[0].n);
    return {
      steps: await count(
        'select count(*) as n from process_step s join process p on p.id = s.process_id where s.deleted_at is null and p.deleted_at is not null',
      ),
      runs: await count(
        'select count(*) as n from process_run r join process p on p.id = r.process_id where r.deleted_at is null and p.deleted_at is not null',
      ),
      step_runs: await count(
        'select count(*) as n from process_step_run sr join process_run r on r.id = sr.run_id where sr.deleted_at is null and r.deleted_at is not null',
      ),
    };
  }

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('runs and steps created while their process is deleted are hidden with it or refused', async () => {
    for (let round = 0; round < 5; round++) {
      const process = await send('POST', '/api/v1/processes', { name: `Kapløb ${round}` });
      await send('POST', '/api/v1/steps', { process_id: process.id, index: 0, name: 'Trin' });
      const creations = Array.from({ length: 24 }, (_, i) =>
        i % 6 === 5
          ? server.request('/api/v1/steps', {
              method: 'POST',
              headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({ process_id: process.id, index: i, name: `Trin ${i}` }),
            })
          : server.request('/api/v1/runs', {
              method: 'POST',
              headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({ process_id: process.id, entity_id: `e-${round}-${i}` }),
            }),
      );
      const deletion = new Promise((resolve) => setTimeout(resolve, 5 + round * 3)).then(() =>
        server.request(`/api/v1/processes/${process.id}`, { method: 'DELETE' }),
      );
      const answers = await Promise.all([...creations, deletion]);
      for (const answer of answers) expect([201, 204, 404]).toContain(answer.status);
      expect(answers.at(-1)!.status).toBe(204);
      expect(await orphans()).toEqual({ steps: 0, runs: 0, step_runs: 0 });
      // Everything of the process is hidden: a run created before the delete answers 404 now.
      const created = await Promise.all(
        answers
          .slice(0, -1)
          .filter((answer) => answer.status === 201)
          .map((answer) => answer.json()),
      );
      for (const item of created as { id: number; entity_id?: string }[]) {
        const path =
          item.entity_id === undefined ? `/api/v1/steps/process/${process.id}` : `/api/v1/runs/${item.id}`;
        const lookup = await server.request(path);
        if (item.entity_id === undefined) expect(await lookup.json()).toEqual([]);
        else expect(lookup.status).toBe(404);
      }
    }
  });

  it('step runs reported while their run is deleted are hidden with it or refused', async () => {
    const process = await send('POST', '/api/v1/processes', { name: 'Kapløb trin' });
    const step = await send('POST', '/api/v1/steps', { process_id: process.id, index: 0, name: 'Trin' });
    for (let round = 0; round < 5; round++) {
      const run = await send('POST', '/api/v1/runs', { process_id: process.id, entity_id: `r-${round}` });
      const reports = Array.from({ length: 16 }, (_, i) =>
        server.request('/api/v1/step-runs', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ run_id: run.id, step_id: step.id, step_index: i + 1 }),
        }),
      );
      const deletion = new Promise((resolve) => setTimeout(resolve, 5 + round * 3)).then(() =>
        server.request(`/api/v1/runs/${run.id}`, { method: 'DELETE' }),
      );
      const answers = await Promise.all([...reports, deletion]);
      for (const answer of answers) expect([201, 204, 404]).toContain(answer.status);
      expect(await orphans()).toEqual({ steps: 0, runs: 0, step_runs: 0 });
    }
  });
});
