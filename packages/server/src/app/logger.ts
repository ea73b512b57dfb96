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

const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/**
 * A request's logger (Fastify's `childLoggerFactory`), made only when the request writes a
 * line at a level that is on. Fastify asks for one per request; a pino child serialises its
 * bindings through the redaction paths as it is made, which cost every request of the token
 * endpoint a few microseconds (issue 17) even when nothing is logged. The lines it writes are
 * the real child's, so they carry the request id as before.
 */
export function lazyChildLogger(parent: Logger, bindings: Bindings, options: ChildLoggerOptions): Logger {
  // A route with a level or serializers of its own gets its real child at once (none has today).
  if (Object.keys(options).length > 0) return parent.child(bindings, options);
  let child: Logger | undefined;
  const real = () => (child ??= parent.child(bindings, options));
  const lazy = Object.create(null) as Record<string, unknown>;
  for (const level of levels) {
    lazy[level] = (...args: unknown[]) => {
      if (parent.isLevelEnabled(level)) (real()[level] as (...line: unknown[]) => void)(...args);
    };
  }
  lazy['silent'] = () => {};
  lazy['isLevelEnabled'] = (level: string) => parent.isLevelEnabled(level);
  lazy['child'] = (more: Bindings, moreOptions?: ChildLoggerOptions) => real().child(more, moreOptions);
  Object.defineProperty(lazy, 'level', { get: () => child?.level ?? parent.level, set: (level: string) => (real().level = level), enumerable: true });
  return lazy as unknown as Logger;
}
