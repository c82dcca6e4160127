/**
 * The verified-key cache of ApiKeyService, on the real test database (SQLite, or PostgreSQL when
 * TEST_DATABASE_URL is set). A key is shown to be served from the cache without timing: its row is
 * deactivated behind the service's back (a direct UPDATE, so nothing is invalidated); a cached
 * verification still accepts it, a fresh one refuses it. argon2 runs and database look-ups are counted
 * with spies on the real argon2 module and on the real EntityManager.
 */
import argon2 from 'argon2';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EntityManager } from '@mikro-orm/core';
import { ApiKey } from '../../src/entities/index.ts';
import { closeOrm, type Orm } from '../../src/db/orm.ts';
import { ApiKeyService, generateApiKey } from '../../src/services/api-key.service.ts';
import { createMigratedTestOrm, type TestDatabase } from '../support/database.ts';

describe('ApiKeyService verification cache', () => {
  let db: TestDatabase;
  let orm: Orm;
  beforeAll(async () => {
    ({ db, orm } = await createMigratedTestOrm());
  });
  afterAll(async () => {
    if (orm) await closeOrm(orm);
    await db?.dispose();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const fork = (): EntityManager => orm.em.fork();
  /** Deactivates a key in the database without telling the service (no invalidation). */
  const deactivateBehindTheCache = (id: number) => fork().nativeUpdate(ApiKey, { id }, { is_active: false });
  const storedPrefixes = async () => new Set((await fork().find(ApiKey, {})).map((key) => key.key_prefix));
  /** A well-formed key whose 8-character prefix matches no stored key (so it misses without argon2). */
  const unknownKey = (taken: Set<string>): string => {
    for (;;) {
      const key = generateApiKey();
      if (!taken.has(key.slice(0, 8))) return key;
    }
  };
  /** The same prefix as `key` (so argon2 runs against its row) but a different rest. */
  const samePrefixWrongRest = (key: string): string => {
    for (;;) {
      const wrong = key.slice(0, 8) + generateApiKey().slice(8);
      if (wrong !== key) return wrong;
    }
  };

  it('keeps a good key cached through a flood of 20,000 unknown keys, none of which runs argon2', async () => {
    const service = new ApiKeyService({ cacheTtlSeconds: 300 });
    const good = await service.create(fork(), { name: 'Flood survivor', role: 'user' });
    expect(await service.authenticate(fork(), good.plaintext)).toMatchObject({ keyId: good.apiKey.id });

    const taken = await storedPrefixes();
    const verify = vi.spyOn(argon2, 'verify');
    const total = 20_000;
    const chunk = 250;
    for (let presented = 0; presented < total; presented += chunk) {
      const em = fork();
      const outcomes = await Promise.all(
        Array.from({ length: chunk }, () => service.authenticate(em, unknownKey(taken))),
      );
      expect(outcomes.every((outcome) => outcome === undefined)).toBe(true);
    }
    expect(verify).not.toHaveBeenCalled();

    await deactivateBehindTheCache(good.apiKey.id);
    const em = fork();
    const lookups = vi.spyOn(em, 'find');
    expect(await service.authenticate(em, good.plaintext)).toMatchObject({
      keyId: good.apiKey.id,
      name: 'Flood survivor',
    });
    expect(lookups).not.toHaveBeenCalled();
    expect(verify).not.toHaveBeenCalled();
  });

  it('answers a repeated unknown key from the miss cache, without the database or argon2', async () => {
    const service = new ApiKeyService({ cacheTtlSeconds: 300 });
    const stranger = unknownKey(await storedPrefixes());
    const verify = vi.spyOn(argon2, 'verify');
    const first = fork();
    const firstLookups = vi.spyOn(first, 'find');
    expect(await service.authenticate(first, stranger)).toBeUndefined();
    expect(firstLookups).toHaveBeenCalledTimes(1);
    const again = fork();
    const againLookups = vi.spyOn(again, 'find');
    expect(await service.authenticate(again, stranger)).toBeUndefined();
    expect(againLookups).not.toHaveBeenCalled();
    expect(verify).not.toHaveBeenCalled();
  });

  it('keeps wrong keys out of the verified-key cache: a full miss cache evicts misses only', async () => {
    const service = new ApiKeyService({ cacheTtlSeconds: 300, cacheMaxEntries: 2, missCacheMaxEntries: 2 });
    const good = await service.create(fork(), { name: 'Kept', role: 'user' });
    expect(await service.authenticate(fork(), good.plaintext)).toBeDefined();

    // Same prefix, wrong rest: each one costs an argon2 verification once, then is a cached miss.
    const wrong = Array.from({ length: 4 }, () => samePrefixWrongRest(good.plaintext));
    const verify = vi.spyOn(argon2, 'verify');
    for (const key of wrong) expect(await service.authenticate(fork(), key)).toBeUndefined();
    expect(verify).toHaveBeenCalledTimes(4);
    expect(await service.authenticate(fork(), wrong[3])).toBeUndefined();
    expect(verify).toHaveBeenCalledTimes(4);
    // The oldest miss was evicted from the (2-entry) miss cache, so it is verified again.
    expect(await service.authenticate(fork(), wrong[0])).toBeUndefined();
    expect(verify).toHaveBeenCalledTimes(5);

    await deactivateBehindTheCache(good.apiKey.id);
    expect(await service.authenticate(fork(), good.plaintext)).toMatchObject({ keyId: good.apiKey.id });
    expect(verify).toHaveBeenCalledTimes(5);
  });

  it('evicts the least recently used key when the verified-key cache is full', async () => {
    const service = new ApiKeyService({ cacheTtlSeconds: 300, cacheMaxEntries: 2 });
    const em = fork();
    const a = await service.create(em, { name: 'LRU A' });
    const b = await service.create(em, { name: 'LRU B' });
    const c = await service.create(em, { name: 'LRU C' });
    expect(await service.authenticate(fork(), a.plaintext)).toBeDefined();
    expect(await service.authenticate(fork(), b.plaintext)).toBeDefined();
    expect(await service.authenticate(fork(), a.plaintext)).toBeDefined(); // A is now the most recent
    expect(await service.authenticate(fork(), c.plaintext)).toBeDefined(); // evicts B, not A

    await deactivateBehindTheCache(a.apiKey.id);
    await deactivateBehindTheCache(b.apiKey.id);
    expect(await service.authenticate(fork(), a.plaintext)).toMatchObject({ keyId: a.apiKey.id });
    expect(await service.authenticate(fork(), b.plaintext)).toBeUndefined();
  });

  it('drops only the edited key from the cache on update, toggle and delete', async () => {
    const service = new ApiKeyService({ cacheTtlSeconds: 300 });
    const em = fork();
    const admin = await service.create(em, { name: 'Editor', role: 'admin' });
    const a = await service.create(em, { name: 'Edited A', role: 'user' });
    const b = await service.create(em, { name: 'Bystander B', role: 'user' });
    expect(await service.authenticate(fork(), a.plaintext)).toMatchObject({ name: 'Edited A' });
    expect(await service.authenticate(fork(), b.plaintext)).toMatchObject({ name: 'Bystander B' });
    await deactivateBehindTheCache(b.apiKey.id);
    const bStillCached = async () =>
      expect(await service.authenticate(fork(), b.plaintext)).toMatchObject({ keyId: b.apiKey.id });

    await service.update(fork(), a.apiKey.id, { name: 'Renamed A', role: 'admin' }, admin.apiKey.id);
    expect(await service.authenticate(fork(), a.plaintext)).toMatchObject({
      name: 'Renamed A',
      role: 'admin',
    });
    await bStillCached();

    await service.toggle(fork(), a.apiKey.id, admin.apiKey.id);
    expect(await service.authenticate(fork(), a.plaintext)).toBeUndefined();
    await bStillCached();

    // The cached refusal of the inactive key goes too when it is switched back on.
    await service.toggle(fork(), a.apiKey.id, admin.apiKey.id);
    expect(await service.authenticate(fork(), a.plaintext)).toMatchObject({ name: 'Renamed A' });
    await bStillCached();

    await service.remove(fork(), a.apiKey.id, admin.apiKey.id);
    expect(await service.authenticate(fork(), a.plaintext)).toBeUndefined();
    await bStillCached();
  });

  it('does not cache a verification that was in flight while its key was changed', async () => {
    const service = new ApiKeyService({ cacheTtlSeconds: 300 });
    const em = fork();
    const admin = await service.create(em, { name: 'Racer admin', role: 'admin' });
    const key = await service.create(em, { name: 'Racer', role: 'user' });
    const inFlight = service.authenticate(fork(), key.plaintext);
    await service.update(fork(), key.apiKey.id, { is_active: false }, admin.apiKey.id);
    await inFlight; // either answer is right for a request that raced the change
    expect(await service.authenticate(fork(), key.plaintext)).toBeUndefined();
  });

  it('shares one verification among concurrent requests with the same key', async () => {
    const service = new ApiKeyService({ cacheTtlSeconds: 300 });
    const key = await service.create(fork(), { name: 'Single flight' });
    const verify = vi.spyOn(argon2, 'verify');
    const em = fork();
    const lookups = vi.spyOn(em, 'find');
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () => service.authenticate(em, key.plaintext)),
    );
    expect(outcomes.every((outcome) => outcome?.keyId === key.apiKey.id)).toBe(true);
    expect(verify).toHaveBeenCalledTimes(1);
    expect(lookups).toHaveBeenCalledTimes(1);
  });

  it('asks again after the TTL, for known and unknown keys, and never caches with a TTL of 0', async () => {
    let now = Date.now();
    const service = new ApiKeyService({ cacheTtlSeconds: 5, now: () => now });
    const key = await service.create(fork(), { name: 'Short-lived trust' });
    const stranger = unknownKey(await storedPrefixes());
    expect(await service.authenticate(fork(), key.plaintext)).toBeDefined();
    expect(await service.authenticate(fork(), stranger)).toBeUndefined();
    await deactivateBehindTheCache(key.apiKey.id);
    now += 4_000;
    const cached = fork();
    const cachedLookups = vi.spyOn(cached, 'find');
    expect(await service.authenticate(cached, key.plaintext)).toBeDefined();
    expect(await service.authenticate(cached, stranger)).toBeUndefined();
    expect(cachedLookups).not.toHaveBeenCalled();
    now += 2_000;
    const expired = fork();
    const expiredLookups = vi.spyOn(expired, 'find');
    expect(await service.authenticate(expired, key.plaintext)).toBeUndefined();
    expect(await service.authenticate(expired, stranger)).toBeUndefined();
    expect(expiredLookups).toHaveBeenCalledTimes(2);

    const uncached = new ApiKeyService({ cacheTtlSeconds: 0 });
    const live = await uncached.create(fork(), { name: 'Never cached' });
    const verify = vi.spyOn(argon2, 'verify');
    expect(await uncached.authenticate(fork(), live.plaintext)).toBeDefined();
    expect(await uncached.authenticate(fork(), live.plaintext)).toBeDefined();
    expect(verify).toHaveBeenCalledTimes(2);
  });
});
