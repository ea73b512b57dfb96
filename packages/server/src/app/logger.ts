import { pino, type Bindings, type ChildLoggerOptions, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/config.js';

/**
 * Paths pino blanks in every log line. Request logging never includes bodies, so these are the
 * second line of defence: credentials that might ride along in headers or in an error object.
 */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-tessera-csrf"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.new_password',
  '*.current_password',
  '*.token',
  '*.session_token',
  '*.refresh_token',
  '*.access_token',
  '*.client_secret',
  '*.secret',
];

/**
 * Error serializer that drops what database drivers attach to their errors: the failing
 * statement's parameters may hold hashes, names or other data that has no place in a log.
 */
function serializeError(error: Error): Record<string, unknown> {
  const serialized: Record<string, unknown> = { ...pino.stdSerializers.err(error) };
  for (const key of ['params', 'parameters', 'query', 'queryOptions', 'detail', 'where']) delete serialized[key];
  return serialized;
}

/**
 * Anything shaped like a credential inside a URL: an API token (`tsr_<id>.<secret>`, any
 * prefix) or a JWT. Clients sometimes paste one into a path or a query string; the request
 * line is logged, the credential must not be.
 */
const credentialInUrl = /[a-z][a-z0-9]{1,15}_[0-9A-Za-z]{12}\.[0-9A-Za-z]{16,}|eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/g;

/** The request as logged: Fastify's fields, with credential-shaped parts of the URL blanked. */
function serializeRequest(request: { method?: string; url?: string; host?: string; hostname?: string; ip?: string; socket?: { remoteAddress?: string; remotePort?: number } }) {
  return {
    method: request.method,
    url: request.url?.replace(credentialInUrl, '[redacted]'),
    host: request.host ?? request.hostname,
    remoteAddress: request.ip ?? request.socket?.remoteAddress,
    remotePort: request.socket?.remotePort,
  };
}

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      serializers: { err: serializeError, req: serializeRequest },
      redact: { paths: redactedPaths, censor: '[redacted]' },
      base: { service: 'tessera' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

type Line = (this: Logger, ...line: unknown[]) => void;

/**
 * A request's logger (Fastify's `childLoggerFactory`), made only when the request writes a
 * line at a level that is on. Fastify asks for one per request; a pino child serialises its
 * bindings through the redaction paths as it is made, which cost every request of the token
 * endpoint a few microseconds (issue 17) even when nothing is logged. The lines it writes are
 * the real child's, so they carry the request id as before. A class, so a request costs one
 * small object and no closures.
 */
class RequestLogger {
  #child: Logger | undefined;
  constructor(
    private readonly parent: Logger,
    private readonly bindings: Bindings,
  ) {}

  #real(): Logger {
    return (this.#child ??= this.parent.child(this.bindings));
  }

  #write(level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace', line: unknown[]): void {
    // Once made, the child decides (its level may have been set on it); until then, the parent.
    if (!(this.#child ?? this.parent).isLevelEnabled(level)) return;
    const child = this.#real();
    (child[level] as Line).apply(child, line);
  }

  get level(): string {
    return this.#child?.level ?? this.parent.level;
  }
  set level(level: string) {
    this.#real().level = level;
  }
  isLevelEnabled(level: string): boolean {
    return this.#child?.isLevelEnabled(level) ?? this.parent.isLevelEnabled(level);
  }
  fatal(...line: unknown[]): void {
    this.#write('fatal', line);
  }
  error(...line: unknown[]): void {
    this.#write('error', line);
  }
  warn(...line: unknown[]): void {
    this.#write('warn', line);
  }
  info(...line: unknown[]): void {
    this.#write('info', line);
  }
  debug(...line: unknown[]): void {
    this.#write('debug', line);
  }
  trace(...line: unknown[]): void {
    this.#write('trace', line);
  }
  silent(): void {}
  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.#real().child(bindings, options);
  }
}

export function lazyChildLogger(parent: Logger, bindings: Bindings, options: ChildLoggerOptions): Logger {
  // A route with a level or serializers of its own gets its real child at once (none has today).
  for (const _option in options) return parent.child(bindings, options);
  return new RequestLogger(parent, bindings) as unknown as Logger;
}
