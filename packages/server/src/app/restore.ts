import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { decodeSecretKey } from '../config/config.js';
import { openStorage } from '../storage/database.js';

/** Why a restore was refused: the operator can fix it (another directory, the key file). */
export class RestoreError extends Error {
  override readonly name = 'RestoreError';
}

async function isEmptyOrMissing(path: string): Promise<boolean> {
  try {
    return (await readdir(path)).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
}

/**
 * `tessera restore`: turns a `tessera backup` file into the embedded database of `dataDir`
 * (its `pglite/` directory, where the container opens it), which must hold none yet, and
 * checks the result opens. `secretKeyFile`, when given, is copied to `<dataDir>/secret.key`
 * (mode 0600): the backup holds no key, and the restored tokens, sessions and signing keys
 * need the one they were made with.
 */
export async function restoreBackup(options: { dataDir: string; backup: Blob; secretKeyFile?: string | undefined }): Promise<{ databaseDir: string; keyFile: string | undefined }> {
  const databaseDir = join(options.dataDir, 'pglite');
  if (!(await isEmptyOrMissing(databaseDir))) {
    throw new RestoreError(`${databaseDir} already holds a database: restore into an empty data directory (--data-dir)`);
  }
  let key: string | undefined;
  if (options.secretKeyFile !== undefined) {
    key = await readFile(options.secretKeyFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new RestoreError(`Cannot read the secret key file ${options.secretKeyFile}: ${error.code ?? error.message}`);
    });
    try {
      decodeSecretKey(key);
    } catch (error) {
      throw new RestoreError(`${options.secretKeyFile} is not a Tessera secret key: ${(error as Error).message}`);
    }
  }
  const keyFile = join(options.dataDir, 'secret.key');
  if (key !== undefined) {
    const existing = await readFile(keyFile, 'utf8').catch(() => undefined);
    if (existing !== undefined && existing.trim() !== key.trim()) throw new RestoreError(`${keyFile} exists and holds another key`);
  }

  // Unpacked here rather than by PGlite: its decompression error escapes as an uncaught
  // exception instead of rejecting, which would end the process without a message.
  let tar: Buffer;
  try {
    tar = await promisify(gunzip)(Buffer.from(await options.backup.arrayBuffer()));
  } catch (error) {
    throw new RestoreError(`The file is not a Tessera backup (a gzipped tar): ${(error as Error).message}`);
  }
  await mkdir(databaseDir, { recursive: true });
  try {
    // PGlite unpacks the tar into the empty directory as it opens it.
    const storage = await openStorage({ dataDir: databaseDir, pgliteDump: new Blob([new Uint8Array(tar)], { type: 'application/x-tar' }) });
    try {
      await storage.store.ping();
    } finally {
      await storage.close();
    }
  } catch (error) {
    // The directory was empty before: leave it so, not half restored.
    await rm(databaseDir, { recursive: true, force: true });
    throw new RestoreError(`The file is not a Tessera backup PGlite can open (${(error as Error).message})`);
  }
  if (key !== undefined) await writeFile(keyFile, key, { mode: 0o600 });
  return { databaseDir, keyFile: key !== undefined ? keyFile : undefined };
}
