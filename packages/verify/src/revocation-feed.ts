import { createParser, type EventSourceMessage } from 'eventsource-parser';

/**
 * One revocation as the server streams it (`event: revocation` on `GET /oauth/revocations`).
 *
 * @example
 * ```ts
 * const revocation: Revocation = { kind: 'token', id: 'Jx4kT9sQ2mWb', at: 1767225600 };
 * ```
 */
export interface Revocation {
  /**
   * `token`: an API token and every access token minted from it; `access_token`: one jti;
   * `principal`: a disabled owner; `cutoff`: every access token minted from an API token of
   * `org` (or of its principal `owner`) with `iat` before `before`.
   */
  readonly kind: 'token' | 'access_token' | 'principal' | 'cutoff';
  readonly id: string;
  /** Seconds since the epoch; for `principal`, tokens issued before this instant are refused. */
  readonly at: number;
  /** `cutoff` only: the organization. */
  readonly org?: string;
  /** `cutoff` only: the owner's principal id, or null for the whole organization. */
  readonly owner?: string | null;
  /** `cutoff` only: seconds since the epoch. */
  readonly before?: number;
}

/**
 * Options of {@link RevocationFeed}. {@link createVerifier} fills them from its `revocations`
 * option; use them directly only to follow the feed yourself.
 *
 * @example
 * ```ts
 * const options: RevocationFeedOptions = {
 *   url: 'https://tessera.example.com/oauth/revocations',
 *   clientId, clientSecret,                       // an app with can_introspect
 *   onStatus: (status, detail) => log.info({ status, detail }, 'revocation feed'),
 * };
 * ```
 */
export interface RevocationFeedOptions {
  /** The server's feed URL, e.g. `https://tessera.example.com/oauth/revocations`. */
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Delay before reconnecting after the stream ends or fails (default 500 ms). */
  readonly reconnectDelayMs?: number;
  readonly fetch?: typeof fetch;
  /** Called on connection changes, for logs and metrics. */
  readonly onStatus?: (status: 'connected' | 'disconnected', detail?: string) => void;
}

/**
 * Follows the server's revocation stream (Server-Sent Events) and keeps the revoked ids in
 * memory. After a reconnect it resumes from the last event id it saw (`Last-Event-ID`), so no
 * revocation is missed. `lastContact` moves on every event and heartbeat; the verifier fails
 * closed when it is older than its staleness bound.
 *
 * {@link createVerifier} runs one for you with its `revocations` option; use the class directly
 * to share revocation state with code that is not behind a verifier.
 *
 * @example
 * ```ts
 * const feed = new RevocationFeed({ url: `${tesseraUrl}/oauth/revocations`, clientId, clientSecret });
 * feed.start();
 * await feed.ready();
 * if (feed.isRevoked({ jti: claims.jti, tid: claims.tid, sub: claims.sub, iat: claims.iat })) refuse();
 * feed.stop();
 * ```
 */
export class RevocationFeed {
  readonly #options: RevocationFeedOptions;
  readonly #tokens = new Set<string>();
  readonly #jtis = new Set<string>();
  readonly #principals = new Map<string, number>();
  /** Cutoffs keyed `org` or `org/owner`: the latest `before` of each. */
  readonly #cutoffs = new Map<string, number>();
  #cursor: string | undefined;
  #controller: AbortController | undefined;
  #stopped = false;
  #lastContact = 0;
  #synced = false;
  #firstSync: Promise<void>;
  #resolveFirstSync!: () => void;

  constructor(options: RevocationFeedOptions) {
    this.#options = options;
    this.#firstSync = new Promise((resolve) => (this.#resolveFirstSync = resolve));
  }

  /** Milliseconds since the epoch of the last event or heartbeat; 0 before the first. */
  get lastContact(): number {
    return this.#lastContact;
  }

  /** Resolves once the backlog has been received after the first connection. */
  ready(): Promise<void> {
    return this.#firstSync;
  }

  /** Connects and keeps reconnecting (resuming from the last event id) until {@link RevocationFeed.stop}. */
  start(): void {
    void this.#run();
  }

  /** Closes the stream and stops reconnecting. */
  stop(): void {
    this.#stopped = true;
    this.#controller?.abort();
  }

  /** Whether an access token with these claims has been revoked. */
  isRevoked(claims: { jti?: string | undefined; tid?: string | null | undefined; sub?: string | undefined; iat?: number | undefined; org?: string | undefined }): boolean {
    if (claims.jti !== undefined && this.#jtis.has(claims.jti)) return true;
    if (claims.tid && this.#tokens.has(claims.tid)) return true;
    // A cutoff concerns access tokens minted from API tokens (they carry `tid` and `iat`). A
    // direct token's introspection answer has no `iat`: the server refuses it once revoked, and
    // its cached answer lives only for the introspection cache's few seconds.
    if (claims.tid && claims.iat !== undefined && claims.org !== undefined && this.#cutoffs.size > 0) {
      const iat = claims.iat;
      const orgWide = this.#cutoffs.get(claims.org);
      if (orgWide !== undefined && iat < orgWide) return true;
      const own = claims.sub === undefined ? undefined : this.#cutoffs.get(`${claims.org}/${claims.sub}`);
      if (own !== undefined && iat < own) return true;
    }
    if (claims.sub !== undefined) {
      const since = this.#principals.get(claims.sub);
      if (since !== undefined && (claims.iat ?? 0) <= since) return true;
    }
    return false;
  }

  #apply(revocation: Revocation): void {
    if (revocation.kind === 'cutoff') {
      if (typeof revocation.org !== 'string' || typeof revocation.before !== 'number') return;
      const key = typeof revocation.owner === 'string' ? `${revocation.org}/${revocation.owner}` : revocation.org;
      this.#cutoffs.set(key, Math.max(this.#cutoffs.get(key) ?? 0, revocation.before));
    } else if (revocation.kind === 'token') this.#tokens.add(revocation.id);
    else if (revocation.kind === 'access_token') this.#jtis.add(revocation.id);
    else this.#principals.set(revocation.id, Math.max(this.#principals.get(revocation.id) ?? 0, revocation.at));
  }

  #onEvent(message: EventSourceMessage): void {
    this.#lastContact = Date.now();
    if (message.id) this.#cursor = message.id;
    if (message.event === 'revocation') {
      try {
        const revocation = JSON.parse(message.data) as Revocation;
        if (typeof revocation.id === 'string' && ['token', 'access_token', 'principal', 'cutoff'].includes(revocation.kind)) this.#apply(revocation);
      } catch {
        // A malformed event is skipped; the stream continues.
      }
    } else if (message.event === 'synced' && !this.#synced) {
      this.#synced = true;
      this.#resolveFirstSync();
    }
  }

  async #run(): Promise<void> {
    const fetchFn = this.#options.fetch ?? fetch;
    const authorization = `Basic ${btoa(`${encodeURIComponent(this.#options.clientId)}:${encodeURIComponent(this.#options.clientSecret)}`)}`;
    while (!this.#stopped) {
      this.#controller = new AbortController();
      try {
        const response = await fetchFn(this.#options.url, {
          headers: {
            accept: 'text/event-stream',
            authorization,
            ...(this.#cursor !== undefined && { 'last-event-id': this.#cursor }),
          },
          signal: this.#controller.signal,
        });
        if (!response.ok || !response.body) throw new Error(`revocation feed answered ${response.status}`);
        this.#options.onStatus?.('connected');
        const parser = createParser({ onEvent: (message) => this.#onEvent(message), onComment: () => (this.#lastContact = Date.now()) });
        const decoder = new TextDecoder();
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
        this.#options.onStatus?.('disconnected', 'stream ended');
      } catch (error) {
        if (this.#stopped) return;
        this.#options.onStatus?.('disconnected', error instanceof Error ? error.message : String(error));
      }
      await new Promise((resolve) => setTimeout(resolve, this.#options.reconnectDelayMs ?? 500).unref());
    }
  }
}
