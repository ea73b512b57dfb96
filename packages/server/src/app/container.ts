import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DestinationStream, Logger } from 'pino';
import type { Config } from '../config/config.js';
import { decodeSecretKey } from '../config/config.js';
import { createAuthService, type AuthService } from '../core/auth.js';
import { bootstrapInstance, defaultOrgName, type BootstrapResult } from '../core/bootstrap.js';
import { createAppService, type AppService } from '../core/apps.js';
import { followChanges } from '../core/changes.js';
import { createDirectoryService, type DirectoryService } from '../core/directory/index.js';
import { TesseraError } from '../core/errors.js';
import { createJobRunner, type JobRunner } from '../core/jobs.js';
import { createWebhookDispatcher } from '../core/webhook-dispatch.js';
import { periodicJobs, prepareAuditPartitions } from './periodic-jobs.js';
import { createWebhookService, type WebhookService } from '../core/webhooks.js';
import { otplibTotp } from './totp.js';
import { createSecondFactorService, type SecondFactorService } from '../core/second-factors.js';
import { createWebhookSender } from './webhook-sender.js';
import { createKeyring, type Keyring } from '../core/keyring.js';
import { maxAccessTokenTtlSeconds } from '../core/policy.js';
import { createOAuthService, type OAuthService } from '../core/oauth/index.js';
import { createRateLimiter, type RateLimiter } from '../core/rate-limiter.js';
import { createRevocationHub, type RevocationHub } from '../core/revocation-hub.js';
import { createTokenService, type TokenService } from '../core/tokens/index.js';
import { createTokenIdentifyService, type TokenIdentifyService } from '../core/tokens/identify.js';
import { createTokenUsageService, type TokenUsageService } from '../core/tokens/usage.js';
import { createRevokeAllService, type RevokeAllService } from '../core/revoke-all.js';
import { createSecretScanningService, type SecretScanningService } from '../core/secret-scanning.js';
import { createUsageRecorder, type UsageRecorder } from '../core/usage.js';
import { createBackupService, type BackupService } from '../core/backup.js';
import { systemClock, systemRandom, type Clock, type Random } from '../core/ports.js';
import type { Store } from '../core/store.js';
import { openStorage, type Storage } from '../storage/database.js';
import { createLogger } from './logger.js';

export interface ContainerOptions {
  readonly clock?: Clock;
  readonly random?: Random;
  /** Where logs go; defaults to stdout. Tests pass a capturing stream. */
  readonly logDestination?: DestinationStream;
  /** Start PGlite from a prepared dump (tests). */
  readonly pgliteDump?: Blob;
  /** Keep the PGlite database in memory instead of `config.dataDir` (tests). */
  readonly inMemory?: boolean;
}

/** Everything the transports need, built once: the one composition root (STYLE 7). */
export interface Container {
  readonly config: Config;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly storage: Storage;
  readonly store: Store;
  readonly auth: AuthService;
  readonly directory: DirectoryService;
  readonly apps: AppService;
  readonly tokens: TokenService;
  /** Per-minute exchange and denial counts of a token (issue 17). */
  readonly tokenUsage: TokenUsageService;
  /** Leaked and expiring tokens (SPEC 9): revoke by value, revoke before a cutoff. */
  readonly leaks: TokenIdentifyService & RevokeAllService;
  readonly secretScanning: SecretScanningService;
  /** `tessera backup`: a copy of the embedded database (none on PostgreSQL). */
  readonly backup: BackupService;
  readonly usage: UsageRecorder;
  readonly keyring: Keyring;
  readonly oauth: OAuthService;
  readonly revocationHub: RevocationHub;
  /** Token-endpoint request counters (per instance). */
  readonly rateLimiter: RateLimiter;
  /** Periodic jobs; started by the server once it listens. */
  readonly jobs: JobRunner;
  readonly webhooks: WebhookService;
  readonly secondFactors: SecondFactorService;
  /** Sends the webhook outbox; started by the server once it listens. */
  readonly webhookDelivery: WebhookDelivery;
  readonly bootstrap: BootstrapResult;
  /** The issuer URL; set by the server once it listens when TESSERA_ISSUER is not configured. */
  readonly issuer: { value: string };
  /** Whether this instance is shutting down (graceful drain); the transports act on it. */
  readonly lifecycle: Lifecycle;
  close(): Promise<void>;
}

/**
 * The drain state of one instance. Once `drain()` is called, readiness answers 503 so load
 * balancers stop sending new work, responses ask clients to close their connections, and
 * long-lived streams are handed a reconnect hint; requests are still served meanwhile.
 */
export interface Lifecycle {
  readonly draining: boolean;
  drain(): void;
  /** Calls `listener` once when draining starts (at once when it already has). */
  onDrain(listener: () => void): () => void;
}

export function createLifecycle(): Lifecycle {
  let draining = false;
  const listeners = new Set<() => void>();
  return {
    get draining() {
      return draining;
    },
    drain() {
      if (draining) return;
      draining = true;
      for (const listener of listeners) listener();
      listeners.clear();
    },
    onDrain(listener) {
      if (draining) {
        listener();
        return () => {};
      }
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * The longest access-token lifetime (30 days, core/policy.ts) drives this window.
 * How long a retired signing key stays published and a revocation stays in the feed's catch-up
 * window: past the longest access-token lifetime, so everything they concern has expired.
 */
const afterLastAccessTokenSeconds = maxAccessTokenTtlSeconds + 300;

/**
 * The secret key: given by configuration, or with PGlite generated once into the data
 * directory (mode 0600) so a restart keeps sessions and tokens valid.
 */
async function resolveSecretKey(config: Config, inMemory: boolean): Promise<Buffer> {
  if (config.secretKey) return config.secretKey;
  if (inMemory) return randomBytes(32);
  const path = join(config.dataDir, 'secret.key');
  try {
    return decodeSecretKey(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = randomBytes(32);
  await mkdir(config.dataDir, { recursive: true });
  await writeFile(path, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  return key;
}

/** The per-instance loop that drains the webhook outbox (every instance takes part, under leases). */
export interface WebhookDelivery {
  start(): void;
  /** One round now; returns how many messages were delivered and failed. */
  runOnce(): Promise<{ delivered: number; failed: number }>;
  /** Stops the loop and waits for a round in progress. */
  stop(): Promise<void>;
}

function createWebhookLoop(runOnce: () => Promise<{ delivered: number; failed: number }>, everyMs: number, onError: (error: unknown) => void): WebhookDelivery {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<{ delivered: number; failed: number }> | undefined;
  const round = () => {
    running ??= runOnce().finally(() => (running = undefined));
    return running;
  };
  return {
    start() {
      timer ??= setInterval(() => void round().catch(onError), everyMs);
      timer.unref();
    },
    runOnce: round,
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
  };
}

/**
 * During an outage every request and poll fails to connect, each failure a new error: the
 * first of a kind (SQLSTATE or errno) is logged at once, repeats within 5 s are counted and the
 * count rides on the next line logged.
 */
function throttled<F extends { sqlstate?: string | undefined; errno?: string | undefined }>(log: (facts: F, suppressed: number) => void, windowMs = 5000) {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (facts: F): void => {
    const kind = facts.sqlstate ?? facts.errno ?? 'other';
    const now = Date.now();
    const seen = last.get(kind);
    if (seen && now - seen.at < windowMs) {
      seen.suppressed++;
      return;
    }
    last.set(kind, { at: now, suppressed: 0 });
    log(facts, seen?.suppressed ?? 0);
  };
}

export async function createContainer(config: Config, options: ContainerOptions = {}): Promise<Container> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? systemRandom;
  const logger = createLogger(config.logLevel, options.logDestination);
  const inMemory = options.inMemory ?? false;
  if (config.databaseUrl === undefined && !inMemory) await mkdir(config.dataDir, { recursive: true });
  const secretKey = await resolveSecretKey(config, inMemory || config.databaseUrl !== undefined);

  const storage = await openStorage({
    databaseUrl: config.databaseUrl,
    dataDir: inMemory ? undefined : join(config.dataDir, 'pglite'),
    pgliteDump: options.pgliteDump,
    onChangeFeedError: (error) => logger.warn({ err: error }, 'change feed: a subscriber failed'),
    // One line per failure, with the SQLSTATE or errno: never the statement or its parameters.
    onConnectionError: throttled((facts, suppressed) => logger.error({ database: facts, ...(suppressed > 0 && { suppressed }) }, 'database connection failed')),
    connectTimeoutMs: config.databaseConnectTimeoutMs,
    statementTimeoutMs: config.databaseStatementTimeoutMs,
  });
  try {
    const applied = await storage.migrate();
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
    const store = storage.store;
    // The audit log's partitions for this month and the coming week exist before the first
    // request: attaching a month's partition while inserts of that month are being routed to
    // the default partition makes PostgreSQL refuse them ("new row for relation
    // audit_events_default violates partition constraint"). The hourly job then only ever adds
    // a month a week before it begins, when the default partition holds none of its rows.
    await prepareAuditPartitions(store, clock.now());
    const bootstrap = await bootstrapInstance({ store, clock, random }, config.adminPassword);

    // The issuer names the account in authenticator apps; it is known once the server listens.
    const secondFactors = createSecondFactorService({ store, clock, totp: otplibTotp, secretKey, issuer: () => issuer.value });
    const auth = createAuthService({
      store,
      clock,
      random,
      secondFactors,
      settings: {
        secretKey,
        sessionIdleSeconds: config.sessionIdleSeconds,
        sessionMaxSeconds: config.sessionMaxSeconds,
        loginMaxFailures: config.loginMaxFailures,
        loginWindowSeconds: config.loginWindowSeconds,
        defaultOrg: defaultOrgName,
      },
    });
    const directory = createDirectoryService({ store, clock, random });
    const apps = createAppService({ store, clock, random, secretKey, tokenPrefix: config.tokenPrefix });
    const usage = createUsageRecorder({
      store,
      flushMs: 1000,
      onError: (error, facts) => logger.error({ err: error, ...facts }, 'usage and audit flush failed; the batch is kept and retried'),
    });
    const tokens = createTokenService({ store, clock, random, secretKey, tokenPrefix: config.tokenPrefix, configPresets: config.presets, usage });
    const leaks = {
      ...createTokenIdentifyService({ store, clock, secretKey, tokenPrefix: config.tokenPrefix, tokens }),
      ...createRevokeAllService({ store, clock }),
    };
    const keyring = createKeyring({
      repo: store.signingKeys,
      changes: store.changes,
      clock,
      random,
      settings: {
        secretKey,
        algorithm: config.signingAlgorithm,
        rotationSeconds: config.signingKeyRotationSeconds,
        retentionSeconds: afterLastAccessTokenSeconds,
        // Beyond @tessera/verify's default JWKS refetch cooldown (30 s) and common JWKS cache lifetimes.
        prepublishSeconds: 3600,
      },
    });
    await keyring.init();
    const issuer = { value: config.issuer ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}` };
    const revocationHub = createRevocationHub({
      events: store.revocationEvents,
      clock,
      pollMs: 250,
      retentionSeconds: afterLastAccessTokenSeconds,
      // An outage is logged by the driver (above); the poll repeats it four times a second otherwise.
      onError: (error) => {
        if (!(error instanceof TesseraError && error.code === 'UNAVAILABLE')) logger.warn({ err: error }, 'revocation feed poll failed');
      },
    });
    // SPEC 8: what another instance changed is dropped from memory here at once, not at the next refresh or poll.
    const unfollowChanges = followChanges(
      storage.changes,
      { signing_keys: () => keyring.refresh(), revocations: () => revocationHub.wake() },
      (error) => logger.warn({ err: error }, 'acting on a change from another instance failed'),
    );
    const oauth = createOAuthService({
      store,
      clock,
      random,
      keyring,
      apps,
      usage,
      // The API tokens domain as the OAuth service sees it.
      tokens: {
        verify: (token, context) => tokens.verify(token, context),
        isUsable: (orgId, id, now) => tokens.isUsable(orgId, id, now),
        rotateSecret: (id, presented, now, audit) => tokens.rotateOnRefresh(id, presented, now, audit),
        revokeForReuse: (id, context, facts) => tokens.revokeBySystem(id, 'reuse', context, facts),
        revokeByHolder: (id, context) => tokens.revokeBySystem(id, 'holder', context),
        policy: (orgId) => tokens.policyOf(orgId),
      },
      settings: { issuer: () => issuer.value, audience: config.audience, defaultAccessTokenTtlSeconds: 1800, nullRefreshToken: config.oauthNullRefreshToken },
    });

    const webhooks = createWebhookService({ store, clock, random, secretKey, rules: { allowPrivateNetworks: config.webhookAllowPrivateNetworks } });
    const dispatcher = createWebhookDispatcher({
      store,
      clock,
      secretKey,
      transport: createWebhookSender({ allowPrivateNetworks: config.webhookAllowPrivateNetworks, timeoutMs: 5000, userAgent: 'Tessera-Webhooks/1' }),
      settings: { leaseSeconds: config.webhookLeaseSeconds, retryBaseSeconds: config.webhookRetryBaseSeconds, maxDelaySeconds: 3600, giveUpAfterSeconds: 86_400, batchSize: 20 },
    });
    const webhookDelivery = createWebhookLoop(() => dispatcher.runOnce(), 1000, (error) => logger.warn({ err: error }, 'webhook delivery round failed'));

    const jobs = createJobRunner({
      store,
      clock,
      instanceId: `${hostname()}:${process.pid}`,
      tickMs: 15_000,
      onRun: (name, facts) => logger.debug({ job: name, ...facts }, 'periodic job ran'),
      onError: (name, error) => logger.error({ err: error, job: name }, 'periodic job failed'),
      jobs: periodicJobs({ store, keyring, tokens, auditRetentionSeconds: config.auditRetentionSeconds, signingKeyRotationSeconds: config.signingKeyRotationSeconds, revocationEventsSeconds: afterLastAccessTokenSeconds + 300 }),
    });

    const rateLimiter = createRateLimiter(60);
    // Unref'd: memory follows the traffic of the last minute or two even when no request comes.
    const sweeper = setInterval(() => {
      const now = clock.now();
      rateLimiter.sweep(now.getTime());
      oauth.sweep(now);
    }, 30_000);
    sweeper.unref();

    return {
      jobs,
      webhooks,
      webhookDelivery,
      secondFactors,
      apps,
      tokens,
      tokenUsage: createTokenUsageService({ store, clock, tokens }),
      leaks,
      secretScanning: createSecretScanningService({ store, clock, secretKey, tokenPrefix: config.tokenPrefix, keys: config.secretScanningKeys }),
      backup: createBackupService({ store, clock, dump: storage.driver === 'pglite' ? () => storage.dump('gzip') : undefined }),
      usage,
      keyring,
      oauth,
      revocationHub,
      rateLimiter,
      issuer,
      lifecycle: createLifecycle(),
      config,
      clock,
      random,
      logger,
      storage,
      store,
      auth,
      directory,
      bootstrap,
      close: async () => {
        clearInterval(sweeper);
        unfollowChanges();
        revocationHub.stop();
        await jobs.stop();
        await webhookDelivery.stop();
        // Graceful shutdown writes every buffered exchange and denial event (issue 13).
        await usage.close();
        await storage.close();
      },
    };
  } catch (error) {
    await storage.close();
    throw error;
  }
}
