import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOperations, loadBundledSpec } from '../../src/contract.ts';
import { startTestServer, type TestServer } from '../support/app.ts';

const operations = listOperations(loadBundledSpec());

/**
 * Roles come from each operation's `x-required-role`: `admin` operations refuse a `user` key with 403;
 * `user` keys may read and write process data (REQUIREMENTS §6); no key at all is 401 on every /api/v1
 * operation.
 */
describe('roles, for every operation of the contract', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  const call = (path: string, method: string, key: string | undefined) =>
    fetch(server.baseUrl + path.replace(/\{[^}]+\}/g, '1'), {
      method: method.toUpperCase(),
      headers: { ...(key === undefined ? {} : { 'X-API-Key': key }), 'Content-Type': 'application/json' },
      ...(['post', 'put', 'patch'].includes(method) ? { body: '{}' } : {}),
    });

  it('keeps management, deletion and retention to admins, exactly as REQUIREMENTS §6 lists', () => {
    const adminOnly = operations
      .filter((operation) => operation.requiredRole === 'admin')
      .map((o) => o.operationId);
    expect(adminOnly.sort()).toEqual(
      [
        'deleteProcess',
        'restoreProcess',
        'setProcessRetention',
        'deleteRun',
        'restoreRun',
        'neutralizeRun',
        'createApiKey',
        'listApiKeys',
        'getApiKey',
        'updateApiKey',
        'deleteApiKey',
        'toggleApiKey',
        'listApiKeysAdminAlias',
        'getCleanupStats',
        'neutralizeDueRuns',
        'listAuditLogs',
        'listAuditLogUsers',
        'listAuditLogActions',
        'getAuditLogStats',
        'listRerunJobs',
      ].sort(),
    );
  });

  it.each(operations.map((operation) => [operation.operationId, operation] as const))(
    '%s: role enforced as declared',
    async (_id, operation) => {
      const asUser = await call(operation.path, operation.method, server.userKey);
      if (operation.requiredRole === 'admin') expect(asUser.status).toBe(403);
      else expect([401, 403]).not.toContain(asUser.status);

      const anonymous = await call(operation.path, operation.method, undefined);
      if (operation.requiredRole === 'none') expect(anonymous.status).not.toBe(401);
      else expect(anonymous.status).toBe(401);
    },
  );
});
