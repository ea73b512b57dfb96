/**
 * Every option Tessera reads from its environment, with its default and what it affects.
 * This table is the single source for `loadConfig`, the README's configuration reference
 * and the error messages raised at boot.
 */
export interface OptionDoc {
  /** Environment variable name. */
  readonly env: string;
  /** Default as the operator would type it; `undefined` means "not set". */
  readonly default: string | undefined;
  /** What the option does and why the default is what it is. */
  readonly description: string;
}

export const optionDocs = {
  host: {
    env: 'TESSERA_HOST',
    default: '127.0.0.1',
    description:
      'Address the HTTP server binds to. Loopback by default so a fresh install is not exposed before an admin password is chosen.',
  },
  port: {
    env: 'TESSERA_PORT',
    default: '8080',
    description: 'TCP port of the HTTP server (REST API, OAuth endpoints, console). 0 picks a free port.',
  },
  dataDir: {
    env: 'TESSERA_DATA_DIR',
    default: '.tessera-data',
    description:
      'Directory of the embedded PGlite database and, when TESSERA_SECRET_KEY is unset, of the generated secret key. Ignored when TESSERA_DATABASE_URL is set.',
  },
  databaseUrl: {
    env: 'TESSERA_DATABASE_URL',
    default: undefined,
    description:
      'PostgreSQL connection string (postgres://user:pass@host:5432/db). When set, Tessera uses that server instead of the embedded PGlite; required for running several instances.',
  },
  databaseConnectTimeoutMs: {
    env: 'TESSERA_DATABASE_CONNECT_TIMEOUT_MS',
    default: '3000',
    description:
      'PostgreSQL: longest wait for a database connection (a new one, or a free one from the pool). Past it the request is answered 503 with Retry-After instead of hanging; 3 s is well above a healthy connect on a LAN and short enough that clients retry elsewhere.',
  },
  databaseStatementTimeoutMs: {
    env: 'TESSERA_DATABASE_STATEMENT_TIMEOUT_MS',
    default: '5000',
    description:
      'PostgreSQL: the server cancels any statement running longer (statement_timeout) and the request is answered 503 with Retry-After. Tessera\'s statements take milliseconds; 5 s only catches a stuck or overloaded database. Migrations run without it.',
  },
  shutdownDrainSeconds: {
    env: 'TESSERA_SHUTDOWN_DRAIN_SECONDS',
    default: '5',
    description:
      'On SIGTERM or SIGINT, /readyz answers 503 at once while requests, new ones included, are still served for this many seconds (responses carry Connection: close, revocation-feed followers are told to reconnect elsewhere); then the server stops listening, finishes what is in flight and exits. 5 s covers a load balancer that probes readiness every 1-2 s; 0 stops at once.',
  },
  adminPassword: {
    env: 'TESSERA_ADMIN_PASSWORD',
    default: undefined,
    description:
      'Password of the instance admin `admin`, used only on the first start with an empty database. When unset, one is generated and printed once.',
  },
  logLevel: {
    env: 'TESSERA_LOG_LEVEL',
    default: 'info',
    description: 'pino log level: fatal, error, warn, info, debug, trace or silent. Logs are JSON on stdout.',
  },
  trustedProxies: {
    env: 'TESSERA_TRUSTED_PROXIES',
    default: '',
    description:
      'Comma-separated IP addresses, CIDRs or ranges of reverse proxies whose X-Forwarded-For is believed. Empty: the socket peer is the client address.',
  },
  tokenPrefix: {
    env: 'TESSERA_TOKEN_PREFIX',
    default: 'tsr',
    description:
      'Prefix of every API token string (`tsr_...`), so secret scanners can recognise leaked tokens. 2-16 lowercase letters or digits, starting with a letter.',
  },
  secretKey: {
    env: 'TESSERA_SECRET_KEY',
    default: undefined,
    description:
      'Server-side key (at least 32 bytes, base64 or hex) for hashing token and session secrets and encrypting signing keys. With PGlite it is generated into the data directory when unset; with PostgreSQL it is required and never stored in the database, so a stolen database alone opens nothing.',
  },
  sessionIdleMinutes: {
    env: 'TESSERA_SESSION_IDLE_MINUTES',
    default: '60',
    description: 'A login session unused for this many minutes ends.',
  },
  sessionMaxHours: {
    env: 'TESSERA_SESSION_MAX_HOURS',
    default: '12',
    description: 'A login session ends this many hours after login, however active it is.',
  },
  loginMaxFailures: {
    env: 'TESSERA_LOGIN_MAX_FAILURES',
    default: '5',
    description:
      'Failed logins allowed per account within the throttle window before further attempts are refused with 429. The limit per client address is four times this.',
  },
  loginWindowMinutes: {
    env: 'TESSERA_LOGIN_WINDOW_MINUTES',
    default: '15',
    description: 'Length of the failed-login throttle window.',
  },
  bodyLimitBytes: {
    env: 'TESSERA_BODY_LIMIT_BYTES',
    default: '65536',
    description: 'Largest request body accepted; larger bodies are refused with 413 before they are parsed.',
  },
  issuer: {
    env: 'TESSERA_ISSUER',
    default: undefined,
    description:
      'The issuer URL in access tokens (`iss`) and the OAuth metadata, as API servers reach Tessera (e.g. https://tessera.example.com). Unset: http://TESSERA_HOST:TESSERA_PORT.',
  },
  audience: {
    env: 'TESSERA_AUDIENCE',
    default: 'api',
    description: 'The audience (`aud`) of every access token: the identifier your API servers check.',
  },
  signingKeyRotationDays: {
    env: 'TESSERA_SIGNING_KEY_ROTATION_DAYS',
    default: '30',
    description:
      'Age at which the access-token signing key is replaced. Old public keys stay in the JWKS until every token they signed has expired.',
  },
  signingAlgorithm: {
    env: 'TESSERA_SIGNING_ALGORITHM',
    default: 'ES256',
    description:
      'Signature algorithm of access tokens: ES256, RS256 or EdDSA. ES256 by default because every common JWT library verifies it (jsonwebtoken has no EdDSA, get-jwks cannot read OKP keys); RS256 is the one RFC 9068 requires servers to offer. Changing it rotates to a key of the new algorithm at the next start; the old keys stay in the JWKS until their tokens have expired.',
  },
  oauthNullRefreshToken: {
    env: 'TESSERA_OAUTH_NULL_REFRESH_TOKEN',
    default: 'false',
    description:
      'true: token responses that issue no refresh token carry "refresh_token": null, the form of the seed documents, for clients written against it. false (default): the member is omitted, as RFC 6749 §5.1 intends; strict clients (openid-client, oauth4webapi) refuse null.',
  },
  oauthProviderPath: {
    env: 'TESSERA_OAUTH_PROVIDER_PATH',
    default: 'false',
    description:
      'true: POST /oauth/provider/token, the token endpoint path of the seed documents, answers exactly like /oauth/token. Off by default so the metadata names one token endpoint.',
  },
  webhookAllowPrivateNetworks: {
    env: 'TESSERA_WEBHOOK_ALLOW_PRIVATE_NETWORKS',
    default: 'false',
    description:
      'true: webhook endpoints may target loopback, private and link-local addresses. Off by default so an organization admin cannot make the server send requests into its own network; checked when an endpoint is saved and again each time a delivery connects.',
  },
  webhookLeaseSeconds: {
    env: 'TESSERA_WEBHOOK_LEASE_SECONDS',
    default: '30',
    description:
      'How long an instance holds a webhook message it is sending. When an instance dies mid-delivery, another takes the message over after this long (the receiver may then see its webhook-id twice).',
  },
  webhookRetryBaseSeconds: {
    env: 'TESSERA_WEBHOOK_RETRY_BASE_SECONDS',
    default: '5',
    description:
      'First delay before a failed webhook delivery is retried; each further retry doubles it, up to an hour, for 24 hours after the event. Then the delivery is marked failed (redeliver it from the delivery log).',
  },
  auditRetentionDays: {
    env: 'TESSERA_AUDIT_RETENTION_DAYS',
    default: '0',
    description:
      'Audit events older than this many days are removed by an hourly job that runs once across all instances, a calendar month (UTC) at a time: the log is partitioned by month and a month goes once all of it is older, so an event may stay up to a month longer. Per-minute token usage counts follow the same retention. 0 keeps them forever.',
  },
  tokenRateLimitPerAddress: {
    env: 'TESSERA_TOKEN_RATE_LIMIT_PER_ADDRESS',
    default: '600',
    description: 'Token-endpoint requests allowed per client address per minute, per instance; beyond it 429 with Retry-After.',
  },
  tokenRateLimitPerToken: {
    env: 'TESSERA_TOKEN_RATE_LIMIT_PER_TOKEN',
    default: '120',
    description: 'Exchanges allowed per API token (or app) per minute, per instance; beyond it 429 with Retry-After.',
  },
  presetsFile: {
    env: 'TESSERA_PRESETS_FILE',
    default: undefined,
    description:
      'JSON file of scope presets offered to every organization (SPEC 3.5): {"presets": [{"name", "description", "endpoints": [...], "mode": "refreshable"|"direct", "scope_locked", "default_lifetime": "30D"}]}. See docs/presets.example.json.',
  },
  secretScanningKeysFile: {
    env: 'TESSERA_SECRET_SCANNING_KEYS_FILE',
    default: undefined,
    description:
      'Trusted public keys of secret scanners, in the form GitHub publishes at https://api.github.com/meta/public_keys/secret_scanning ({"public_keys": [{"key_identifier", "key", "is_current"}]}). Unset: POST /secret-scanning/github refuses every report (401). Read at boot; restart after GitHub rotates its keys.',
  },
} as const satisfies Record<string, OptionDoc>;

export type OptionName = keyof typeof optionDocs;
