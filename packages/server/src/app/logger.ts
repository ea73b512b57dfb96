import { pino, type DestinationStream, type Logger } from 'pino';
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
