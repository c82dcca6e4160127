import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import argon2 from 'argon2';
import type { EntityManager } from '@mikro-orm/core';
import { ApiKey, type ApiKeyRole } from '../entities/index.ts';
import { ConflictError, NotFoundError } from '../errors/domain-errors.ts';
import type { Logger } from '../logger.ts';
import { LruMap } from '../util/lru-map.ts';

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

/** How the original service stored a key: the hex SHA-256 digest of the whole key (64 characters). */
const LEGACY_DIGEST = /^[0-9a-f]{64}$/i;

/**
 * Whether `plaintext` matches `storedHash`: an argon2id PHC string (ours), or the original service's hex
 * SHA-256 digest, compared in constant time.
 */
async function hashMatches(storedHash: string, plaintext: string): Promise<boolean> {
  if (LEGACY_DIGEST.test(storedHash)) {
    const digest = createHash('sha256').update(plaintext).digest();
    return timingSafeEqual(digest, Buffer.from(storedHash, 'hex'));
  }
  return argon2.verify(storedHash, plaintext);
}

export function generateApiKey(): string {
  return 'pd_' + randomBytes(32).toString('base64url');
}

interface Verified {
  principal: Principal;
  expiresAt: Date | null;
}

/**
 * What one verification of a presented key found: `keyId` of the row whose hash the key matched (then
 * `valid` is set unless the key is inactive or expired), or undefined when no row matches the key.
 */
interface Outcome {
  keyId: number | undefined;
  valid: Verified | undefined;
}

/** The outcome of a key that matches no stored key. */
const NO_MATCH: Outcome = Object.freeze({ keyId: undefined, valid: undefined });

interface CacheEntry {
  outcome: Outcome;
  cachedUntil: number;
}

/** A verification under way, shared by every request that presents the key meanwhile (single flight). */
interface InFlight {
  outcome: Promise<Outcome>;
  /** Set when a key was changed while this verification ran: its answer may predate the change. */
  stale: boolean;
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
 *
 * Two bounded LRU caches: keys that match a stored key (valid, inactive or expired; `cacheMaxEntries`)
 * and keys that match none (`missCacheMaxEntries`), so a flood of random keys evicts only other misses.
 * A change to a key through this service drops that key's entries only (an index keyId → digests).
 */
export class ApiKeyService {
  readonly #known: LruMap<string, CacheEntry>;
  readonly #misses: LruMap<string, CacheEntry>;
  /** Digests cached in `#known` per key id, for per-key invalidation. */
  readonly #digestsByKey = new Map<number, Set<string>>();
  readonly #inFlight = new Map<string, InFlight>();
  readonly #cacheTtlMs: number;
  readonly #now: () => number;
  readonly #logger: Logger | undefined;

  constructor(options: {
    cacheTtlSeconds: number;
    now?: () => number;
    /** Verifications of existing keys kept (least recently used evicted first). Default 10,000. */
    cacheMaxEntries?: number;
    /** Keys that match no stored key kept, apart from the above. Default 1,000. */
    missCacheMaxEntries?: number;
    /** Where a legacy key whose hash could not be upgraded is reported. */
    logger?: Logger;
  }) {
    this.#cacheTtlMs = options.cacheTtlSeconds * 1000;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#known = new LruMap(options.cacheMaxEntries ?? 10_000, (digest, entry) =>
      this.#unindex(entry.outcome.keyId, digest),
    );
    this.#misses = new LruMap(options.missCacheMaxEntries ?? 1_000);
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
  async authenticate(
    em: EntityManager | (() => EntityManager),
    plaintext: string,
  ): Promise<Principal | undefined> {
    if (!KEY_PATTERN.test(plaintext)) return undefined;
    // A getter is only called when the database must be asked (not on a cache hit): no EntityManager is
    // forked for a request whose key is cached.
    const { valid } = await this.#outcome(typeof em === 'function' ? em : () => em, plaintext);
    if (valid === undefined) return undefined;
    if (valid.expiresAt !== null && valid.expiresAt.getTime() <= this.#now()) return undefined;
    return valid.principal;
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
    if (
      id === callerKeyId &&
      changes.expires_at instanceof Date &&
      changes.expires_at.getTime() <= this.#now()
    ) {
      throw new ConflictError('An API key cannot expire itself; use another admin key');
    }
    em.assign(key, changes);
    await em.flush();
    this.invalidateKey(id);
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
    this.invalidateKey(id);
  }

  /**
   * Forgets the cached verifications of key `keyId` (after it is changed or deleted in this instance);
   * other keys stay cached. Verifications under way are not cached when they finish (they may have read
   * the key before the change).
   */
  invalidateKey(keyId: number): void {
    for (const digest of this.#digestsByKey.get(keyId) ?? []) this.#known.delete(digest);
    this.#digestsByKey.delete(keyId);
    this.#abandonInFlight();
  }

  /** Forgets every cached verification. */
  invalidate(): void {
    this.#known.clear();
    this.#misses.clear();
    this.#digestsByKey.clear();
    this.#abandonInFlight();
  }

  /** The outcome for `plaintext`: cached, shared with a verification under way, or verified now. */
  #outcome(em: () => EntityManager, plaintext: string): Promise<Outcome> {
    const now = this.#now();
    if (this.#cacheTtlMs === 0) return this.#verify(em(), plaintext, now);
    const digest = createHash('sha256').update(plaintext).digest('base64url');
    const cached = this.#known.get(digest) ?? this.#misses.get(digest);
    if (cached !== undefined) {
      if (cached.cachedUntil > now) return Promise.resolve(cached.outcome);
      this.#forget(digest, cached);
    }
    const running = this.#inFlight.get(digest);
    if (running !== undefined) return running.outcome;
    const flight: InFlight = { outcome: this.#verify(em(), plaintext, now), stale: false };
    this.#inFlight.set(digest, flight);
    const settled = () => {
      if (this.#inFlight.get(digest) === flight) this.#inFlight.delete(digest);
    };
    flight.outcome.then(
      (outcome) => {
        settled();
        if (!flight.stale) this.#store(digest, { outcome, cachedUntil: now + this.#cacheTtlMs });
      },
      // A database error is not an answer: nothing is cached, so the next request asks again.
      settled,
    );
    return flight.outcome;
  }

  #store(digest: string, entry: CacheEntry): void {
    const keyId = entry.outcome.keyId;
    if (keyId === undefined) {
      this.#misses.set(digest, entry);
      return;
    }
    this.#known.set(digest, entry);
    let digests = this.#digestsByKey.get(keyId);
    if (digests === undefined) this.#digestsByKey.set(keyId, (digests = new Set()));
    digests.add(digest);
  }

  #forget(digest: string, entry: CacheEntry): void {
    if (entry.outcome.keyId === undefined) this.#misses.delete(digest);
    else {
      this.#known.delete(digest);
      this.#unindex(entry.outcome.keyId, digest);
    }
  }

  #unindex(keyId: number | undefined, digest: string): void {
    if (keyId === undefined) return;
    const digests = this.#digestsByKey.get(keyId);
    digests?.delete(digest);
    if (digests?.size === 0) this.#digestsByKey.delete(keyId);
  }

  /** Verifications under way finish for the requests awaiting them but are neither shared nor cached. */
  #abandonInFlight(): void {
    for (const flight of this.#inFlight.values()) flight.stale = true;
    this.#inFlight.clear();
  }

  /**
   * Replaces a key's legacy SHA-256 digest by an argon2id hash on its first successful use. Written only
   * while the row still holds that digest (another instance may have upgraded it meanwhile); a failed
   * write leaves the digest, which keeps working, and is tried again on the next verification.
   */
  async #upgrade(em: EntityManager, keyId: number, legacyDigest: string, plaintext: string): Promise<void> {
    try {
      const upgraded = await argon2.hash(plaintext, ARGON2_OPTIONS);
      await em.nativeUpdate(ApiKey, { id: keyId, key_hash: legacyDigest }, { key_hash: upgraded });
    } catch (error) {
      // The key was verified and keeps working with its digest; the upgrade is tried on a later use.
      this.#logger?.warn(
        'could not upgrade a legacy API key hash to argon2id; trying again on its next use',
        {
          api_key_id: keyId,
          error: error instanceof Error ? error.message : String(error),
        },
      );
    }
  }

  async #verify(em: EntityManager, plaintext: string, now: number): Promise<Outcome> {
    const candidates = await em.find(ApiKey, { key_prefix: plaintext.slice(0, PREFIX_LENGTH) });
    for (const candidate of candidates) {
      if (!(await hashMatches(candidate.key_hash, plaintext))) continue;
      const expiresAt = candidate.expires_at ?? null;
      if (!candidate.is_active || (expiresAt !== null && expiresAt.getTime() <= now)) {
        return { keyId: candidate.id, valid: undefined };
      }
      if (LEGACY_DIGEST.test(candidate.key_hash))
        await this.#upgrade(em, candidate.id, candidate.key_hash, plaintext);
      return {
        keyId: candidate.id,
        valid: { principal: { keyId: candidate.id, name: candidate.name, role: candidate.role }, expiresAt },
      };
    }
    return NO_MATCH;
  }
}
