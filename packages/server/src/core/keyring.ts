import { generateSigningKey, openSigningKey, type SigningAlgorithm, type SigningKey, type StoredSigningKey } from './access-token-format.js';
import type { ChangePublisher } from './changes.js';
import { randomBase62, type Clock, type Random } from './ports.js';

/** Storage of signing keys (part of the Store port). */
export interface SigningKeyRepository {
  /** Every key still published: the active one and those retired after `since`. */
  listPublished(since: Date): Promise<StoredSigningKey[]>;
  /**
   * Makes `next` the active key, retiring `current` (null when there is none yet), atomically:
   * it succeeds only if `current` is still the active key, so of several instances rotating
   * at once exactly one wins. `next` is a new key, or the published waiting key by its kid.
   * Returns whether this call won.
   */
  replaceActive(current: string | null, next: StoredSigningKey | { readonly publishedKid: string }, at: Date): Promise<boolean>;
  /** Publishes `key` as the next key, not yet signing; false when another key already waits. */
  publishNext(key: StoredSigningKey): Promise<boolean>;
  /** Deletes the waiting key `kid` if it has never signed (its algorithm is no longer wanted). */
  withdrawNext(kid: string): Promise<void>;
}

export interface KeyringSettings {
  readonly secretKey: Uint8Array;
  /**
   * The algorithm new keys are made for. When the active key has another one, the keyring
   * rotates at once; the old keys stay published for `retentionSeconds` like any retired key.
   */
  readonly algorithm: SigningAlgorithm;
  /** A key signs for this long before it is replaced. */
  readonly rotationSeconds: number;
  /**
   * A retired key stays in the JWKS this long: at least the longest access-token lifetime, so
   * every token it signed can still be verified until it expires.
   */
  readonly retentionSeconds: number;
  /**
   * The next key is published at least this long before it signs, so resource servers that
   * cache the JWKS (and refetch on an unknown kid only after a cooldown) already hold it.
   */
  readonly prepublishSeconds: number;
}

/**
 * The service's signing keys, cached in memory. Signing never touches the database; the cache
 * is refreshed on a schedule, when a token names a key this instance has not seen, and (wired
 * by the container) when another instance announces a rotation on `changes`.
 */
export function createKeyring(deps: { repo: SigningKeyRepository; changes: ChangePublisher; clock: Clock; random: Random; settings: KeyringSettings }) {
  const { repo, clock, random, settings } = deps;
  let keys = new Map<string, SigningKey>();
  let stored: StoredSigningKey[] = [];
  let activeKid: string | undefined;
  let nextKey: StoredSigningKey | undefined;
  let lastRefresh = 0;

  async function load(): Promise<void> {
    const now = clock.now();
    stored = await repo.listPublished(new Date(now.getTime() - settings.retentionSeconds * 1000));
    const next = new Map<string, SigningKey>();
    for (const key of stored) next.set(key.kid, keys.get(key.kid) ?? openSigningKey(settings.secretKey, key));
    keys = next;
    activeKid = stored.find((key) => key.retiredAt === null && key.activatedAt !== null)?.kid;
    nextKey = stored.find((key) => key.activatedAt === null);
    lastRefresh = now.getTime();
  }

  const generate = (now: Date) => generateSigningKey(settings.secretKey, `k${randomBase62(random, 15)}`, random.bytes(12), now, settings.algorithm);
  const activeAlgorithm = () => stored.find((key) => key.kid === activeKid)?.algorithm;

  /** Publishes a waiting next key of the configured algorithm when there is none (at start, and after each rotation). */
  async function ensureNext(): Promise<void> {
    if (nextKey && nextKey.algorithm !== settings.algorithm) {
      // Waiting for an algorithm the operator has moved away from: it would sign the wrong kind.
      await repo.withdrawNext(nextKey.kid);
      await load();
    }
    if (nextKey) return;
    const fresh = generate(clock.now());
    const won = await repo.publishNext(fresh);
    await load();
    if (won) await deps.changes.publish('signing_keys', fresh.kid);
  }

  /**
   * Replaces the active key: by the waiting next key once it has been published long enough,
   * else (a first start, or a database from before pre-publication) by a new key at once.
   */
  async function rotate(): Promise<void> {
    const now = clock.now();
    const ready =
      nextKey && nextKey.algorithm === settings.algorithm && now.getTime() - nextKey.createdAt.getTime() >= settings.prepublishSeconds * 1000 ? nextKey : undefined;
    const next = ready ? { publishedKid: ready.kid } : generate(now);
    const won = await repo.replaceActive(activeKid ?? null, next, now);
    // Whether this instance won or another did, the stored state is now the truth.
    await load();
    // Every other instance would otherwise sign with the retired key and publish a JWKS without
    // the new one until its next scheduled refresh.
    if (won) await deps.changes.publish('signing_keys', ready ? ready.kid : (next as StoredSigningKey).kid);
    await ensureNext();
  }

  const keyring = {
    /** Loads the keys, creating the first one on an empty database. */
    async init(): Promise<void> {
      await load();
      // A changed TESSERA_SIGNING_ALGORITHM takes effect at once: tokens signed before stay
      // verifiable, since the retired key remains published until they have expired.
      if (!activeKid || activeAlgorithm() !== settings.algorithm) await rotate();
      await ensureNext();
    },

    /** The key new tokens are signed with. */
    active(): SigningKey {
      const key = activeKid === undefined ? undefined : keys.get(activeKid);
      if (!key) throw new Error('keyring is not initialised');
      return key;
    },

    /** A published key by id, for verification. */
    find(kid: string): SigningKey | undefined {
      return keys.get(kid);
    },

    /** Reloads from storage, at most once per `minIntervalMs` (a flood of unknown kids costs one query). */
    async refresh(minIntervalMs = 0): Promise<void> {
      if (clock.now().getTime() - lastRefresh >= minIntervalMs) await load();
    },

    /**
     * Replaces the active key when it has signed for the rotation period. A waiting key
     * published too recently delays the rotation until it has been out long enough (a
     * database from before pre-publication gets its first waiting key now). Returns whether it
     * rotated.
     */
    async rotateIfDue(): Promise<boolean> {
      await load();
      await ensureNext();
      const active = stored.find((key) => key.kid === activeKid);
      const now = clock.now().getTime();
      if (active && active.algorithm !== settings.algorithm) {
        await rotate();
        return true;
      }
      if (active && now - (active.activatedAt ?? active.createdAt).getTime() < settings.rotationSeconds * 1000) return false;
      if (active && nextKey && now - nextKey.createdAt.getTime() < settings.prepublishSeconds * 1000) return false;
      await rotate();
      return true;
    },

    rotate,

    /** The JWKS document (RFC 7517): every published public key. */
    jwks(): { keys: SigningKey['publicJwk'][] } {
      return { keys: [...keys.values()].map((key) => key.publicJwk) };
    },
  };
  return keyring;
}

export type Keyring = ReturnType<typeof createKeyring>;
