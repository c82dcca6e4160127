/**
 * Recording the audit trail (src/middleware/audit-trail.ts, src/services/audit-recorder.ts): what an entry
 * holds, what it never holds (keys, personal data of runs), failed authentications, exempt paths, batching
 * and the flush on shutdown. Entries are read from the `audit_log` table itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/app.ts';

interface AuditRow {
  id: number;
  api_key_id: number | null;
  api_key_name: string | null;
  api_key_role: string | null;
  user_email: string | null;
  action: string | null;
  method: string;
  path: string;
  operation_id: string | null;
  query_params: string | null;
  resource_type: string | null;
  resource_id: string | null;
  status_code: number;
  duration_ms: number;
  ip_address: string | null;
  user_agent: string | null;
  request_id: string | null;
  error_message: string | null;
  changes: string | null;
}

describe('the audit trail', () => {
  let server: TestServer;
  let processId: number;
  /** Writes what is queued, then the entries with this request id. */
  const entriesOf = async (requestId: string): Promise<AuditRow[]> => {
    await server.container.audit.flush();
    return server.container.orm.em
      .fork()
      .getConnection()
      .execute<AuditRow[]>('select * from audit_log where request_id = ? order by id', [requestId]);
  };
  const send = (path: string, init: RequestInit & { headers?: Record<string, string> } = {}) =>
    server.request(path, { ...init, headers: { 'Content-Type': 'application/json', ...init.headers } });

  beforeAll(async () => {
    // Flushed by the tests themselves: nothing is written per request.
    server = await startTestServer({ AUDIT_FLUSH_INTERVAL_MS: '60000' });
    processId = (await server.json<{ id: number }>('POST', '/api/v1/processes', { name: 'Revision' })).id;
    await server.json('POST', '/api/v1/steps', { process_id: processId, index: 0, name: 'Trin' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('records a write with who, what and the outcome, and none of the personal data sent', async () => {
    const response = await send('/api/v1/runs', {
      method: 'POST',
      headers: {
        'X-Request-ID': 'audit-create-run-1',
        'X-User': 'mette.jorgensen@aarhus.dk',
        'X-Action': 'Opret kørsel',
        'User-Agent': 'python-requests/2.32.3',
      },
      body: JSON.stringify({
        process_id: processId,
        entity_id: '0101901234',
        entity_name: 'Jens Hansen',
        meta: { cpr: '0101901234', adresse: 'Åboulevarden 1' },
      }),
    });
    expect(response.status).toBe(201);
    const run = (await response.json()) as { id: number };
    const [entry, ...more] = await entriesOf('audit-create-run-1');
    expect(more).toEqual([]);
    expect(entry).toMatchObject({
      api_key_name: 'Test admin',
      api_key_role: 'admin',
      user_email: 'mette.jorgensen@aarhus.dk',
      action: 'Opret kørsel',
      method: 'POST',
      path: '/api/v1/runs',
      operation_id: 'createRun',
      query_params: null,
      resource_type: 'run',
      resource_id: String(run.id),
      status_code: 201,
      user_agent: 'python-requests/2.32.3',
      error_message: null,
    });
    expect(entry.ip_address).toMatch(/127\.0\.0\.1$/);
    expect(typeof entry.api_key_id).toBe('number');
    expect(Number(entry.duration_ms)).toBeGreaterThan(0);
    expect(JSON.parse(entry.changes!)).toEqual({
      operation: 'createRun',
      members: ['entity_id', 'entity_name', 'meta', 'process_id'],
    });
    const stored = JSON.stringify(entry);
    for (const personal of ['0101901234', 'Jens Hansen', 'Åboulevarden', server.adminKey]) {
      expect(stored).not.toContain(personal);
    }
  });

  it('records a refused request with its problem detail, and a failed authentication without the key', async () => {
    const missing = await send('/api/v1/runs/999999', { headers: { 'X-Request-ID': 'audit-404' } });
    expect(missing.status).toBe(404);
    expect(await entriesOf('audit-404')).toMatchObject([
      {
        method: 'GET',
        operation_id: 'getRun',
        status_code: 404,
        resource_type: 'run',
        resource_id: '999999',
        error_message: 'Run 999999 not found',
      },
    ]);

    const wrongKey = 'pd_' + 'x'.repeat(43);
    const refused = await send('/api/v1/processes', {
      headers: { 'X-API-Key': wrongKey, 'X-Request-ID': 'audit-401' },
    });
    expect(refused.status).toBe(401);
    const [entry] = await entriesOf('audit-401');
    expect(entry).toMatchObject({
      api_key_id: null,
      api_key_name: null,
      api_key_role: null,
      operation_id: 'listProcesses',
      status_code: 401,
      method: 'GET',
    });
    expect(JSON.stringify(entry)).not.toContain(wrongKey);
  });

  it('keeps query parameters that cannot hold personal data, and redacts the others', async () => {
    const response = await send(
      '/api/v1/runs?entity_name=Jens+Hansen&meta_filter=cpr:0101901234&status=failed&page=2&size=10',
      { headers: { 'X-Request-ID': 'audit-query' } },
    );
    expect(response.status).toBe(200);
    const [entry] = await entriesOf('audit-query');
    expect(JSON.parse(entry.query_params!)).toEqual({
      entity_name: '[REDACTED]',
      meta_filter: '[REDACTED]',
      status: 'failed',
      page: '2',
      size: '10',
    });
    expect(entry.path).toBe('/api/v1/runs');
    expect(JSON.stringify(entry)).not.toMatch(/Hansen|0101901234/);
  });

  it('cleans the X-User and X-Action headers of control characters', async () => {
    await send('/api/v1/processes', {
      headers: { 'X-Request-ID': 'audit-headers', 'X-User': 'a\tb', 'X-Action': `${'æ'.repeat(150)}` },
    });
    const [entry] = await entriesOf('audit-headers');
    expect(entry.user_email).toBe('a b');
    expect(entry.action).toBe('æ'.repeat(100));
  });

  it('does not record the service root, the health check or the documentation', async () => {
    for (const path of ['/', '/health', '/openapi.json', '/docs']) {
      const response = await server.request(path, { headers: { 'X-Request-ID': `audit-exempt-${path}` } });
      expect(response.status).toBe(200);
      expect(await entriesOf(`audit-exempt-${path}`)).toEqual([]);
    }
  });

  it('records every delete, restore, retention change and neutralisation, scheduled ones included', async () => {
    const process = await server.json<{ id: number }>('POST', '/api/v1/processes', { name: 'Livscyklus' });
    const runIds: number[] = [];
    for (const entity_id of ['a-1', 'a-2']) {
      runIds.push(
        (await server.json<{ id: number }>('POST', '/api/v1/runs', { process_id: process.id, entity_id })).id,
      );
    }
    const call = async (method: string, path: string, requestId: string, body?: unknown) => {
      const response = await send(path, {
        method,
        headers: { 'X-Request-ID': requestId },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect(response.ok).toBe(true);
      const [entry] = await entriesOf(requestId);
      return { ...entry, changes: JSON.parse(entry.changes!) as Record<string, unknown> };
    };
    expect(await call('DELETE', `/api/v1/runs/${runIds[0]}`, 'audit-delete-run')).toMatchObject({
      resource_type: 'run',
      resource_id: String(runIds[0]),
      status_code: 204,
      changes: { operation: 'deleteRun' },
    });
    expect(await call('POST', `/api/v1/runs/${runIds[0]}/restore`, 'audit-restore-run')).toMatchObject({
      changes: { operation: 'restoreRun' },
    });
    expect(
      await call('PUT', `/api/v1/processes/${process.id}/retention`, 'audit-retention', {
        retention_months: 1,
      }),
    ).toMatchObject({
      resource_type: 'process',
      changes: { operation: 'setProcessRetention', members: ['retention_months'], retention_months: 1 },
    });
    expect(await call('POST', `/api/v1/runs/${runIds[0]}/neutralize`, 'audit-neutralize')).toMatchObject({
      changes: { operation: 'neutralizeRun', was_already_neutralized: false },
    });
    // Due by now: a month after creation, the batch finds the other run.
    await server.container.orm.em
      .fork()
      .getConnection()
      .execute('update process_run set scheduled_deletion_at = ? where id = ?', [
        new Date(Date.now() - 1000),
        runIds[1],
      ]);
    const batch = await call('POST', '/api/v1/admin/cleanup/neutralize?dry_run=false&limit=5', 'audit-batch');
    expect(batch.changes).toEqual({
      operation: 'neutralizeDueRuns',
      dry_run: false,
      neutralized_run_ids: [runIds[1]],
      failed_run_ids: [],
    });
    expect(await call('DELETE', `/api/v1/processes/${process.id}`, 'audit-delete-process')).toMatchObject({
      resource_type: 'process',
      resource_id: String(process.id),
      changes: { operation: 'deleteProcess' },
    });
    await call('POST', `/api/v1/processes/${process.id}/restore`, 'audit-restore-process');

    // The scheduled cleanup has no request: its tick is recorded as the job it is.
    const other = await server.json<{ id: number }>('POST', '/api/v1/processes', { name: 'Planlagt' });
    const due = await server.json<{ id: number }>('POST', '/api/v1/runs', {
      process_id: other.id,
      entity_id: 'b-1',
    });
    await server.container.orm.em
      .fork()
      .getConnection()
      .execute('update process_run set scheduled_deletion_at = ? where id = ?', [
        new Date(Date.now() - 1000),
        due.id,
      ]);
    const tick = await server.container.retentionCleanup.runOnce();
    expect(tick.neutralized).toEqual([due.id]);
    const [job] = await entriesOf(`retention-cleanup:${server.container.retentionCleanup.holder}`);
    expect(job).toMatchObject({
      method: 'JOB',
      path: '/jobs/retention-cleanup',
      status_code: 200,
      api_key_id: null,
    });
    expect(JSON.parse(job.changes!)).toEqual({
      operation: 'retentionCleanup',
      neutralized_run_ids: [due.id],
      failed_run_ids: [],
    });
  });

  it('writes nothing per request, the queue in one flush, and keeps the trail of a deleted key', async () => {
    const created = await server.json<{ id: number; key: string }>('POST', '/api/v1/api-keys', {
      name: 'Kortlivet',
    });
    const em = server.container.orm.em.fork();
    const count = async () =>
      Number(
        (await em.getConnection().execute<{ n: number | string }[]>('select count(*) as n from audit_log'))[0]
          .n,
      );
    await server.container.audit.flush();
    const before = await count();
    for (let i = 0; i < 5; i++) {
      const response = await server.request('/api/v1/auth/verify', { headers: { 'X-API-Key': created.key } });
      expect(response.status).toBe(200);
    }
    expect(await count()).toBe(before);
    expect(server.container.audit.pending).toBe(5);
    expect((await server.request(`/api/v1/api-keys/${created.id}`, { method: 'DELETE' })).status).toBe(200);
    // A clean shutdown writes the queue (container.close() closes the recorder the same way).
    await server.container.audit.close();
    expect(server.container.audit.pending).toBe(0);
    const rows = await em
      .getConnection()
      .execute<{ api_key_name: string; api_key_role: string; path: string }[]>(
        'select api_key_name, api_key_role, path from audit_log where api_key_id = ?',
        [created.id],
      );
    expect(rows).toHaveLength(5);
    expect(
      rows.every(
        (row) =>
          row.api_key_name === 'Kortlivet' &&
          row.api_key_role === 'user' &&
          row.path === '/api/v1/auth/verify',
      ),
    ).toBe(true);
  });
});

describe('the audit trail switched off (AUDIT_TRAIL=off, for measuring its cost)', () => {
  it('records nothing', async () => {
    const server = await startTestServer({ AUDIT_TRAIL: 'off' });
    try {
      expect(
        (await server.request('/api/v1/processes', { headers: { 'X-Request-ID': 'unrecorded' } })).status,
      ).toBe(200);
      await server.container.audit.flush();
      const rows = await server.container.orm.em
        .fork()
        .getConnection()
        .execute<unknown[]>('select id from audit_log where request_id = ?', ['unrecorded']);
      expect(rows).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
