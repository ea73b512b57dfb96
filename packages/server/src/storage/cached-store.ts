import type { ChangeFeed, ChangeTopic } from '../core/changes.js';
import type { RevocationEvent, RevocationEventRepository } from '../core/revocations.js';
import type { Store } from '../core/store.js';

/**
 * The read cache of the token endpoint's and introspection's hot path (issue 4: "the hot path
 * must not hit the database when it need not"). It wraps the Store, so nothing above storage
 * knows it is there, and the Store contract suite runs through it.
 *
 * Cached: a token's verification record, an organization's policy, a principal and its
 * effective roles, an app by client_id, and whether an access token's jti is revoked.
 *
 * Kept exact by invalidation rather than by a short lifetime:
 * - every write through this Store drops the entries it affects at once, and again when its
 *   transaction commits (a read racing the write cannot put the old row back for long);
 * - the same write publishes a change in its transaction, delivered at commit to every
 *   instance on the database (PostgreSQL NOTIFY), which drops its entries too (SPEC 8);
 * - when the listening connection was lost, every entry is dropped.
 * The lifetime is only a backstop (and bounds how stale a token's last-use time may be for
 * the idle check when it was used through another instance).
 */
export interface ReadCacheOptions {
  readonly ttlMs?: number;
  readonly maxEntries?: number;
  /**
   * Whether changes can reach this instance now (the listening connection is up). While they
   * cannot, nothing is kept: an entry filled then could miss its invalidation for good.
   */
  readonly live?: () => boolean;
  /**
   * Whether other processes write to the same database (PostgreSQL; default true). With PGlite
   * only this process writes, every write drops its entries before it answers, and
   * `revocations.catchUp` has nothing to do.
   */
  readonly sharedDatabase?: boolean;
  /**
   * How `revocations.catchUp` reads the feed; the store's `revocationEvents.after` by default.
   * PostgreSQL reads over its listening connection (storage/database.ts).
   */
  readonly readRevocationsAfter?: RevocationEventRepository['after'];
}

/** Topics this cache publishes and follows; keys name what changed. */
const topics = {
  tokens: 'tokens',
  principals: 'principals',
  policies: 'policies',
  apps: 'apps',
  revocations: 'revocations',
} as const satisfies Record<string, ChangeTopic>;

interface Entry<V> {
  readonly value: V;
  readonly expiresAt: number;
}

/** A bounded map with a lifetime; a generation counter keeps a slow read from re-filling an entry dropped meanwhile. */
class Cache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  #generation = 0;
  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly live: () => boolean = () => true,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  /** Drops expired entries, so memory follows the traffic of the last lifetime, not of all time. */
  sweep(now: number): void {
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
  }

  async read(key: string, load: () => Promise<V>): Promise<V> {
    const entry = this.#entries.get(key);
    if (entry !== undefined) {
      if (entry.expiresAt > Date.now()) return entry.value;
      this.#entries.delete(key);
    }
    return this.reload(key, load);
  }

  /** Loads past the cache and keeps the answer (unless the entry was dropped meanwhile). */
  async reload(key: string, load: () => Promise<V>): Promise<V> {
    this.#entries.delete(key);
    const generation = this.#generation;
    const value = await load();
    if (generation === this.#generation && this.live()) {
      // Oldest first out: Map iteration follows insertion order.
      if (this.#entries.size >= this.maxEntries) this.#entries.delete(this.#entries.keys().next().value as string);
      this.#entries.set(key, { value, expiresAt: Date.now() + this.ttlMs });
    }
    return value;
  }

  drop(key: string): void {
    this.#generation++;
    this.#entries.delete(key);
  }

  /** Drops every key starting with `prefix` (an organization's entries). */
  dropPrefix(prefix: string): void {
    this.#generation++;
    for (const key of this.#entries.keys()) if (key.startsWith(prefix)) this.#entries.delete(key);
  }

  clear(): void {
    this.#generation++;
    this.#entries.clear();
  }
}

export interface CachedStore {
  readonly store: Store;
  /** Entries held per cache (for /metrics and the soak bench). */
  sizes(): Record<string, number>;
  /** Stops following changes and the expiry timer. */
  close(): void;
}

export function withReadCache(inner: Store, feed: ChangeFeed, options: ReadCacheOptions = {}): CachedStore {
  const ttlMs = options.ttlMs ?? 10_000;
  const sharedDatabase = options.sharedDatabase ?? true;
  const maxEntries = options.maxEntries ?? 10_000;
  const live = options.live ?? (() => true);
  const readRevocationsAfter = options.readRevocationsAfter ?? ((seq, limit) => inner.revocationEvents.after(seq, limit));
  const tokens = new Cache<Awaited<ReturnType<Store['tokens']['getForVerify']>>>(ttlMs, maxEntries, live);
  const policies = new Cache<Awaited<ReturnType<Store['policies']['get']>>>(ttlMs, maxEntries, live);
  const principals = new Cache<Awaited<ReturnType<Store['principals']['get']>>>(ttlMs, maxEntries, live);
  const roles = new Cache<Awaited<ReturnType<Store['principals']['effectiveRoles']>>>(ttlMs, maxEntries, live);
  const apps = new Cache<Awaited<ReturnType<Store['apps']['getByClientId']>>>(ttlMs, maxEntries, live);
  const revokedJtis = new Cache<boolean>(ttlMs, maxEntries * 10, live);
  const caches = { tokens, policies, principals, roles, apps, revokedJtis };
  // Entries read once and never again would otherwise stay until the cap pushes them out. Unref'd: it keeps no process alive.
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const cache of Object.values(caches)) cache.sweep(now);
  }, ttlMs);
  sweeper.unref();

  /** What a change drops, here or on any instance. */
  function drop(topic: ChangeTopic, key: string): void {
    switch (topic) {
      case topics.tokens:
        tokens.drop(key);
        break;
      case topics.principals:
        // Keyed by organization: a role or group change moves many principals' roles at once.
        principals.dropPrefix(`${key}/`);
        roles.dropPrefix(`${key}/`);
        apps.clear();
        break;
      case topics.policies:
        policies.drop(key);
        break;
      case topics.apps:
        apps.clear();
        break;
      case topics.revocations:
        revokedJtis.clear();
        break;
    }
  }
  const clearAll = () => [tokens, policies, principals, roles, apps, revokedJtis].forEach((cache) => cache.clear());
  // Lost: nothing held may be trusted until notices flow again (and `live` keeps nothing meanwhile); missed: dropped again.
  const unsubscribe = feed.subscribe({ change: ({ topic, key }) => drop(topic, key), missed: clearAll, lost: clearAll });

  /**
   * The newest revocation-feed entry whose effect on this cache is applied. The change
   * notification of a revocation reaches other instances a moment after the revoking request
   * has answered; `catchUp` closes that window (issue 13, item 6). The feed's sequence follows
   * commit order (sql-oauth.ts holds a lock until commit), so every revocation committed before
   * a catch-up's query has a sequence above the last one applied and is seen by that query.
   */
  let appliedSeq: bigint | undefined;
  const advance = (seq: bigint) => {
    if (appliedSeq === undefined || seq > appliedSeq) appliedSeq = seq;
  };
  function applyRevocation(event: RevocationEvent): void {
    switch (event.kind) {
      case 'token':
        tokens.drop(event.subjectId);
        break;
      case 'access_token':
        revokedJtis.drop(event.subjectId);
        break;
      case 'principal':
        // A disabled or deleted principal, or a deleted app (its client_id).
        drop(topics.principals, event.orgId);
        break;
      case 'cutoff':
        // Revoked every token of the organization, or of one owner, created before the cutoff.
        tokens.clear();
        break;
      default:
        clearAll();
    }
  }
  /**
   * One read of the feed serves every caller that asked before it began: a caller arriving
   * while a read is in flight waits for the next one (that read may have begun before a
   * revocation this caller must see). Under load that is one query per round trip, not one
   * per request.
   */
  let reading: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  function catchUp(): Promise<void> {
    if (!sharedDatabase) return Promise.resolve();
    if (reading === undefined) {
      reading = readFeed().finally(() => (reading = undefined));
      return reading;
    }
    const ignore = () => {};
    queued ??= reading.then(ignore, ignore).then(() => {
      queued = undefined;
      return catchUp();
    });
    return queued;
  }
  async function readFeed(): Promise<void> {
    if (appliedSeq === undefined) {
      const latest = await inner.revocationEvents.lastBefore(new Date('9999-12-31T00:00:00Z'));
      // Whatever was cached before this first look may predate any of those revocations.
      clearAll();
      advance(BigInt(latest));
      return;
    }
    let from = appliedSeq;
    for (;;) {
      const events = await readRevocationsAfter(String(from), 500);
      for (const event of events) applyRevocation(event);
      const last = events.at(-1);
      if (last) {
        from = BigInt(last.seq);
        advance(from);
      }
      if (events.length < 500) return;
    }
  }

  /**
   * The store as seen inside one transaction (or outside any, `afterCommit` undefined): writes
   * drop their entries now, publish the change (delivered at commit), and drop again at commit.
   */
  function wrap(store: Store, afterCommit: ((topic: ChangeTopic, key: string) => void) | undefined): Store {
    // Reads inside a transaction go to it: they may see its own uncommitted writes or lock rows.
    const outside = afterCommit === undefined;
    const changed = async (topic: ChangeTopic, key: string): Promise<void> => {
      drop(topic, key);
      afterCommit?.(topic, key);
      await store.changes.publish(topic, key);
    };
    /** Runs a write, then drops and announces what it may have changed (a no-op write announces too: harmless). */
    const writing =
      <A extends unknown[], R>(write: (...args: A) => Promise<R>, what: (...args: A) => [ChangeTopic, string]) =>
      async (...args: A): Promise<R> => {
        const result = await write(...args);
        await changed(...what(...args));
        return result;
      };

    const self: Store = {
      ...store,
      async transaction(work) {
        // Already inside a transaction: the inner store runs `work` in it, as the SQL store does.
        if (afterCommit !== undefined) return work(self);
        const pending: [ChangeTopic, string][] = [];
        const result = await store.transaction((tx) => work(wrap(tx, (topic, key) => pending.push([topic, key]))));
        for (const [topic, key] of pending) drop(topic, key);
        return result;
      },
      tokens: {
        ...store.tokens,
        ...(outside && {
          getForVerify: (id: string, options?: { readonly fresh?: boolean }) =>
            options?.fresh ? tokens.reload(id, () => store.tokens.getForVerify(id)) : tokens.read(id, () => store.tokens.getForVerify(id)),
        }),
        // A lookup of an id before it existed may have cached "unknown".
        create: writing(store.tokens.create, (token) => [topics.tokens, token.id]),
        update: writing(store.tokens.update, (_orgId, id) => [topics.tokens, id]),
        replaceSecret: writing(store.tokens.replaceSecret, (id) => [topics.tokens, id]),
        revoke: writing(store.tokens.revoke, (_orgId, id) => [topics.tokens, id]),
        async revokeCreatedBefore(...args) {
          const revoked = await store.tokens.revokeCreatedBefore(...args);
          for (const { id } of revoked) await changed(topics.tokens, id);
          return revoked;
        },
        async recordUsage(entries) {
          await store.tokens.recordUsage(entries);
          // Last use feeds the idle check; here at once, elsewhere within the cache lifetime.
          for (const entry of entries) tokens.drop(entry.id);
        },
      },
      policies: {
        ...store.policies,
        ...(outside && { get: (orgId: string) => policies.read(orgId, () => store.policies.get(orgId)) }),
        put: writing(store.policies.put, (orgId) => [topics.policies, orgId]),
      },
      principals: {
        ...store.principals,
        ...(outside && {
          get: (orgId: string, id: string) => principals.read(`${orgId}/${id}`, () => store.principals.get(orgId, id)),
          effectiveRoles: (orgId: string, id: string) => roles.read(`${orgId}/${id}`, () => store.principals.effectiveRoles(orgId, id)),
        }),
        update: writing(store.principals.update, (orgId) => [topics.principals, orgId]),
        remove: writing(store.principals.remove, (orgId) => [topics.principals, orgId]),
        setRoles: writing(store.principals.setRoles, (orgId) => [topics.principals, orgId]),
      },
      groups: {
        ...store.groups,
        update: writing(store.groups.update, (orgId) => [topics.principals, orgId]),
        remove: writing(store.groups.remove, (orgId) => [topics.principals, orgId]),
        setMembers: writing(store.groups.setMembers, (orgId) => [topics.principals, orgId]),
        setRoles: writing(store.groups.setRoles, (orgId) => [topics.principals, orgId]),
      },
      roles: {
        ...store.roles,
        update: writing(store.roles.update, (orgId) => [topics.principals, orgId]),
        remove: writing(store.roles.remove, (orgId) => [topics.principals, orgId]),
      },
      apps: {
        ...store.apps,
        ...(outside && { getByClientId: (clientId: string) => apps.read(clientId, () => store.apps.getByClientId(clientId)) }),
        create: writing(store.apps.create, (app) => [topics.apps, app.orgId]),
        update: writing(store.apps.update, (orgId) => [topics.apps, orgId]),
        setSecret: writing(store.apps.setSecret, (orgId) => [topics.apps, orgId]),
        remove: writing(store.apps.remove, (orgId) => [topics.apps, orgId]),
      },
      revocations: {
        ...store.revocations,
        ...(outside && { isAccessTokenRevoked: (jti: string) => revokedJtis.read(jti, () => store.revocations.isAccessTokenRevoked(jti)), catchUp }),
        revokeAccessToken: writing(store.revocations.revokeAccessToken, (entry) => [topics.revocations, entry.orgId]),
        async pruneExpired(before) {
          await store.revocations.pruneExpired(before);
          // What was pruned had expired anyway; dropping the answers keeps this store exact.
          revokedJtis.clear();
        },
      },
    };
    return self;
  }
  return {
    store: wrap(inner, undefined),
    sizes: () => Object.fromEntries(Object.entries(caches).map(([name, cache]) => [name, cache.size])),
    close() {
      clearInterval(sweeper);
      unsubscribe();
    },
  };
}
