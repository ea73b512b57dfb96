import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The login session on disk: `session.json` in the user's config directory, readable by its
 * owner only (file 0600, directory 0700), like ~/.ssh or gh's hosts.yml. It holds the session
 * token (that is what logging in is for) and never an API token or a password.
 */
export interface StoredSession {
  /** The server the session belongs to; the token is never sent anywhere else. */
  readonly url: string;
  readonly session_token: string;
  readonly username: string;
  readonly org: string | null;
  readonly expires_at: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The config directory: TESSERA_CONFIG_DIR as given, else `$XDG_CONFIG_HOME/tessera`, else
 * `~/.config/tessera`.
 */
export function configDir(env: Env): string {
  if (env['TESSERA_CONFIG_DIR']) return env['TESSERA_CONFIG_DIR'];
  const base = env['XDG_CONFIG_HOME'] || join(env['HOME'] || homedir(), '.config');
  return join(base, 'tessera');
}

export function sessionPath(env: Env): string {
  return join(configDir(env), 'session.json');
}

/** The stored session, or undefined when there is none (or it is unreadable). */
export async function readSession(env: Env): Promise<StoredSession | undefined> {
  let text: string;
  try {
    text = await readFile(sessionPath(env), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const value = JSON.parse(text) as Partial<StoredSession>;
    if (typeof value.url === 'string' && typeof value.session_token === 'string' && typeof value.username === 'string') {
      return { url: value.url, session_token: value.session_token, username: value.username, org: value.org ?? null, expires_at: String(value.expires_at ?? '') };
    }
  } catch {
    // A damaged file is as good as none: `tessera login` writes a new one.
  }
  return undefined;
}

/** Writes the session atomically (temporary file, then rename), owner-only from the first byte. */
export async function writeSession(env: Env, session: StoredSession): Promise<string> {
  const path = sessionPath(env);
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode applies only to a directory it creates; an existing one is tightened too.
  await chmod(dir, 0o700);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(session, null, 2)}\n`, { mode: 0o600, flag: 'w' });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
  return path;
}

/** Removes the stored session; whether there was one. */
export async function deleteSession(env: Env): Promise<boolean> {
  try {
    await rm(sessionPath(env));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
