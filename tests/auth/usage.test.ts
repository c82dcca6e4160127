import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/entities/index.ts';
import { startTestServer, type TestServer } from '../support/app.ts';

describe('API key usage counting', () => {
  let server: TestServer;
  const storedUsage = async (name: string) => {
    const key = await server.container.orm.em.fork().findOneOrFail(ApiKey, { name });
    return { id: key.id, count: key.usage_count, lastUsedAt: key.last_used_at };
  };
  beforeAll(async () => {
    // No timed flush during the test: it flushes explicitly.
    server = await startTestServer({ USAGE_FLUSH_INTERVAL_MS: '600000' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('does not write per request, then writes the batch in one flush', async () => {
    const asRobot = { headers: { 'X-API-Key': server.userKey } };
    for (let i = 0; i < 5; i++) expect((await server.request('/api/v1/auth/me', asRobot)).status).toBe(200);
    expect(await storedUsage('Test robot')).toMatchObject({ count: 0, lastUsedAt: null });

    await server.container.apiKeyUsage.flush();
    const flushed = await storedUsage('Test robot');
    expect(flushed.count).toBe(5);
    expect(flushed.lastUsedAt).toBeInstanceOf(Date);
    expect(Date.now() - (flushed.lastUsedAt?.getTime() ?? 0)).toBeLessThan(60_000);
  });

  it('counts every one of many concurrent requests, and shows unflushed uses to the key itself', async () => {
    const before = (await storedUsage('Test admin')).count;
    const responses = await Promise.all(Array.from({ length: 40 }, () => server.request('/api/v1/auth/me')));
    expect(responses.every((response) => response.status === 200)).toBe(true);
    const verify = (await (await server.request('/api/v1/auth/verify')).json()) as {
      key_info: { usage_count: number; last_used_at: string | null };
    };
    expect(verify.key_info.usage_count).toBe(before + 41);
    expect(verify.key_info.last_used_at).not.toBeNull();

    await server.container.apiKeyUsage.flush();
    expect((await storedUsage('Test admin')).count).toBe(before + 41);
  });

  it('does not count requests that fail authentication', async () => {
    // The robot's own prefix (so its row is found and its hash really checked), but a different rest.
    const rest = server.userKey.slice(8);
    const wrongRest = [...rest].map((c) => (c === 'A' ? 'B' : 'A')).join('');
    const wrongKey = server.userKey.slice(0, 8) + wrongRest;
    expect(wrongKey).toMatch(/^pd_[A-Za-z0-9_-]{43}$/);
    expect(wrongKey).not.toBe(server.userKey);
    await server.container.apiKeyUsage.flush();
    const before = await storedUsage('Test robot');

    const attempts: Array<Record<string, string>> = [
      { 'X-API-Key': wrongKey },
      { Authorization: `Bearer ${wrongKey}` },
    ];
    for (const headers of attempts) {
      const wrong = await fetch(`${server.baseUrl}/api/v1/auth/me`, { headers });
      expect(wrong.status).toBe(401);
    }
    expect(server.container.apiKeyUsage.unflushed(before.id)).toEqual({ count: 0, lastUsedAt: null });
    await server.container.apiKeyUsage.flush();
    expect(await storedUsage('Test robot')).toEqual(before);

    // The same request with the right key is counted (so the check above could have seen a count).
    const right = await fetch(`${server.baseUrl}/api/v1/auth/me`, {
      headers: { 'X-API-Key': server.userKey },
    });
    expect(right.status).toBe(200);
    await server.container.apiKeyUsage.flush();
    expect((await storedUsage('Test robot')).count).toBe(before.count + 1);
  });
});
