import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeysApi, AuthApi, Configuration, ResponseError } from '../../generated/sdk/src/index.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import { expectPageHeaders } from '../support/pagination.ts';

/** Status of a rejected SDK call (fails the test when the call succeeded). */
async function statusOf(call: Promise<unknown>): Promise<number> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ResponseError);
  return (error as ResponseError).response.status;
}

describe('API key management', () => {
  let server: TestServer;
  let admin: ApiKeysApi;
  let adminKeyId: number;
  const clientFor = (apiKey: string) => new Configuration({ basePath: server.baseUrl, apiKey });

  beforeAll(async () => {
    server = await startTestServer();
    admin = new ApiKeysApi(clientFor(server.adminKey));
    adminKeyId = (await new AuthApi(clientFor(server.adminKey)).getCurrentApiKey()).id;
  });
  afterAll(async () => {
    await server?.close();
  });

  describe('POST /api/v1/api-keys', () => {
    it('creates a user key by default, shows it once, and it works at once', async () => {
      const created = await admin.createApiKey({
        ApiKeyCreate: { name: 'RPA robot – Borgerservice', description: 'Flytning, æøå 🤖' },
      });
      expect(created.key).toMatch(/^pd_[A-Za-z0-9_-]{43}$/);
      expect(created).toMatchObject({
        name: 'RPA robot – Borgerservice',
        description: 'Flytning, æøå 🤖',
        role: 'user',
        is_active: true,
        expires_at: null,
        usage_count: 0,
        key_prefix: created.key.slice(0, 8),
      });
      const verification = await new AuthApi(clientFor(created.key)).verifyApiKey();
      expect(verification.key_info).toMatchObject({ id: created.id, role: 'user' });

      const shown = await admin.getApiKey({ key_id: created.id });
      expect(JSON.stringify(shown)).not.toContain(created.key);
      expect(Object.keys(shown)).not.toContain('key');
      expect(Object.keys(shown)).not.toContain('key_hash');
    });

    it('accepts an expiry, and an expired key is refused', async () => {
      const created = await admin.createApiKey({
        ApiKeyCreate: { name: 'Short-lived', role: 'admin', expires_at: new Date(Date.now() + 300) },
      });
      expect(created.role).toBe('admin');
      expect(created.expires_at?.getTime()).toBeGreaterThan(Date.now() - 1000);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(await statusOf(new AuthApi(clientFor(created.key)).verifyApiKey())).toBe(401);
    });

    it('rejects an empty name and unknown members with 422', async () => {
      const response = await server.request('/api/v1/api-keys', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: '', key: 'pd_chosen_by_me' }),
      });
      expect(response.status).toBe(422);
    });
  });

  describe('GET /api/v1/api-keys', () => {
    it('pages by id with the pagination headers, keeping other query parameters in the links', async () => {
      for (const name of ['Page A', 'Page B', 'Page C']) await admin.createApiKey({ ApiKeyCreate: { name } });
      const response = await server.request('/api/v1/api-keys/?size=2&page=2&include_deleted=false');
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        items: { id: number }[];
        total: number;
        page: number;
        size: number;
        pages: number;
      };
      expect(body).toMatchObject({ page: 2, size: 2, pages: Math.ceil(body.total / 2) });
      expect(body.items).toHaveLength(2);
      expect(body.items[0].id).toBeLessThan(body.items[1].id);
      const link = expectPageHeaders(response, { page: 2, size: 2, total: body.total });
      expect(link).toMatch(/page=1&size=2[^>]*>; rel="prev"/);
      expect(link).toMatch(
        /<http:\/\/127\.0\.0\.1:\d+\/api\/v1\/api-keys\/\?[^>]*include_deleted=false[^>]*>; rel="first"/,
      );
    });

    it('never contains a key or a hash, and the README alias path answers the same page', async () => {
      const page = await admin.listApiKeys({ page: 1, size: 100 });
      expect(page.items.length).toBe(page.total);
      expect(JSON.stringify(page)).not.toMatch(/argon2|"key":/);
      const alias = await admin.listApiKeysAdminAlias({ page: 1, size: 100 });
      expect(alias.items.map((key) => key.id)).toEqual(page.items.map((key) => key.id));
    });

    it('answers an empty last page past the end', async () => {
      const page = await admin.listApiKeys({ page: 999, size: 100 });
      expect(page.items).toEqual([]);
      expect(page.pages).toBe(1);
    });
  });

  describe('GET, PATCH, toggle and DELETE /api/v1/api-keys/{key_id}', () => {
    it('404 for a key that does not exist', async () => {
      expect(await statusOf(admin.getApiKey({ key_id: 987654 }))).toBe(404);
      expect(await statusOf(admin.deleteApiKey({ key_id: 987654 }))).toBe(404);
      expect(await statusOf(admin.toggleApiKey({ key_id: 987654 }))).toBe(404);
    });

    it('updates members, clears the description with null, and deactivation takes effect at once', async () => {
      const created = await admin.createApiKey({ ApiKeyCreate: { name: 'To change', description: 'old' } });
      const updated = await admin.updateApiKey({
        key_id: created.id,
        ApiKeyUpdate: { name: 'Changed', description: null, role: 'admin' },
      });
      expect(updated).toMatchObject({ id: created.id, name: 'Changed', description: null, role: 'admin' });
      expect((await new AuthApi(clientFor(created.key)).verifyApiKey()).key_info.role).toBe('admin');

      await admin.updateApiKey({ key_id: created.id, ApiKeyUpdate: { is_active: false } });
      expect(await statusOf(new AuthApi(clientFor(created.key)).verifyApiKey())).toBe(401);
    });

    it('toggle flips is_active both ways', async () => {
      const created = await admin.createApiKey({ ApiKeyCreate: { name: 'Toggled' } });
      expect((await admin.toggleApiKey({ key_id: created.id })).is_active).toBe(false);
      expect(await statusOf(new AuthApi(clientFor(created.key)).verifyApiKey())).toBe(401);
      expect((await admin.toggleApiKey({ key_id: created.id })).is_active).toBe(true);
      expect((await new AuthApi(clientFor(created.key)).verifyApiKey()).status).toBe('valid');
    });

    it('delete answers a message, the key stops working and is gone', async () => {
      const created = await admin.createApiKey({ ApiKeyCreate: { name: 'To delete' } });
      const answer = await admin.deleteApiKey({ key_id: created.id });
      expect(answer.message).toContain(String(created.id));
      expect(await statusOf(new AuthApi(clientFor(created.key)).verifyApiKey())).toBe(401);
      expect(await statusOf(admin.getApiKey({ key_id: created.id }))).toBe(404);
    });

    it('an admin key cannot lock itself out (409), and nothing changes', async () => {
      expect(await statusOf(admin.deleteApiKey({ key_id: adminKeyId }))).toBe(409);
      expect(await statusOf(admin.toggleApiKey({ key_id: adminKeyId }))).toBe(409);
      expect(
        await statusOf(admin.updateApiKey({ key_id: adminKeyId, ApiKeyUpdate: { is_active: false } })),
      ).toBe(409);
      expect(await statusOf(admin.updateApiKey({ key_id: adminKeyId, ApiKeyUpdate: { role: 'user' } }))).toBe(
        409,
      );
      // Found by Schemathesis: an expiry in the past locked the caller out like a deactivation.
      expect(
        await statusOf(
          admin.updateApiKey({
            key_id: adminKeyId,
            ApiKeyUpdate: { expires_at: new Date('2000-01-01T00:00:00Z') },
          }),
        ),
      ).toBe(409);
      expect(await admin.getApiKey({ key_id: adminKeyId })).toMatchObject({
        is_active: true,
        role: 'admin',
        expires_at: null,
      });
      // A future expiry on itself is allowed (and can be removed again).
      const soon = new Date(Date.now() + 3_600_000);
      expect(
        (await admin.updateApiKey({ key_id: adminKeyId, ApiKeyUpdate: { expires_at: soon } })).expires_at,
      ).toEqual(soon);
      expect(
        (await admin.updateApiKey({ key_id: adminKeyId, ApiKeyUpdate: { expires_at: null } })).expires_at,
      ).toBeNull();
    });
  });
});

describe('pagination links behind a trusted proxy', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ TRUST_PROXY: 'loopback' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('use the scheme and host the client called (X-Forwarded-Proto/-Host)', async () => {
    const response = await server.request('/api/v1/api-keys?size=1', {
      headers: { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'dashboard-api.example.com' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('link')).toContain(
      '<https://dashboard-api.example.com/api/v1/api-keys?page=1&size=1>; rel="first"',
    );
  });

  it('ignore forwarded headers when the proxy is not trusted', async () => {
    const untrusted = await startTestServer();
    try {
      const response = await untrusted.request('/api/v1/api-keys?size=1', {
        headers: { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'evil.example.net' },
      });
      expect(response.headers.get('link')).toMatch(
        /^<http:\/\/127\.0\.0\.1:\d+\/api\/v1\/api-keys\?page=1&size=1>; rel="first"/,
      );
    } finally {
      await untrusted.close();
    }
  });
});
