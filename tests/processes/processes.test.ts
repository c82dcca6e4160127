import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Configuration, ProcessesApi, ResponseError, StepsApi } from '../../generated/sdk/src/index.ts';
import { Process, ProcessRun, ProcessStep } from '../../src/entities/index.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import { rawRequest } from '../support/raw-http.ts';
import { expectPageHeaders } from '../support/pagination.ts';
import { recountRuns } from '../../src/db/run-counts.ts';

interface ProcessBody {
  id: number;
  name: string;
  meta: Record<string, unknown>;
  retention_months: number | null;
  neutralize_keep_keys: string[] | null;
  created_at: string;
  updated_at: string;
  steps: { id: number; index: number; name: string }[];
}
interface PageBody {
  items: ProcessBody[];
  total: number;
  page: number;
  size: number;
  pages: number;
}
interface Problem {
  status: number;
  type: string;
  title: string;
  detail: string;
}

const DANISH = { beskrivelse: 'Årlig opgørelse – Ærø, Øster Ørbæk', emoji: '🤖✅🇩🇰', liste: ['æ', 'ø', 'å'] };

describe('processes', () => {
  let server: TestServer;
  const json = (body: unknown, key?: string): RequestInit => ({
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', ...(key === undefined ? {} : { 'X-API-Key': key }) },
  });
  const post = (body: unknown, key?: string) =>
    server.request('/api/v1/processes', { method: 'POST', ...json(body, key) });
  const patch = (id: number, body: unknown, key?: string) =>
    server.request(`/api/v1/processes/${id}`, { method: 'PATCH', ...json(body, key) });
  const create = async (body: Record<string, unknown>): Promise<ProcessBody> => {
    const response = await post(body);
    expect(response.status).toBe(201);
    return (await response.json()) as ProcessBody;
  };
  const addStep = async (process_id: number, index: number, extra: Record<string, unknown> = {}) => {
    const response = await server.request('/api/v1/steps', {
      method: 'POST',
      ...json({ process_id, index, name: `Trin ${index}`, ...extra }),
    });
    expect(response.status).toBe(201);
    return (await response.json()) as { id: number };
  };
  const count = async () => {
    const response = await server.request('/api/v1/processes?size=1');
    return ((await response.json()) as PageBody).total;
  };

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  describe('POST /api/v1/processes', () => {
    it('creates a process with defaults and no steps', async () => {
      const created = await create({ name: 'Borgerservice – flytning' });
      expect(created).toMatchObject({
        name: 'Borgerservice – flytning',
        meta: {},
        retention_months: null,
        neutralize_keep_keys: null,
        steps: [],
      });
      expect(created.id).toBeGreaterThan(0);
      expect(Date.parse(created.created_at)).not.toBeNaN();
    });

    it('keeps Danish text and emoji in name and meta intact, and reads them back', async () => {
      const created = await create({ name: 'Aktindsigt – æøå ÆØÅ 🤖', meta: DANISH });
      expect(created.name).toBe('Aktindsigt – æøå ÆØÅ 🤖');
      expect(created.meta).toEqual(DANISH);
      const read = (await (await server.request(`/api/v1/processes/${created.id}`)).json()) as ProcessBody;
      expect(read.name).toBe('Aktindsigt – æøå ÆØÅ 🤖');
      expect(read.meta).toEqual(DANISH);
    });

    it('lets an admin key set retention_months and neutralize_keep_keys', async () => {
      const created = await create({
        name: 'Med opbevaring',
        retention_months: 48,
        neutralize_keep_keys: ['klinik'],
      });
      expect(created).toMatchObject({ retention_months: 48, neutralize_keep_keys: ['klinik'] });
    });

    it('lets a user key create a process, with retention_months null allowed', async () => {
      const response = await post({ name: 'Robotens proces', retention_months: null }, server.userKey);
      expect(response.status).toBe(201);
      expect(await response.json()).toMatchObject({ name: 'Robotens proces', retention_months: null });
    });

    it.each([
      ['retention_months with a value', { retention_months: 12 }],
      ['neutralize_keep_keys with a list', { neutralize_keep_keys: ['department'] }],
      ['neutralize_keep_keys as null', { neutralize_keep_keys: null }],
    ])('refuses a user key sending %s with 403 and creates nothing', async (_label, extra) => {
      const before = await count();
      const response = await post({ name: 'Forbudt', ...extra }, server.userKey);
      expect(response.status).toBe(403);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(((await response.json()) as Problem).status).toBe(403);
      expect(await count()).toBe(before);
    });

    it('ignores unknown and server-owned body members', async () => {
      const created = await create({
        name: 'Ukendte felter',
        id: 999_999,
        steps: [{ index: 0 }],
        foo: 'bar',
      });
      expect(created.id).not.toBe(999_999);
      expect(created.steps).toEqual([]);
      expect(created).not.toHaveProperty('foo');
    });

    it('answers 422 for a missing or empty name and for retention out of range', async () => {
      expect((await post({})).status).toBe(422);
      expect((await post({ name: '' })).status).toBe(422);
      expect((await post({ name: 'x', retention_months: 0 })).status).toBe(422);
      expect((await post({ name: 'x', meta: [] })).status).toBe(422);
    });

    it('answers 401 without a key', async () => {
      const response = await fetch(`${server.baseUrl}/api/v1/processes`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'x' }),
      });
      expect(response.status).toBe(401);
    });
  });

  describe('GET /api/v1/processes/{process_id}', () => {
    it('includes the live steps ordered by index, not soft-deleted ones', async () => {
      const process = await create({ name: 'Med trin' });
      await addStep(process.id, 2);
      const hidden = await addStep(process.id, 1);
      await addStep(process.id, 0);
      const em = server.container.em();
      await em.nativeUpdate(ProcessStep, { id: hidden.id }, { deleted_at: new Date() });
      const read = (await (await server.request(`/api/v1/processes/${process.id}`)).json()) as ProcessBody;
      expect(read.steps.map((step) => step.index)).toEqual([0, 2]);
    });

    it('answers 404 with a problem for an unknown process and for a soft-deleted one', async () => {
      const unknown = await server.request('/api/v1/processes/2147483647');
      expect(unknown.status).toBe(404);
      expect(unknown.headers.get('content-type')).toContain('application/problem+json');
      expect(((await unknown.json()) as Problem).status).toBe(404);

      const process = await create({ name: 'Slettes' });
      await server.container.em().nativeUpdate(Process, { id: process.id }, { deleted_at: new Date() });
      expect((await server.request(`/api/v1/processes/${process.id}`)).status).toBe(404);
      expect((await patch(process.id, { name: 'x' })).status).toBe(404);
    });

    it('answers 422 for an id that is not a positive integer', async () => {
      expect((await server.request('/api/v1/processes/0')).status).toBe(422);
      expect((await server.request('/api/v1/processes/abc')).status).toBe(422);
    });

    it('is readable with a user key', async () => {
      const process = await create({ name: 'Læsbar' });
      const response = await server.request(`/api/v1/processes/${process.id}`, {
        headers: { 'X-API-Key': server.userKey },
      });
      expect(response.status).toBe(200);
    });
  });

  describe('PATCH /api/v1/processes/{process_id}', () => {
    it('changes only the members sent and replaces meta as a whole', async () => {
      const process = await create({ name: 'Før', meta: { a: 1, b: 2 }, retention_months: 6 });
      const response = await patch(process.id, { meta: { c: 'æøå 🎉' } });
      expect(response.status).toBe(200);
      const updated = (await response.json()) as ProcessBody;
      expect(updated).toMatchObject({ name: 'Før', meta: { c: 'æøå 🎉' }, retention_months: 6 });
      expect(Date.parse(updated.updated_at)).toBeGreaterThanOrEqual(Date.parse(process.updated_at));
    });

    it('lets a user key change name and meta', async () => {
      const process = await create({ name: 'Gammelt navn' });
      const response = await patch(process.id, { name: 'Nyt navn – Å', meta: DANISH }, server.userKey);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ name: 'Nyt navn – Å', meta: DANISH });
    });

    it.each([
      ['retention_months with a value', { retention_months: 24 }],
      ['retention_months as null', { retention_months: null }],
      ['neutralize_keep_keys as null', { neutralize_keep_keys: null }],
      ['neutralize_keep_keys with a name too', { name: 'Ændret', neutralize_keep_keys: ['x'] }],
    ])('refuses a user key sending %s with 403 and changes nothing', async (_label, body) => {
      const process = await create({ name: 'Uændret', retention_months: 12, neutralize_keep_keys: ['a'] });
      const response = await patch(process.id, body, server.userKey);
      expect(response.status).toBe(403);
      const read = (await (await server.request(`/api/v1/processes/${process.id}`)).json()) as ProcessBody;
      expect(read).toMatchObject({ name: 'Uændret', retention_months: 12, neutralize_keep_keys: ['a'] });
    });

    it('lets an admin change retention and recomputes the runs’ scheduled deletion in calendar months', async () => {
      const process = await create({ name: 'Opbevaring' });
      const em = server.container.em();
      const run = em.create(ProcessRun, {
        process: process.id,
        entity_id: '010190-1234',
        status: 'completed',
        created_at: new Date('2026-01-31T10:00:00.000Z'),
      });
      await em.flush();
      // Written behind the service's back: its run counts counted again, as a migration would.
      await recountRuns(em);
      const response = await patch(process.id, { retention_months: 1, neutralize_keep_keys: ['kommune'] });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ retention_months: 1, neutralize_keep_keys: ['kommune'] });
      const stored = await server.container.em().findOneOrFail(ProcessRun, { id: run.id });
      expect(stored.scheduled_deletion_at?.toISOString()).toBe('2026-02-28T10:00:00.000Z');

      expect((await patch(process.id, { retention_months: null })).status).toBe(200);
      const cleared = await server.container.em().findOneOrFail(ProcessRun, { id: run.id });
      expect(cleared.scheduled_deletion_at).toBeNull();
    });

    it('answers 422 for an empty body and 404 for an unknown process', async () => {
      const process = await create({ name: 'Tom' });
      expect((await patch(process.id, {})).status).toBe(422);
      expect((await patch(2147483647, { name: 'x' })).status).toBe(404);
    });

    it('ignores unknown members (a body of only unknown members is empty: 422)', async () => {
      const process = await create({ name: 'Kendt' });
      const response = await patch(process.id, {
        name: 'Kendt 2',
        id: 1,
        created_at: '2000-01-01T00:00:00Z',
      });
      expect(response.status).toBe(200);
      const updated = (await response.json()) as ProcessBody;
      expect(updated.id).toBe(process.id);
      expect(updated.created_at).toBe(process.created_at);
      expect((await patch(process.id, { unknown: true })).status).toBe(422);
    });
  });

  describe('GET /api/v1/processes', () => {
    it('pages by id with the pagination headers, and past the last page is empty', async () => {
      await create({ name: 'Side A' });
      await create({ name: 'Side B' });
      const all = (await (await server.request('/api/v1/processes?size=100')).json()) as PageBody;
      const ids = all.items.map((item) => item.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(all.total).toBeGreaterThanOrEqual(2);

      const response = await server.request('/api/v1/processes?page=2&size=1');
      expect(response.status).toBe(200);
      const second = (await response.json()) as PageBody;
      expect(second).toMatchObject({ page: 2, size: 1, total: all.total, pages: all.total });
      expect(second.items.map((item) => item.id)).toEqual([ids[1]]);
      const link = expectPageHeaders(response, { page: 2, size: 1, total: all.total });
      expect(link).toContain('page=1&size=1>; rel="prev"');
      expect(link).toContain('page=3&size=1>; rel="next"');

      const beyond = await server.request(`/api/v1/processes?page=${all.total + 5}&size=1`);
      expect(beyond.status).toBe(200);
      expect(await beyond.json()).toMatchObject({ items: [], total: all.total, page: all.total + 5 });
      expect(beyond.headers.get('link')).toContain(`page=${all.total}&size=1>; rel="prev"`);
      expect(beyond.headers.get('link')).not.toContain('rel="next"');
      const huge = await server.request('/api/v1/processes?page=2147483647&size=100');
      expect(huge.status).toBe(200);
      expect(((await huge.json()) as PageBody).items).toEqual([]);
    });

    it('defaults to page 1 of 50 and refuses sizes and pages outside the limits', async () => {
      const response = await server.request('/api/v1/processes');
      expect(await response.json()).toMatchObject({ page: 1, size: 50 });
      for (const query of ['size=0', 'size=101', 'page=0', 'page=-1', 'size=abc', 'page=2147483648']) {
        expect((await server.request(`/api/v1/processes?${query}`)).status, query).toBe(422);
      }
      expect((await server.request('/api/v1/processes?size=100')).status).toBe(200);
    });

    it('includes each process’s live steps by index, and hides soft-deleted processes', async () => {
      const process = await create({ name: 'Liste med trin' });
      await addStep(process.id, 1);
      await addStep(process.id, 0);
      const gone = await create({ name: 'Skjult' });
      await server.container.em().nativeUpdate(Process, { id: gone.id }, { deleted_at: new Date() });
      const page = (await (await server.request('/api/v1/processes?size=100')).json()) as PageBody;
      const listed = page.items.find((item) => item.id === process.id);
      expect(listed?.steps.map((step) => step.index)).toEqual([0, 1]);
      expect(page.items.some((item) => item.id === gone.id)).toBe(false);
      expect(page.total).toBe(page.items.length);
    });

    it('takes the query string as clients write it and ignores unknown parameters', async () => {
      const raw = await rawRequest(server.baseUrl, {
        target: '/api/v1/processes/?include_deleted=false&size=2&page=1&q=a+b:c,d/e@f',
        headers: { 'X-API-Key': server.userKey },
      });
      expect(raw.status).toBe(200);
      expect(JSON.parse(raw.text)).toMatchObject({ page: 1, size: 2 });
      expect(String(raw.headers['link'])).toContain('include_deleted=false');
      const nonAscii = await rawRequest(server.baseUrl, {
        target: '/api/v1/processes?name=\u00e6',
        headers: { 'X-API-Key': server.userKey },
      });
      expect(nonAscii.status).toBe(400);
    });
  });

  describe('through the SDK', () => {
    it('creates, reads, updates and lists a process with its steps', async () => {
      const config = (apiKey: string) => new Configuration({ basePath: server.baseUrl, apiKey });
      const processes = new ProcessesApi(config(server.userKey));
      const created = await processes.createProcess({
        ProcessCreate: { name: 'SDK – Ærø', meta: { note: 'blåbærgrød 🫐' } },
      });
      await new StepsApi(config(server.userKey)).createStep({
        ProcessStepCreate: { process_id: created.id, index: 0, name: 'Første trin', is_rerunnable: true },
      });
      const read = await processes.getProcess({ process_id: created.id });
      expect(read.meta).toEqual({ note: 'blåbærgrød 🫐' });
      expect(read.steps.map((step) => step.name)).toEqual(['Første trin']);
      const updated = await processes.updateProcess({
        process_id: created.id,
        ProcessUpdate: { name: 'SDK – Ærø 2' },
      });
      expect(updated.name).toBe('SDK – Ærø 2');
      const page = await processes.listProcesses({ page: 1, size: 100 });
      expect(page.items.some((item) => item.id === created.id)).toBe(true);

      const refused = await processes
        .updateProcess({ process_id: created.id, ProcessUpdate: { retention_months: 3 } })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(refused).toBeInstanceOf(ResponseError);
      expect((refused as ResponseError).response.status).toBe(403);
    });
  });
});
