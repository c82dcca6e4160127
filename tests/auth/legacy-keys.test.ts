/**
 * Keys issued by the original service: stored as the hex SHA-256 digest of the whole key, with its first 8
 * characters as `key_prefix`. Every robot holds one; they keep working, and each is upgraded to an
 * argon2id hash on its first successful use, keeping its usage count and last use.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/entities/index.ts';
import { generateApiKey } from '../../src/services/api-key.service.ts';
import { startTestServer, type TestServer } from '../support/app.ts';

const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');

describe('keys issued by the original service (SHA-256 digests)', () => {
  let server: TestServer;
  const lastUsed = new Date('2026-01-05T10:15:00.000Z');
  /** A key row as the original wrote it. */
  const insertLegacyKey = async (
    overrides: Partial<{ is_active: boolean; expires_at: Date | null }> = {},
  ) => {
    const key = generateApiKey();
    const em = server.container.orm.em.fork();
    const row = em.create(ApiKey, {
      name: 'RPA robot – Borgerservice',
      description: null,
      role: 'user',
      key_prefix: key.slice(0, 8),
      key_hash: sha256(key),
      is_active: overrides.is_active ?? true,
      expires_at: overrides.expires_at ?? null,
      usage_count: 4711,
      last_used_at: lastUsed,
    });
    await em.flush();
    return { key, id: row.id };
  };
  const stored = (id: number) => server.container.orm.em.fork().findOneOrFail(ApiKey, { id });
  const verify = (key: string) =>
    fetch(`${server.baseUrl}/api/v1/auth/verify`, { headers: { 'X-API-Key': key } }).then((r) => r.status);

  beforeAll(async () => {
    // No verification cache: every request below verifies against the stored hash.
    server = await startTestServer({ AUTH_CACHE_TTL_SECONDS: '0' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('verifies a legacy key and replaces its digest by an argon2id hash on that first use', async () => {
    const { key, id } = await insertLegacyKey();
    expect(await verify(key)).toBe(200);
    const row = await stored(id);
    expect(row.key_hash).toMatch(/^\$argon2id\$/);
    expect(row.key_hash).not.toBe(sha256(key));
    // Still the same key, now verified by argon2.
    expect(await verify(key)).toBe(200);
  });

  it('keeps the usage count and last use the original recorded', async () => {
    const { key, id } = await insertLegacyKey();
    expect(await verify(key)).toBe(200);
    const row = await stored(id);
    expect(row.usage_count).toBeGreaterThanOrEqual(4711);
    expect(row.last_used_at!.getTime()).toBeGreaterThanOrEqual(lastUsed.getTime());
  });

  it('refuses another key with the same prefix, and leaves the digest alone', async () => {
    const { key, id } = await insertLegacyKey();
    const forged = key.slice(0, 8) + generateApiKey().slice(8);
    expect(await verify(forged)).toBe(401);
    expect((await stored(id)).key_hash).toBe(sha256(key));
  });

  it('refuses an inactive or expired legacy key, and does not upgrade it', async () => {
    const inactive = await insertLegacyKey({ is_active: false });
    const expired = await insertLegacyKey({ expires_at: new Date('2026-01-01T00:00:00Z') });
    for (const { key, id } of [inactive, expired]) {
      expect(await verify(key)).toBe(401);
      expect((await stored(id)).key_hash).toBe(sha256(key));
    }
  });

  it('accepts the digest in upper-case hex too', async () => {
    const { key, id } = await insertLegacyKey();
    await server.container.orm.em
      .fork()
      .nativeUpdate(ApiKey, { id }, { key_hash: sha256(key).toUpperCase() });
    expect(await verify(key)).toBe(200);
    expect((await stored(id)).key_hash).toMatch(/^\$argon2id\$/);
  });
});
