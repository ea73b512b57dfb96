import { createWriteStream, existsSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { ContextOf } from '../context.js';
import { examples } from './help.js';

/**
 * `backup`: asks the running server, as the logged-in instance admin, for a copy of its embedded
 * database (the server holds PGlite open; no second process may open it meanwhile). `restore`
 * opens the database itself and lives with serve and migrate (server.ts).
 */
export function registerBackupCommand(program: Command, contextOf: ContextOf): void {
  program
    .command('backup')
    .description('Copy the embedded database of the running server to a file (instance admin)')
    .requiredOption('--out <file>', 'where to write the backup (a .tar.gz); an existing file is not overwritten')
    .addHelpText(
      'after',
      `
The copy is taken between two transactions while the server runs. It holds no secret key: keep
the server's <data dir>/secret.key (or TESSERA_SECRET_KEY) apart from it; \`tessera restore\`
needs it. A server on PostgreSQL refuses: use pg_dump (docs/deploy.md).
${examples('tessera backup --out tessera-$(date +%F).tar.gz', 'tessera backup --out /backups/tessera.tar.gz --json')}`,
    )
    .action(async (options: { out: string }, command: Command) => {
      const ctx = contextOf(command);
      if (existsSync(options.out)) throw new UsageError(`${options.out} exists; give a new file with --out`, 'out');
      const client = await ctx.client();
      const { body, done } = await client.backup();
      // Written beside the target and renamed at the end: a cut-off transfer leaves no file
      // that looks like a backup.
      const partial = `${options.out}.partial-${process.pid}`;
      try {
        await pipeline(Readable.fromWeb(body as NodeReadableStream<Uint8Array>), createWriteStream(partial, { mode: 0o600, flags: 'wx' }));
        await rename(partial, options.out);
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      } finally {
        done();
      }
      const bytes = (await stat(options.out)).size;
      ctx.out.result({ file: options.out, bytes }, () =>
        ctx.out.line(`Backup written to ${options.out} (${bytes} bytes). It holds no secret key; tessera restore needs the server's.`),
      );
    });
}
