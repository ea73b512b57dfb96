import type { Command } from 'commander';
import { TesseraClient } from './client.js';
import { NotLoggedInError, UsageError } from './errors.js';
import { Output, type OutStream } from './output.js';
import type { InStream, PromptIo } from './prompt.js';
import { readSession, type StoredSession } from './session-store.js';

/** The process the CLI runs in, passed in so that tests and the bin wire it alike. */
export interface CliIo {
  readonly stdin: InStream;
  readonly stdout: OutStream & NodeJS.WritableStream;
  readonly stderr: OutStream & NodeJS.WritableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The options every command has (defined once on the program). */
export interface GlobalOptions {
  readonly json?: boolean;
  readonly url?: string;
}

/** Builds a command's context from the options it was given, globals included. */
export type ContextOf = (command: Command) => Context;

export const defaultUrl = 'http://127.0.0.1:8080';
export const userAgent = 'tessera-cli/0.1.0';

/** What a command needs: where output goes, which server, and a client carrying the session. */
export class Context {
  readonly out: Output;
  readonly io: CliIo;
  readonly #options: GlobalOptions;

  constructor(io: CliIo, options: GlobalOptions) {
    this.io = io;
    this.#options = options;
    this.out = new Output({ json: options.json === true, stdout: io.stdout, stderr: io.stderr, env: io.env });
  }

  get env(): Readonly<Record<string, string | undefined>> {
    return this.io.env;
  }

  get prompts(): PromptIo {
    return { stdin: this.io.stdin, stderr: this.io.stderr };
  }

  /** The server asked for explicitly: `--url`, then TESSERA_URL. */
  explicitUrl(): string | undefined {
    const given = this.#options.url ?? (this.env['TESSERA_URL'] || undefined);
    return given === undefined ? undefined : normalizeUrl(given);
  }

  /** A client without a session, for logging in. */
  anonymousClient(url: string): TesseraClient {
    return new TesseraClient({ baseUrl: url, userAgent });
  }

  /**
   * A client carrying the stored session. The session token goes only to the server it came
   * from: asking for another server with --url or TESSERA_URL needs a login there first.
   */
  async client(): Promise<TesseraClient> {
    const session = await this.session();
    return new TesseraClient({ baseUrl: session.url, sessionToken: session.session_token, userAgent });
  }

  /** The stored session for the server in use; exit 4 without one. */
  async session(): Promise<StoredSession> {
    const session = await readSession(this.env);
    if (!session) throw new NotLoggedInError();
    const wanted = this.explicitUrl();
    if (wanted !== undefined && wanted !== normalizeUrl(session.url)) {
      throw new NotLoggedInError(`Not logged in to ${wanted} (the stored session is for ${session.url}): run \`tessera login --url ${wanted}\``);
    }
    return session;
  }
}

/** Checks a server URL and drops a trailing slash: http(s) only, no path beyond the root. */
export function normalizeUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new UsageError(`Invalid server URL ${JSON.stringify(input)}: use the address tessera serve prints, such as ${defaultUrl}`, 'url');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`Invalid server URL ${JSON.stringify(input)}: use http:// or https://`, 'url');
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new UsageError(`Invalid server URL ${JSON.stringify(input)}: give only the scheme, host, port and path, with no credentials or query`, 'url');
  }
  return url.toString().replace(/\/+$/, '');
}

/** Whether traffic to `url` may be read on the way: plain http to anything but this machine. */
export function isUnencryptedRemote(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  return protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]', '::1'].includes(hostname) && !hostname.startsWith('127.');
}
