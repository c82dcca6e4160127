import { createHash, randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import type { EntityManager } from '@mikro-orm/core';
import { ApiKey, type ApiKeyRole } from '../entities/index.ts';
import { ConflictError, NotFoundError } from '../errors/domain-errors.ts';

/** The identity a verified key gives a request. */
export interface Principal {
  readonly keyId: number;
  readonly name: string;
  readonly role: ApiKeyRole;
}

export interface ApiKeyChanges {
  name?: string;
  description?: string | null;
  role?: ApiKeyRole;
  is_active?: boolean;
  expires_at?: Date | null;
}

export interface NewApiKey {
  name: string;
  description?: string | null;
  role?: ApiKeyRole;
  is_active?: boolean;
  expires_at?: Date | null;
}

/** `pd_` + 32 random bytes in URL-safe base64 = `pd_` + 43 characters, as the original service. */
const KEY_PATTERN = /^pd_[A-Za-z0-9_-]{43}$/;
/** Characters of the key stored in clear to find the candidate row (the original used 8). */
const PREFIX_LENGTH = 8;

export function generateApiKey(): string {
  return 'pd_' + randomBytes(32).toString('base64url');
}

interface Verified {
  principal: Principal;
  expiresAt: Date | null;
}

interface CacheEntry {
  /** Shared by every request that presents the key while it is being verified (single flight). */
  verified: Promise<Verified | undefined>;
  cachedUntil: number;
}

/**
 * OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane). The keys are 256 random bits, so the hash guards
 * a leaked table rather than weak passwords; heavier settings would only cost memory per verification.
 */
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/**
 * Creates and verifies API keys. Keys are stored as argon2id hashes; verification caches the outcome for
 * `cacheTtlSeconds` under a SHA-256 digest of the key, so a request costs one argon2 verification per key
 * per TTL at most, and a revoked, deactivated or expired key stops working within the TTL.
 */
export class ApiKeyService {
  readonly #cache = new Map<string, CacheEntry>();
  readonly #cacheTtlMs: number;
  readonly #now: () => number;

  constructor(options: { cacheTtlSeconds: number; now?: () => number }) {
    this.#cacheTtlMs = options.cacheTtlSeconds * 1000;
    this.#now = options.now ?? Date.now;
  }

  /** Creates a key and returns it with its plaintext, which is never stored and cannot be shown again. */
  async create(em: EntityManager, input: NewApiKey): Promise<{ apiKey: ApiKey; plaintext: string }> {
    const plaintext = generateApiKey();
    const apiKey = em.create(ApiKey, {
      name: input.name,
      description: input.description ?? null,
      role: input.role ?? 'user',
      key_prefix: plaintext.slice(0, PREFIX_LENGTH),
      key_hash: await argon2.hash(plaintext, ARGON2_OPTIONS),
      is_active: input.is_active ?? true,
      expires_at: input.expires_at ?? null,
      usage_count: 0,
      last_used_at: null,
    });
    await em.flush();
    return { apiKey, plaintext };
  }

  /**
   * The principal of a valid (active, unexpired) key, or undefined. Concurrent requests with the same key
   * share one verification, so a cache miss under load costs one argon2 run, not one per request.
   */
  async authenticate(em: EntityManager, plaintext: string): Promise<Principal | undefined> {
    if (!KEY_PATTERN.test(plaintext)) return undefined;
    const digest = createHash('sha256').update(plaintext).digest('base64url');
    const now = this.#now();
    let entry = this.#cache.get(digest);
    if (entry === undefined || entry.cachedUntil <= now) {
      entry = { verified: this.#verify(em, plaintext, now), cachedUntil: now + this.#cacheTtlMs };
      this.#remember(digest, entry);
    }
    const verified = await entry.verified;
    if (verified === undefined) return undefined;
    if (verified.expiresAt !== null && verified.expiresAt.getTime() <= this.#now()) return undefined;
    return verified.principal;
  }

  /** One page of keys ordered by id, and the total. */
  async list(em: EntityManager, offset: number, limit: number): Promise<{ items: ApiKey[]; total: number }> {
    const [items, total] = await em.findAndCount(ApiKey, {}, { orderBy: { id: 'asc' }, offset, limit });
    return { items, total };
  }

  /** The key with this id; NotFoundError when there is none. */
  async get(em: EntityManager, id: number): Promise<ApiKey> {
    const key = await em.findOne(ApiKey, { id });
    if (key === null) throw new NotFoundError(`API key ${id} not found`);
    return key;
  }

  /**
   * Applies `changes` to key `id`. The calling key may not lock itself out (deactivate itself or give up
   * its admin role): ConflictError. Verifications cached in this instance are dropped at once; other
   * instances notice within the cache TTL.
   */
  async update(em: EntityManager, id: number, changes: ApiKeyChanges, callerKeyId: number): Promise<ApiKey> {
    const key = await this.get(em, id);
    if (id === callerKeyId && changes.is_active === false) {
      throw new ConflictError('An API key cannot deactivate itself; use another admin key');
    }
    if (id === callerKeyId && changes.role !== undefined && changes.role !== 'admin') {
      throw new ConflictError('An API key cannot give up its own admin role; use another admin key');
    }
    em.assign(key, changes);
    await em.flush();
    this.invalidate();
    return key;
  }

  /** Flips `is_active` of key `id` (the calling key cannot deactivate itself). */
  async toggle(em: EntityManager, id: number, callerKeyId: number): Promise<ApiKey> {
    const key = await this.get(em, id);
    return this.update(em, id, { is_active: !key.is_active }, callerKeyId);
  }

  /** Deletes key `id` for good (the calling key cannot delete itself). */
  async remove(em: EntityManager, id: number, callerKeyId: number): Promise<void> {
    const key = await this.get(em, id);
    if (id === callerKeyId) throw new ConflictError('An API key cannot delete itself; use another admin key');
    await em.remove(key).flush();
    this.invalidate();
  }

  /** Forgets every cached verification (after a key is changed or deleted in this instance). */
  invalidate(): void {
    this.#cache.clear();
  }

  async #verify(em: EntityManager, plaintext: string, now: number): Promise<Verified | undefined> {
    const candidates = await em.find(ApiKey, { key_prefix: plaintext.slice(0, PREFIX_LENGTH) });
    for (const candidate of candidates) {
      if (!(await argon2.verify(candidate.key_hash, plaintext))) continue;
      const expiresAt = candidate.expires_at ?? null;
      if (!candidate.is_active || (expiresAt !== null && expiresAt.getTime() <= now)) return undefined;
      return { principal: { keyId: candidate.id, name: candidate.name, role: candidate.role }, expiresAt };
    }
    return undefined;
  }

  #remember(digest: string, entry: CacheEntry): void {
    if (this.#cacheTtlMs === 0) return;
    if (this.#cache.size >= 10_000) this.#cache.clear();
    this.#cache.set(digest, entry);
    // A database error is not an answer: forget it, so the next request asks again.
    entry.verified.catch(() => {
      if (this.#cache.get(digest) === entry) this.#cache.delete(digest);
    });
  }
}
