import { generateSigningKey, openSigningKey, type SigningKey, type StoredSigningKey } from './access-token-format.js';
import type { ChangePublisher } from './changes.js';
import { randomBase62, type Clock, type Random } from './ports.js';

/** Storage of signing keys (part of the Store port). */
export interface SigningKeyRepository {
  /** Every key still published: the active one and those retired after `since`. */
  listPublished(since: Date): Promise<StoredSigningKey[]>;
  /**
   * Makes `next` the active key, retiring `current` (null when there is none yet), atomically:
   * it succeeds only if `current` is still the active key, so of several instances rotating
   * at once exactly one wins. Returns whether this call won.
   */
  replaceActive(current: string | null, next: StoredSigningKey, at: Date): Promise<boolean>;
}

export interface KeyringSettings {
  readonly secretKey: Uint8Array;
  /** A key signs for this long before it is replaced. */
  readonly rotationSeconds: number;
  /**
   * A retired key stays in the JWKS this long: at least the longest access-token lifetime, so
   * every token it signed can still be verified until it expires.
   */
  readonly retentionSeconds: number;
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
  let lastRefresh = 0;

  async function load(): Promise<void> {
    const now = clock.now();
    stored = await repo.listPublished(new Date(now.getTime() - settings.retentionSeconds * 1000));
    const next = new Map<string, SigningKey>();
    for (const key of stored) next.set(key.kid, keys.get(key.kid) ?? openSigningKey(settings.secretKey, key));
    keys = next;
    activeKid = stored.find((key) => key.retiredAt === null)?.kid;
    lastRefresh = now.getTime();
  }

  async function rotate(): Promise<void> {
    const now = clock.now();
    const fresh = generateSigningKey(settings.secretKey, `k${randomBase62(random, 15)}`, random.bytes(12), now);
    const won = await repo.replaceActive(activeKid ?? null, fresh, now);
    // Whether this instance won or another did, the stored state is now the truth.
    await load();
    // Every other instance would otherwise sign with the retired key and publish a JWKS without
    // the new one until its next scheduled refresh.
    if (won) await deps.changes.publish('signing_keys', fresh.kid);
  }

  const keyring = {
    /** Loads the keys, creating the first one on an empty database. */
    async init(): Promise<void> {
      await load();
      if (!activeKid) await rotate();
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

    /** Replaces the active key when it is older than the rotation period. Returns whether it did. */
    async rotateIfDue(): Promise<boolean> {
      await load();
      const active = stored.find((key) => key.kid === activeKid);
      if (active && clock.now().getTime() - active.createdAt.getTime() < settings.rotationSeconds * 1000) return false;
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
