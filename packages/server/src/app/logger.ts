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

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      serializers: { err: serializeError },
      redact: { paths: redactedPaths, censor: '[redacted]' },
      base: { service: 'tessera' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
