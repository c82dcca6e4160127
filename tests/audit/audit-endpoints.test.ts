/**
 * The specification of reading the audit trail (admin only): `GET /api/v1/audit-logs` (listAuditLogs),
 * `/audit-logs/users` (listAuditLogUsers), `/audit-logs/actions` (listAuditLogActions) and
 * `/audit-logs/stats` (getAuditLogStats).
 *
 * One server for the file; its audit entries are written straight into `audit_log` with chosen values.
 * The server also records the test's own requests (the audit trail), so every assertion is kept to the
 * entries written here: the listed ones are all from January 2020 (every list query says
 * `created_before=2020-12-31T23:59:59Z`, or checks only their relative order), and the statistics are
 * asked per user (users only these entries have), or compared with what the table holds at that moment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Schemas } from '../../src/contract.ts';
import { AuditLog } from '../../src/entities/index.ts';
import { compareCodePoints } from '../../src/services/process-fields.service.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import { expectPageHeaders } from '../support/pagination.ts';
import { expectProblem, expectStatus } from '../support/responses.ts';

type Entry = Schemas['AuditLog'];
type Page = Schemas['AuditLogPage'];
type Stats = Schemas['AuditLogStats'];

/** Every listed entry was created before this; the server's own entries are created after it. */
const LISTED_BEFORE = '2020-12-31T23:59:59Z';

type Row = Partial<Omit<AuditLog, 'id'>> & Pick<AuditLog, 'created_at' | 'method' | 'path'>;

/** A full row: the members a test does not care about are null, as for an unauthenticated GET. */
function row(values: Row): Omit<AuditLog, 'id'> {
  return {
    api_key_id: null,
    api_key_name: null,
    api_key_role: null,
    user_email: null,
    action: null,
    operation_id: null,
    query_params: null,
    resource_type: null,
    resource_id: null,
    status_code: 200,
    duration_ms: 1,
    ip_address: null,
    user_agent: null,
    request_id: null,
    error_message: null,
    changes: null,
    ...values,
  };
}

const at = (iso: string) => new Date(iso);

/** The listed entries (January 2020), by label, in insertion order (so ids ascend in this order). */
const LISTED = {
  a: row({
    created_at: at('2020-01-05T10:00:00.000Z'),
    api_key_id: 1,
    api_key_name: 'Driftsteam – Økonomi og Løn',
    api_key_role: 'admin',
    user_email: 'mette.jorgensen@aarhus.dk',
    action: 'Genstart fejlet trin',
    method: 'POST',
    path: '/api/v1/step-runs/123/rerun',
    operation_id: 'rerunStepRun',
    resource_type: 'step_run',
    resource_id: '123',
    status_code: 409,
    duration_ms: 8.9,
    ip_address: '10.20.30.40',
    user_agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)',
    request_id: '3b8f0c1a-6d2e-4f7a-9c5b-1e2d3f4a5b6c',
    error_message: 'Step run 123 has reached its maximum of 3 reruns',
  }),
  // Created at the same time as `a`, inserted after it: listed before it (id descending).
  b: row({
    created_at: at('2020-01-05T10:00:00.000Z'),
    api_key_id: 5,
    api_key_name: 'RPA robot – Borgerservice',
    api_key_role: 'user',
    user_email: 'jens.hansen@aarhus.dk',
    method: 'PATCH',
    path: '/api/v1/step-runs/123',
    operation_id: 'updateStepRun',
    resource_type: 'step_run',
    resource_id: '123',
    status_code: 200,
    duration_ms: 12.4,
    request_id: '9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f',
    changes: { status: 'failed', failure: { error_code: 'CPR_OPSLAG_FEJL' } },
  }),
  c: row({
    created_at: at('2020-01-04T08:00:00.000Z'),
    api_key_id: 5,
    api_key_name: 'RPA robot – Borgerservice',
    api_key_role: 'user',
    method: 'GET',
    path: '/api/v1/runs',
    operation_id: 'listRuns',
    query_params: { status: ['failed', 'running'], page: '2' },
    status_code: 200,
    duration_ms: 500,
    request_id: 'c',
  }),
  d: row({
    created_at: at('2020-01-03T00:00:00.000Z'),
    api_key_id: 1,
    user_email: 'mette.jorgensen@aarhus.dk',
    action: 'Slet kørsel',
    method: 'DELETE',
    path: '/api/v1/runs/42',
    resource_type: 'run',
    resource_id: '42',
    status_code: 204,
    duration_ms: 30.5,
    request_id: 'd',
  }),
  e: row({
    created_at: at('2020-01-02T00:00:00.000Z'),
    api_key_id: 1,
    user_email: 'søren.østergård@aarhus.dk',
    action: 'Opret API-nøgle',
    method: 'POST',
    path: '/api/v1/api-keys',
    resource_type: 'api_key',
    resource_id: '7',
    status_code: 201,
    duration_ms: 499.99,
    request_id: 'e',
  }),
  // An unauthenticated request with LIKE wildcards in its path, stored without a request id (as entries
  // adopted from the original service are).
  f: row({
    created_at: at('2020-01-01T00:00:00.000Z'),
    method: 'GET',
    path: '/api/v1/Processes/100%_done',
    status_code: 401,
    duration_ms: 0.25,
    error_message: 'Missing API key',
  }),
  // Matches `100%_` only if the wildcards were not escaped; its resource id is not a number.
  g: row({
    created_at: at('2020-01-01T00:00:00.000Z'),
    api_key_id: 2,
    method: 'GET',
    path: '/api/v1/processes/1000done/Æble',
    resource_type: 'process',
    resource_id: 'abc',
    status_code: 404,
    duration_ms: 2,
    request_id: 'g',
  }),
};
type Label = keyof typeof LISTED;
/** Newest first: created_at descending, then id descending. */
const NEWEST_FIRST: Label[] = ['b', 'a', 'c', 'd', 'e', 'g', 'f'];

/** Users and actions only the statistics entries have. */
const STATS_JENS = 'stats.jens.hansen@aarhus.dk';
const STATS_METTE = 'stats.mette.jorgensen@aarhus.dk';
const MINUTE = 60_000;

/** The statistics entries, created relative to the start of the file (`now`). */
function statsRows(now: number): Omit<AuditLog, 'id'>[] {
  const ago = (minutes: number) => new Date(now - minutes * MINUTE);
  const jens = (minutes: number, values: Partial<Row> & Pick<Row, 'method'>) =>
    row({ created_at: ago(minutes), user_email: STATS_JENS, path: '/api/v1/runs', ...values });
  return [
    jens(10, { method: 'GET', status_code: 200, duration_ms: 10.125 }),
    jens(20, { method: 'GET', status_code: 399, duration_ms: 20.25, action: 'Eksporter rapport' }),
    jens(30, { method: 'POST', status_code: 400, duration_ms: 5, action: 'Genstart fejlet trin' }),
    jens(120, { method: 'PATCH', status_code: 500, duration_ms: 100, action: 'Genstart fejlet trin' }),
    // Outside the default 24 hours, inside 48.
    jens(30 * 60, { method: 'GET', status_code: 200, duration_ms: 1000, action: 'Gammel handling' }),
    row({
      created_at: ago(5),
      user_email: STATS_METTE,
      action: 'Eksporter rapport',
      method: 'GET',
      path: '/api/v1/runs',
      duration_ms: 1,
    }),
    row({
      created_at: ago(6),
      user_email: STATS_METTE,
      action: 'Slet kørsel',
      method: 'DELETE',
      path: '/api/v1/runs/9',
      status_code: 204,
      duration_ms: 2,
    }),
    // Without a user: counted in by_action, never in top_users.
    row({ created_at: ago(7), action: 'Slet kørsel', method: 'GET', path: '/api/v1/runs', duration_ms: 3 }),
  ];
}

let server: TestServer;
const ids = {} as Record<Label, number>;

beforeAll(async () => {
  const now = Date.now();
  server = await startTestServer();
  const em = server.container.orm.em.fork();
  for (const label of Object.keys(LISTED) as Label[]) {
    ids[label] = await em.insert(AuditLog, LISTED[label]);
  }
  for (const values of statsRows(now)) await em.insert(AuditLog, values);
});

afterAll(async () => {
  await server?.close();
});

async function list(query: string): Promise<{ response: Response; page: Page }> {
  const response = await server.request(`/api/v1/audit-logs?${query}`);
  return { response, page: await expectStatus<Page>(response, 200) };
}

/** The labels of the listed entries a filter finds (among the January 2020 entries), in the order listed. */
async function found(filters: string): Promise<Label[]> {
  const { page } = await list(`created_before=${LISTED_BEFORE}&size=100&${filters}`);
  expect(page.total).toBe(page.items.length);
  const byId = new Map(Object.entries(ids).map(([label, id]) => [id, label as Label]));
  return page.items.map((item) => {
    const label = byId.get(item.id);
    if (label === undefined) throw new Error(`entry ${item.id} is not one of the listed entries`);
    return label;
  });
}

describe('GET /audit-logs (listAuditLogs)', () => {
  it('shows every member of an entry as the contract does', async () => {
    const { page } = await list(`created_before=${LISTED_BEFORE}&size=100`);
    const shown = (label: Label) => page.items.find((item) => item.id === ids[label]);
    expect(shown('a')).toEqual({
      id: ids.a,
      created_at: '2020-01-05T10:00:00.000Z',
      api_key_id: 1,
      api_key_name: 'Driftsteam – Økonomi og Løn',
      role: 'admin',
      user_email: 'mette.jorgensen@aarhus.dk',
      action: 'Genstart fejlet trin',
      method: 'POST',
      path: '/api/v1/step-runs/123/rerun',
      operation_id: 'rerunStepRun',
      query_params: null,
      resource_type: 'step_run',
      resource_id: 123,
      status_code: 409,
      duration_ms: 8.9,
      ip_address: '10.20.30.40',
      user_agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)',
      request_id: '3b8f0c1a-6d2e-4f7a-9c5b-1e2d3f4a5b6c',
      error_message: 'Step run 123 has reached its maximum of 3 reruns',
      changes: null,
    } satisfies Entry);
    expect(shown('b')?.changes).toEqual({ status: 'failed', failure: { error_code: 'CPR_OPSLAG_FEJL' } });
    expect(shown('c')?.query_params).toEqual({ status: ['failed', 'running'], page: '2' });
    // No key, no request id (the contract's member is a string: shown as '').
    expect(shown('f')).toMatchObject({
      api_key_id: null,
      api_key_name: null,
      role: null,
      operation_id: null,
      user_email: null,
      action: null,
      resource_type: null,
      resource_id: null,
      request_id: null,
      duration_ms: 0.25,
    });
    // A stored resource id that is not a number is not shown as one.
    expect(shown('g')).toMatchObject({ resource_type: 'process', resource_id: null });
  });

  it('shows an entry taken over from the original without a status or request id', async () => {
    // make adopt fills the original's NULL status with 0 (our column is NOT NULL).
    const adopted = await server.container.orm.em.fork().insert(
      AuditLog,
      row({
        created_at: new Date('2021-06-01T10:00:00Z'),
        method: 'GET',
        path: '/api/v1/runs',
        user_email: 'adopted@aarhus.dk',
        status_code: 0,
      }),
    );
    const { page } = await list('user_email=adopted@aarhus.dk');
    expect(page.items.map((item) => [item.id, item.status_code, item.request_id])).toEqual([
      [adopted, 0, null],
    ]);
  });

  it('lists newest first (created_at, then id, descending)', async () => {
    expect(await found('')).toEqual(NEWEST_FIRST);
  });

  it('without filters lists every entry, newest first, 50 a page', async () => {
    const { response, page } = await list('');
    expect(page.page).toBe(1);
    expect(page.size).toBe(50);
    expect(page.total).toBeGreaterThanOrEqual(15);
    expectPageHeaders(response, { page: 1, size: 50, total: page.total });
    const times = page.items.map((item) => [Date.parse(item.created_at), item.id] as const);
    for (let index = 1; index < times.length; index++) {
      const [time, id] = times[index];
      const [previousTime, previousId] = times[index - 1];
      expect(time < previousTime || (time === previousTime && id < previousId)).toBe(true);
    }
    const all = (await list('size=100')).page.items.map((item) => item.id);
    const listed = NEWEST_FIRST.map((label) => ids[label]);
    expect(all.filter((id) => listed.includes(id))).toEqual(listed);
  });

  it('pages with page and size, with the pagination headers and links', async () => {
    const query = `created_before=${LISTED_BEFORE}&size=3`;
    const pages: Label[][] = [];
    for (const number of [1, 2, 3, 4]) {
      const { response, page } = await list(`${query}&page=${number}`);
      expect(page).toMatchObject({ total: 7, page: number, size: 3, pages: 3 });
      const link = expectPageHeaders(response, { page: number, size: 3, total: 7 });
      expect(link).toContain(`created_before=${encodeURIComponent(LISTED_BEFORE)}`);
      if (number === 2) {
        expect(link).toMatch(/[?&]page=1&size=3[^>]*>; rel="prev"/);
        expect(link).toMatch(/[?&]page=3&size=3[^>]*>; rel="next"/);
      }
      const byId = new Map(Object.entries(ids).map(([label, id]) => [id, label as Label]));
      pages.push(page.items.map((item) => byId.get(item.id)!));
    }
    expect(pages).toEqual([['b', 'a', 'c'], ['d', 'e', 'g'], ['f'], []]);
  });

  it('filters by user_email, exactly', async () => {
    expect(await found('user_email=mette.jorgensen%40aarhus.dk')).toEqual(['a', 'd']);
    expect(await found(`user_email=${encodeURIComponent('søren.østergård@aarhus.dk')}`)).toEqual(['e']);
    expect(await found('user_email=mette')).toEqual([]);
  });

  it('filters by action, exactly', async () => {
    expect(await found(`action=${encodeURIComponent('Slet kørsel')}`)).toEqual(['d']);
    expect(await found('action=Slet')).toEqual([]);
  });

  it('filters by method', async () => {
    expect(await found('method=POST')).toEqual(['a', 'e']);
    expect(await found('method=DELETE')).toEqual(['d']);
    expect(await found('method=PUT')).toEqual([]);
  });

  it('filters by a part of the path, ignoring case, with LIKE wildcards matching literally', async () => {
    expect(await found('path=STEP-RUNS%2F123')).toEqual(['b', 'a']);
    expect(await found('path=%2Frerun')).toEqual(['a']);
    expect(await found('path=100%25_')).toEqual(['f']);
    expect(await found('path=%25')).toEqual(['f']);
    expect(await found('path=_')).toEqual(['f']);
    expect(await found(`path=${encodeURIComponent('æBLE')}`)).toEqual(['g']);
    expect(await found('path=processes%2F100')).toEqual(['g', 'f']);
  });

  it('filters by status_code', async () => {
    expect(await found('status_code=200')).toEqual(['b', 'c']);
    expect(await found('status_code=401')).toEqual(['f']);
    expect(await found('status_code=500')).toEqual([]);
  });

  it('filters by min_duration, inclusive', async () => {
    expect(await found('min_duration=499.99')).toEqual(['c', 'e']);
    expect(await found('min_duration=500')).toEqual(['c']);
    expect(await found('min_duration=0')).toEqual(NEWEST_FIRST);
  });

  it('filters by api_key_id', async () => {
    expect(await found('api_key_id=5')).toEqual(['b', 'c']);
    expect(await found('api_key_id=1')).toEqual(['a', 'd', 'e']);
    expect(await found('api_key_id=99')).toEqual([]);
    expect(await found('role=user')).toEqual(['b', 'c']);
    expect(await found('role=admin')).toEqual(['a']);
    expect(await found('operation_id=updateStepRun')).toEqual(['b']);
    expect(await found('operation_id=listRuns&role=user')).toEqual(['c']);
  });

  it('filters by created_after and created_before, both inclusive, offset-less times as UTC', async () => {
    expect(await found('created_after=2020-01-04T08:00:00Z')).toEqual(['b', 'a', 'c']);
    expect(await found('created_after=2020-01-04T08:00:00.001Z')).toEqual(['b', 'a']);
    expect(await found('created_after=2020-01-04T09:00:00%2B01:00')).toEqual(['b', 'a', 'c']);
    const { page } = await list('created_before=2020-01-02T00:00:00&size=100');
    expect(page.items.map((item) => item.id)).toEqual([ids.e, ids.g, ids.f]);
    const range = await list('created_after=2020-01-02&created_before=2020-01-03T00:00:00Z&size=100');
    expect(range.page.items.map((item) => item.id)).toEqual([ids.d, ids.e]);
    expect(await found('created_after=2020-01-06T00:00:00Z')).toEqual([]);
  });

  it('filters by resource_type and resource_id', async () => {
    expect(await found('resource_type=step_run')).toEqual(['b', 'a']);
    expect(await found('resource_type=step_run&resource_id=123')).toEqual(['b', 'a']);
    expect(await found('resource_id=42')).toEqual(['d']);
    expect(await found('resource_type=run&resource_id=123')).toEqual([]);
    expect(await found('resource_type=api_key')).toEqual(['e']);
  });

  it('combines filters with AND', async () => {
    expect(await found('user_email=mette.jorgensen%40aarhus.dk&method=DELETE')).toEqual(['d']);
    expect(await found('api_key_id=1&method=POST&min_duration=100')).toEqual(['e']);
    expect(await found('api_key_id=5&status_code=200&path=runs')).toEqual(['b', 'c']);
    expect(await found('user_email=jens.hansen%40aarhus.dk&action=Genstart%20fejlet%20trin')).toEqual([]);
  });

  it('answers an empty page when nothing matches', async () => {
    const { response, page } = await list('user_email=nobody%40aarhus.dk');
    expect(page).toEqual({ items: [], total: 0, page: 1, size: 50, pages: 0 });
    expectPageHeaders(response, { page: 1, size: 50, total: 0 });
  });

  it.each([
    'method=FOO',
    'role=superuser',
    'role=',
    'method=get',
    'status_code=99',
    'status_code=600',
    'status_code=abc',
    'min_duration=-1',
    'min_duration=abc',
    'api_key_id=0',
    'api_key_id=2147483648',
    'resource_id=0',
    'resource_id=x',
    'created_after=yesterday',
    'created_before=2020-02-30T00:00:00Z',
    `user_email=${'x'.repeat(256)}`,
    `action=${'x'.repeat(256)}`,
    `resource_type=${'x'.repeat(51)}`,
    `path=${'x'.repeat(2001)}`,
    'page=0',
    'size=0',
    'size=101',
  ])('refuses %s with 422', async (query) => {
    await expectProblem(await server.request(`/api/v1/audit-logs?${query}`), 422);
  });
});

describe('GET /audit-logs/users and /audit-logs/actions', () => {
  /** The values an answer lists, checked to be distinct and sorted by code point; those of `ours`. */
  async function values(path: string, ours: readonly string[]): Promise<string[]> {
    const body = await expectStatus<string[]>(await server.request(path), 200);
    expect(body.every((value) => typeof value === 'string')).toBe(true);
    expect(new Set(body).size).toBe(body.length);
    expect(body).toEqual([...body].sort(compareCodePoints));
    return body.filter((value) => ours.includes(value));
  }

  it('lists the distinct users, sorted by code point, without entries that have none', async () => {
    const ours = [
      'mette.jorgensen@aarhus.dk',
      'jens.hansen@aarhus.dk',
      'søren.østergård@aarhus.dk',
      STATS_JENS,
      STATS_METTE,
    ];
    expect(await values('/api/v1/audit-logs/users', ours)).toEqual([
      'jens.hansen@aarhus.dk',
      'mette.jorgensen@aarhus.dk',
      'stats.jens.hansen@aarhus.dk',
      'stats.mette.jorgensen@aarhus.dk',
      'søren.østergård@aarhus.dk',
    ]);
  });

  it('lists the distinct actions, sorted by code point, without entries that have none', async () => {
    const ours = [
      'Genstart fejlet trin',
      'Slet kørsel',
      'Opret API-nøgle',
      'Eksporter rapport',
      'Gammel handling',
    ];
    expect(await values('/api/v1/audit-logs/actions', ours)).toEqual([
      'Eksporter rapport',
      'Gammel handling',
      'Genstart fejlet trin',
      'Opret API-nøgle',
      'Slet kørsel',
    ]);
  });

  it('sorts by code point on every database: uppercase and Æ, Ø, Å after lowercase ASCII', async () => {
    const em = server.container.orm.em.fork();
    // After the listed entries' period, long before the statistics'.
    const late = at('2021-06-01T00:00:00.000Z');
    const users = [
      'Åse.kjærgaard@aarhus.dk',
      'aase.kjaergaard@aarhus.dk',
      'Zenia@aarhus.dk',
      'ærø@aarhus.dk',
    ];
    for (const user_email of users) {
      await em.insert(AuditLog, row({ created_at: late, user_email, method: 'GET', path: '/api/v1/runs' }));
    }
    expect(await values('/api/v1/audit-logs/users', users)).toEqual([
      'Zenia@aarhus.dk',
      'aase.kjaergaard@aarhus.dk',
      'Åse.kjærgaard@aarhus.dk',
      'ærø@aarhus.dk',
    ]);
  });
});

describe('GET /audit-logs/stats (getAuditLogStats)', () => {
  async function stats(query: string): Promise<Stats> {
    return expectStatus<Stats>(await server.request(`/api/v1/audit-logs/stats?${query}`), 200);
  }

  const jens = `user_email=${encodeURIComponent(STATS_JENS)}`;

  it("one user's last 24 hours (the default period), with both member-name sets", async () => {
    const expected: Stats = {
      period_hours: 24,
      user_filter: STATS_JENS,
      total_requests: 4,
      success_count: 2,
      successful_requests: 2,
      error_count: 2,
      error_requests: 2,
      success_rate: 50,
      // (10.125 + 20.25 + 5 + 100) / 4 = 33.84375
      average_duration_ms: 33.84,
      by_method: { GET: 2, POST: 1, PATCH: 1 },
      requests_by_method: { GET: 2, POST: 1, PATCH: 1 },
      by_action: [
        { action: 'Genstart fejlet trin', count: 2 },
        { action: 'Eksporter rapport', count: 1 },
      ],
      requests_by_action: { 'Genstart fejlet trin': 2, 'Eksporter rapport': 1 },
      top_users: [{ user_email: STATS_JENS, email: STATS_JENS, count: 4 }],
    };
    expect(await stats(jens)).toEqual(expected);
    expect(await stats(`hours=24&${jens}`)).toEqual(expected);
  });

  it('counts status 399 as a success and 400 as an error; rounds rate and average to two decimals', async () => {
    // The last hour: 200 (10.125 ms), 399 (20.25 ms), 400 (5 ms).
    expect(await stats(`hours=1&${jens}`)).toEqual({
      period_hours: 1,
      user_filter: STATS_JENS,
      total_requests: 3,
      success_count: 2,
      successful_requests: 2,
      error_count: 1,
      error_requests: 1,
      success_rate: 66.67,
      average_duration_ms: 11.79,
      by_method: { GET: 2, POST: 1 },
      requests_by_method: { GET: 2, POST: 1 },
      // Equal counts by code point.
      by_action: [
        { action: 'Eksporter rapport', count: 1 },
        { action: 'Genstart fejlet trin', count: 1 },
      ],
      requests_by_action: { 'Eksporter rapport': 1, 'Genstart fejlet trin': 1 },
      top_users: [{ user_email: STATS_JENS, email: STATS_JENS, count: 3 }],
    } satisfies Stats);
  });

  it('covers the hours asked for', async () => {
    // 48 hours add the entry of 30 hours ago (GET, 200, 1000 ms): (135.375 + 1000) / 5 = 227.075.
    const body = await stats(`hours=48&${jens}`);
    expect(body).toMatchObject({
      period_hours: 48,
      total_requests: 5,
      success_count: 3,
      successful_requests: 3,
      error_count: 2,
      error_requests: 2,
      success_rate: 60,
      average_duration_ms: 227.08,
      by_method: { GET: 3, POST: 1, PATCH: 1 },
      requests_by_method: { GET: 3, POST: 1, PATCH: 1 },
    });
    expect(body.by_action).toEqual([
      { action: 'Genstart fejlet trin', count: 2 },
      { action: 'Eksporter rapport', count: 1 },
      { action: 'Gammel handling', count: 1 },
    ]);
    expect(body.requests_by_action).toEqual({
      'Genstart fejlet trin': 2,
      'Eksporter rapport': 1,
      'Gammel handling': 1,
    });
  });

  it('answers zeros and empty groups for a user without requests in the period', async () => {
    expect(await stats('hours=1&user_email=nobody%40aarhus.dk')).toEqual({
      period_hours: 1,
      user_filter: 'nobody@aarhus.dk',
      total_requests: 0,
      success_count: 0,
      successful_requests: 0,
      error_count: 0,
      error_requests: 0,
      success_rate: 0,
      average_duration_ms: 0,
      by_method: {},
      requests_by_method: {},
      by_action: [],
      requests_by_action: {},
      top_users: [],
    } satisfies Stats);
  });

  it('over all users: the figures of every entry of the period, top users most first', async () => {
    // The server records this test's requests too: the figures are checked against the table as it is
    // when the statistics are computed (read before and after; asked again if an entry came in between).
    const em = server.container.orm.em.fork();
    const since = new Date(Date.now() - 24 * 60 * MINUTE);
    const entriesNow = () =>
      em.fork().find(AuditLog, { created_at: { $gte: since } }, { orderBy: { id: 'asc' } });
    let checked = false;
    for (let attempt = 0; attempt < 5 && !checked; attempt++) {
      const before = await entriesNow();
      const body = await stats('');
      const after = await entriesNow();
      if (after.length !== before.length) continue;
      checked = true;
      const count = (values: (string | null)[]) => {
        const counts = new Map<string, number>();
        for (const value of values) if (value !== null) counts.set(value, (counts.get(value) ?? 0) + 1);
        return counts;
      };
      const success = before.filter((entry) => entry.status_code < 400).length;
      const average = before.reduce((sum, entry) => sum + Number(entry.duration_ms), 0) / before.length;
      const mostFirst = (counts: Map<string, number>) =>
        [...counts].sort(([a, x], [b, y]) => y - x || compareCodePoints(a, b));
      const methods = count(before.map((entry) => entry.method));
      const actions = count(before.map((entry) => entry.action ?? null));
      const users = mostFirst(count(before.map((entry) => entry.user_email ?? null))).slice(0, 10);
      expect(body).toEqual({
        period_hours: 24,
        user_filter: null,
        total_requests: before.length,
        success_count: success,
        successful_requests: success,
        error_count: before.length - success,
        error_requests: before.length - success,
        success_rate: Math.round((success * 10000) / before.length) / 100,
        average_duration_ms: Math.round(Number((average * 100).toPrecision(15))) / 100,
        by_method: Object.fromEntries(methods),
        requests_by_method: Object.fromEntries(methods),
        by_action: mostFirst(actions).map(([action, n]) => ({ action, count: n })),
        requests_by_action: Object.fromEntries(actions),
        top_users: users.map(([user, n]) => ({ user_email: user, email: user, count: n })),
      } satisfies Stats);
    }
    expect(checked).toBe(true);
  });

  it("over all users: this file's actions and users with their exact counts", async () => {
    const body = await stats('hours=24');
    expect(body.user_filter).toBeNull();
    expect(body.total_requests).toBe(body.success_count + body.error_count);
    expect(body.total_requests).toBeGreaterThanOrEqual(7);
    const ours = ['Eksporter rapport', 'Genstart fejlet trin', 'Slet kørsel', 'Gammel handling'];
    // The user-less entry counts for its action; the 30-hours-old one is outside the period.
    expect(body.by_action.filter(({ action }) => ours.includes(action))).toEqual([
      { action: 'Eksporter rapport', count: 2 },
      { action: 'Genstart fejlet trin', count: 2 },
      { action: 'Slet kørsel', count: 2 },
    ]);
    expect(body.top_users.filter(({ user_email }) => [STATS_JENS, STATS_METTE].includes(user_email))).toEqual(
      [
        { user_email: STATS_JENS, email: STATS_JENS, count: 4 },
        { user_email: STATS_METTE, email: STATS_METTE, count: 2 },
      ],
    );
  });

  it('lists at most the 10 most active users', async () => {
    const em = server.container.orm.em.fork();
    const recent = new Date(Date.now() - 3 * MINUTE);
    // 12 users with 11..22 requests each (more than any other user of the last hour): the 10 with
    // 13..22 are the top users.
    const rows = Array.from({ length: 12 }, (_, i) =>
      Array.from({ length: 11 + i }, () =>
        row({
          created_at: recent,
          user_email: `top.${String(i + 1).padStart(2, '0')}@aarhus.dk`,
          method: 'GET',
          path: '/api/v1/runs',
        }),
      ),
    ).flat();
    await em.insertMany(AuditLog, rows);
    const body = await stats('hours=1');
    const top = body.top_users.filter(({ user_email }) => user_email.startsWith('top.'));
    expect(body.top_users).toHaveLength(10);
    expect(top.map(({ user_email, count }) => [user_email, count])).toEqual(
      Array.from({ length: 10 }, (_, i) => [`top.${String(12 - i).padStart(2, '0')}@aarhus.dk`, 22 - i]),
    );
  });

  it.each(['hours=0', 'hours=8761', 'hours=1.5', 'hours=abc', `user_email=${'x'.repeat(256)}`])(
    'refuses %s with 422',
    async (query) => {
      await expectProblem(await server.request(`/api/v1/audit-logs/stats?${query}`), 422);
    },
  );
});

describe('who may read the audit trail', () => {
  const paths = [
    '/api/v1/audit-logs',
    '/api/v1/audit-logs/users',
    '/api/v1/audit-logs/actions',
    '/api/v1/audit-logs/stats',
  ];

  it.each(paths)('%s: a user key is refused with 403', async (path) => {
    await expectProblem(await server.request(path, { headers: { 'X-API-Key': server.userKey } }), 403);
  });

  it.each(paths)('%s: no key is refused with 401', async (path) => {
    await expectProblem(await fetch(server.baseUrl + path), 401);
  });

  it.each(paths)('%s: the admin key is answered', async (path) => {
    await expectStatus(await server.request(path), 200);
  });
});
