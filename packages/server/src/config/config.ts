import { readFileSync } from 'node:fs';
import { formatEndpointPattern, isRuleError, parseEndpointPatterns, parseIpAllowlist, parseRelativeExpiry, type IpRange } from '@tessera/rules';
import { optionDocs, type OptionName } from './defaults.js';
import { loadScannerKeys, type ScannerKey } from './secret-scanning-keys.js';

/** Access-token signature algorithms (the same list as core's; config is a leaf and imports none of it). */
const signingAlgorithms = ['ES256', 'RS256', 'EdDSA'] as const;
export type SigningAlgorithmOption = (typeof signingAlgorithms)[number];

/** Validated configuration. Built once at boot by {@link loadConfig}; nothing else reads the environment. */
export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** PostgreSQL URL; `undefined` selects the embedded PGlite in `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly databaseConnectTimeoutMs: number;
  readonly databaseStatementTimeoutMs: number;
  /** How long a SIGTERM'd server keeps serving with /readyz at 503 before it stops. */
  readonly shutdownDrainSeconds: number;
  readonly adminPassword: string | undefined;
  readonly logLevel: LogLevel;
  readonly trustedProxies: readonly IpRange[];
  readonly tokenPrefix: string;
  /** Raw key bytes; `undefined` means "generate one into the data directory" (PGlite only). */
  readonly secretKey: Buffer | undefined;
  readonly sessionIdleSeconds: number;
  readonly sessionMaxSeconds: number;
  readonly loginMaxFailures: number;
  readonly loginWindowSeconds: number;
  readonly bodyLimitBytes: number;
  /** Undefined: derived from host and port once the server listens. */
  readonly issuer: string | undefined;
  readonly audience: string;
  readonly signingKeyRotationSeconds: number;
  readonly signingAlgorithm: SigningAlgorithmOption;
  /** Token responses without a new refresh token carry `"refresh_token": null` (the seeds' form). */
  readonly oauthNullRefreshToken: boolean;
  /** `/oauth/provider/token` (the seeds' path) is served as the token endpoint too. */
  readonly oauthProviderPath: boolean;
  /** 0 keeps audit events forever. */
  readonly auditRetentionSeconds: number;
  readonly tokenRateLimitPerAddress: number;
  readonly tokenRateLimitPerToken: number;
  /** Scope presets from TESSERA_PRESETS_FILE, shared by every organization. */
  readonly presets: readonly ConfigPreset[];
  /** Trusted secret-scanner keys from TESSERA_SECRET_SCANNING_KEYS_FILE; empty refuses every report. */
  readonly secretScanningKeys: readonly ScannerKey[];
  readonly webhookAllowPrivateNetworks: boolean;
  readonly webhookLeaseSeconds: number;
  readonly webhookRetryBaseSeconds: number;
}

/** A preset as the configuration file defines it (the domain's Preset, with no organization). */
export interface ConfigPreset {
  readonly id: string;
  readonly orgId: null;
  readonly name: string;
  readonly description: string;
  readonly endpoints: readonly string[];
  readonly mode: 'refreshable' | 'direct';
  readonly scopeLocked: boolean;
  readonly defaultLifetimeSeconds: number | null;
}

/** Reads and validates the presets file; errors name the file, the entry and the field. */
export function loadPresets(path: string, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): ConfigPreset[] {
  const fail = (message: string): never => {
    throw new ConfigError(optionDocs.presetsFile.env, `${path}: ${message}`);
  };
  let document: unknown;
  try {
    document = JSON.parse(read(path));
  } catch (error) {
    return fail(error instanceof SyntaxError ? `not valid JSON (${error.message})` : 'cannot be read');
  }
  const list = (document as { presets?: unknown })?.presets;
  if (!Array.isArray(list)) return fail('expected an object with a "presets" array');
  const names = new Set<string>();
  return list.map((entry: Record<string, unknown>, index) => {
    const where = `presets[${index}]`;
    if (typeof entry !== 'object' || entry === null) return fail(`${where} must be an object`);
    const known = ['name', 'description', 'endpoints', 'mode', 'scope_locked', 'default_lifetime'];
    const unknown = Object.keys(entry).find((key) => !known.includes(key));
    if (unknown) fail(`${where}.${unknown} is not a known field (${known.join(', ')})`);
    const name = entry['name'];
    if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9_-]{0,63}$/.test(name) || name === 'all' || name === 'custom') {
      fail(`${where}.name must be lowercase letters, digits, - or _, and not "all" or "custom"`);
    }
    if (names.has(name as string)) fail(`${where}.name "${name}" is defined twice`);
    names.add(name as string);
    const mode = entry['mode'] ?? 'refreshable';
    if (mode !== 'refreshable' && mode !== 'direct') fail(`${where}.mode must be "refreshable" or "direct"`);
    let endpoints: string[] = [];
    try {
      endpoints = parseEndpointPatterns(Array.isArray(entry['endpoints']) ? (entry['endpoints'] as string[]) : []).map(formatEndpointPattern);
    } catch (error) {
      fail(`${where}.endpoints: ${isRuleError(error) ? error.message : 'must be a list of endpoint patterns'}`);
    }
    if (endpoints.length === 0) fail(`${where}.endpoints must list at least one endpoint pattern`);
    let lifetime: number | null = null;
    if (entry['default_lifetime'] !== undefined) {
      try {
        lifetime = parseRelativeExpiry(String(entry['default_lifetime']));
      } catch (error) {
        fail(`${where}.default_lifetime: ${isRuleError(error) ? error.message : 'invalid'}`);
      }
    }
    return {
      id: `preset_${name as string}`,
      orgId: null,
      name: name as string,
      description: typeof entry['description'] === 'string' ? entry['description'] : '',
      endpoints,
      mode: mode as 'refreshable' | 'direct',
      scopeLocked: entry['scope_locked'] === true,
      defaultLifetimeSeconds: lifetime,
    };
  });
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const logLevels: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Raised at boot for a bad option; the message names the variable and the fix. */
export class ConfigError extends Error {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`${option}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads and validates every `TESSERA_*` option, failing on the first bad one.
 *
 * @param env - the environment, normally `process.env`
 * @param overrides - values that win over the environment (tests and the CLI use these)
 */
export function loadConfig(env: Env, overrides: Partial<Config> = {}): Config {
  const raw = (name: OptionName): string | undefined => {
    const value = env[optionDocs[name].env];
    return value === undefined || value === '' ? optionDocs[name].default : value;
  };
  const int = (name: OptionName, min: number, max: number): number => {
    const text = raw(name) ?? '';
    const value = /^[0-9]+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new ConfigError(optionDocs[name].env, `expected a whole number from ${min} to ${max}, got "${text}"`);
    }
    return value;
  };

  const logLevel = raw('logLevel') as LogLevel;
  if (!logLevels.includes(logLevel)) {
    throw new ConfigError(optionDocs.logLevel.env, `expected one of ${logLevels.join(', ')}, got "${logLevel}"`);
  }

  const tokenPrefix = raw('tokenPrefix') ?? '';
  if (!/^[a-z][a-z0-9]{1,15}$/.test(tokenPrefix)) {
    throw new ConfigError(
      optionDocs.tokenPrefix.env,
      `expected 2-16 lowercase letters or digits starting with a letter, got "${tokenPrefix}"`,
    );
  }

  let trustedProxies: IpRange[];
  try {
    const entries = (raw('trustedProxies') ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
    trustedProxies = parseIpAllowlist(entries);
  } catch (error) {
    if (isRuleError(error)) throw new ConfigError(optionDocs.trustedProxies.env, error.message);
    throw error;
  }

  const databaseUrl = raw('databaseUrl');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(optionDocs.databaseUrl.env, 'expected a postgres:// or postgresql:// URL');
  }
  const secretKeyText = raw('secretKey');
  const secretKey = secretKeyText === undefined ? undefined : decodeSecretKey(secretKeyText);
  if (databaseUrl !== undefined && secretKey === undefined && overrides.secretKey === undefined) {
    throw new ConfigError(
      optionDocs.secretKey.env,
      'required with TESSERA_DATABASE_URL: generate one with `openssl rand -base64 32` and keep it outside the database',
    );
  }

  const adminPassword = raw('adminPassword');
  if (adminPassword !== undefined && adminPassword.length < 12) {
    throw new ConfigError(optionDocs.adminPassword.env, 'must be at least 12 characters long');
  }

  const issuer = raw('issuer');
  if (issuer !== undefined && !/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(issuer)) {
    throw new ConfigError(optionDocs.issuer.env, 'expected an http(s) URL without query or fragment, such as https://tessera.example.com');
  }
  const audience = raw('audience') ?? 'api';
  if (!/^[\x21-\x7e]{1,200}$/.test(audience)) throw new ConfigError(optionDocs.audience.env, 'expected 1-200 printable characters without spaces');

  const bool = (name: OptionName): boolean => {
    const text = raw(name);
    if (text !== 'true' && text !== 'false') throw new ConfigError(optionDocs[name].env, `expected true or false, got "${text}"`);
    return text === 'true';
  };
  const signingAlgorithm = raw('signingAlgorithm') as SigningAlgorithmOption;
  if (!signingAlgorithms.includes(signingAlgorithm)) {
    throw new ConfigError(optionDocs.signingAlgorithm.env, `expected one of ${signingAlgorithms.join(', ')}, got "${signingAlgorithm}"`);
  }

  const presetsFile = raw('presetsFile');
  const presets = presetsFile === undefined ? [] : loadPresets(presetsFile);

  const scannerKeysFile = raw('secretScanningKeysFile');
  let secretScanningKeys: ScannerKey[] = [];
  try {
    if (scannerKeysFile !== undefined) secretScanningKeys = loadScannerKeys(scannerKeysFile);
  } catch (error) {
    throw new ConfigError(optionDocs.secretScanningKeysFile.env, (error as Error).message);
  }

  return {
    presets,
    secretScanningKeys,
    issuer: issuer?.replace(/\/$/, ''),
    audience,
    signingKeyRotationSeconds: int('signingKeyRotationDays', 1, 3650) * 86_400,
    signingAlgorithm,
    oauthNullRefreshToken: bool('oauthNullRefreshToken'),
    oauthProviderPath: bool('oauthProviderPath'),
    webhookAllowPrivateNetworks: bool('webhookAllowPrivateNetworks'),
    webhookLeaseSeconds: int('webhookLeaseSeconds', 1, 3600),
    webhookRetryBaseSeconds: int('webhookRetryBaseSeconds', 1, 3600),
    auditRetentionSeconds: int('auditRetentionDays', 0, 36_500) * 86_400,
    tokenRateLimitPerAddress: int('tokenRateLimitPerAddress', 1, 1_000_000),
    tokenRateLimitPerToken: int('tokenRateLimitPerToken', 1, 1_000_000),
    host: raw('host') ?? '127.0.0.1',
    port: int('port', 0, 65535),
    dataDir: raw('dataDir') ?? '.tessera-data',
    databaseUrl,
    databaseConnectTimeoutMs: int('databaseConnectTimeoutMs', 100, 600_000),
    databaseStatementTimeoutMs: int('databaseStatementTimeoutMs', 100, 3_600_000),
    shutdownDrainSeconds: int('shutdownDrainSeconds', 0, 3600),
    adminPassword,
    logLevel,
    trustedProxies,
    tokenPrefix,
    secretKey,
    sessionIdleSeconds: int('sessionIdleMinutes', 1, 10_080) * 60,
    sessionMaxSeconds: int('sessionMaxHours', 1, 720) * 3600,
    loginMaxFailures: int('loginMaxFailures', 1, 1000),
    loginWindowSeconds: int('loginWindowMinutes', 1, 1440) * 60,
    bodyLimitBytes: int('bodyLimitBytes', 1024, 10 * 1024 * 1024),
    ...overrides,
  };
}

/** Accepts hex (64+ digits) or base64/base64url of at least 32 bytes. */
export function decodeSecretKey(text: string): Buffer {
  const trimmed = text.trim();
  const bytes = /^[0-9a-fA-F]+$/.test(trimmed) && trimmed.length % 2 === 0
    ? Buffer.from(trimmed, 'hex')
    : /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)
      ? Buffer.from(trimmed, 'base64')
      : Buffer.alloc(0);
  if (bytes.length < 32) {
    throw new ConfigError(
      optionDocs.secretKey.env,
      'expected at least 32 bytes as hex or base64 (generate one with `openssl rand -base64 32`)',
    );
  }
  return bytes;
}
