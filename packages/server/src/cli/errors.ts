import { isRuleError } from '@tessera/rules';
import { ApiError, ConnectionError } from './client.js';

/**
 * Exit codes scripts can rely on (README, "CLI"). Every failure ends in exactly one of them,
 * decided here and nowhere else.
 */
export const ExitCode = {
  ok: 0,
  /** The server refused the request (a 4xx other than 401) or failed (500). */
  refused: 1,
  /** Bad command line or input refused before any request was sent. */
  usage: 2,
  /** The server could not be reached (connection refused, DNS, timeout, 502-504). */
  unreachable: 3,
  /** No stored session, a session for another server, or the server answered 401. */
  notLoggedIn: 4,
  /** Interrupted at a prompt (Ctrl-C), as shells report SIGINT. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure the CLI itself detected; its message is written for the person at the terminal. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly field?: string,
    /** Already written to stderr by the command; only the exit code remains to be given. */
    readonly reported = false,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Bad arguments or input, found before any request is sent (exit 2). */
export class UsageError extends CliError {
  constructor(message: string, field?: string) {
    super(message, ExitCode.usage, field);
    this.name = 'UsageError';
  }
}

export class NotLoggedInError extends CliError {
  constructor(message = 'Not logged in: run `tessera login` first') {
    super(message, ExitCode.notLoggedIn);
    this.name = 'NotLoggedInError';
  }
}

export class InterruptedError extends CliError {
  constructor() {
    super('Interrupted', ExitCode.interrupted);
    this.name = 'InterruptedError';
  }
}

/** The exit code for anything a command threw. */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  if (isRuleError(error)) return ExitCode.usage;
  if (error instanceof ConnectionError) return ExitCode.unreachable;
  if (error instanceof ApiError) {
    if (error.status === 401) return ExitCode.notLoggedIn;
    // A proxy's "bad gateway" or a server shutting down: the service is not reachable now.
    if (error.status === 502 || error.status === 503 || error.status === 504) return ExitCode.unreachable;
    return ExitCode.refused;
  }
  return ExitCode.refused;
}

/**
 * Runs a check from @tessera/rules, turning its RuleError into a usage error with the rule's
 * own message: the wording the server would have answered with, without sending anything.
 */
export function checkInput<T>(field: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (isRuleError(error)) throw new UsageError(error.message, field);
    throw error;
  }
}
