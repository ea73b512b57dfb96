import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../../config/config.js';
import { CliError, ExitCode } from '../errors.js';
import type { ContextOf } from '../context.js';
import { examples } from './help.js';

/** How long a stopping server keeps serving the connections it accepted before it stopped listening. */

/**
 * `serve`, `migrate` and `restore`: the only commands that open the database. The server and container
 * modules are loaded when one of them runs, so every other command starts without them.
 */
export function registerServerCommands(program: Command, contextOf: ContextOf): void {
  program
    .command('serve')
    .description('Run the service (REST API, OAuth endpoints, console), migrating the database first')
    .addHelpText('after', examples('TESSERA_PORT=9000 tessera serve', 'TESSERA_DATABASE_URL=postgres://tessera@db/tessera TESSERA_SECRET_KEY=... tessera serve'))
    .action(async (_options: object, command: Command) => {
      const { io } = contextOf(command);
      await withConfigErrors(io.stderr, async () => {
        const config = loadConfig(process.env);
        const { startServer } = await import('../../http/server.js');
        const server = await startServer(config);
        const { bootstrap } = server.container;
        io.stdout.write(
          [
            '',
            `Tessera is listening on ${server.url}`,
            `  REST API  ${server.url}/api/v1   (OpenAPI: ${server.url}/openapi.json)`,
            `  Console   ${server.url}/console`,
            `  Database  ${config.databaseUrl ? 'PostgreSQL' : `PGlite in ${config.dataDir}`}`,
            '',
          ].join('\n'),
        );
        if (bootstrap.created) {
          io.stdout.write(
            bootstrap.generatedPassword
              ? `First start: created organization "default" and instance admin "admin".\n` +
                  `  Admin password (shown only this once, keep it safe): ${bootstrap.generatedPassword}\n\n`
              : `First start: created organization "default" and instance admin "admin" with TESSERA_ADMIN_PASSWORD.\n\n`,
          );
        }
        let stopping = false;
        const stop = async (signal: string) => {
          // A second signal is an operator who will not wait for the drain.
          if (stopping) {
            server.container.logger.warn({ signal }, 'second signal: stopping without finishing the drain');
            process.exit(1);
          }
          stopping = true;
          server.container.logger.info({ signal, drainSeconds: config.shutdownDrainSeconds }, 'shutting down: draining, then stopping');
          await server.shutdown(config.shutdownDrainSeconds * 1000);
          server.container.logger.info({ signal }, 'stopped');
          process.exit(0);
        };
        process.on('SIGTERM', () => void stop('SIGTERM'));
        process.on('SIGINT', () => void stop('SIGINT'));
      });
    });

  program
    .command('migrate')
    .description('Apply pending database migrations and exit')
    .addHelpText('after', examples('tessera migrate', 'TESSERA_DATABASE_URL=postgres://tessera@db/tessera TESSERA_SECRET_KEY=... tessera migrate --json'))
    .action(async (_options: object, command: Command) => {
      const { out, io } = contextOf(command);
      await withConfigErrors(io.stderr, async () => {
        const config = loadConfig(process.env);
        const { createContainer } = await import('../../app/container.js');
        const container = await createContainer(config);
        await container.close();
        out.result({ status: 'up_to_date' }, () => out.line('Database is up to date.'));
      });
    });

  program
    .command('restore')
    .description('Restore a `tessera backup` file into an empty data directory (embedded database)')
    .argument('<file>', 'the backup file')
    .option('--data-dir <dir>', 'the data directory to create (default: TESSERA_DATA_DIR, else .tessera-data)')
    .option('--secret-key-file <file>', "the backed-up server's secret.key, copied into the data directory")
    .addHelpText(
      'after',
      `
The backup holds no secret key; the restored tokens, sessions and signing keys need the one of
the server it came from: give its secret.key with --secret-key-file, or start the restored
server with that TESSERA_SECRET_KEY. A directory that already holds a database is refused.
For PostgreSQL use pg_restore (docs/deploy.md).
${examples('tessera restore tessera-2026-12-03.tar.gz --data-dir /var/lib/tessera-restored --secret-key-file /var/lib/tessera/secret.key')}`,
    )
    .action(async (file: string, options: { dataDir?: string; secretKeyFile?: string }, command: Command) => {
      const { out, env } = contextOf(command);
      if (env['TESSERA_DATABASE_URL']) {
        throw new CliError('TESSERA_DATABASE_URL is set: tessera restore is for the embedded database; restore PostgreSQL with pg_restore', ExitCode.usage);
      }
      const dataDir = options.dataDir ?? (env['TESSERA_DATA_DIR'] || '.tessera-data');
      const haveKey = options.secretKeyFile !== undefined || Boolean(env['TESSERA_SECRET_KEY']) || existsSync(join(dataDir, 'secret.key'));
      if (!haveKey) {
        throw new CliError(
          `The backup holds no secret key and ${join(dataDir, 'secret.key')} does not exist: give the backed-up server's key with --secret-key-file (or set TESSERA_SECRET_KEY), or the restored tokens cannot be used`,
          ExitCode.usage,
        );
      }
      let backup: Blob;
      try {
        backup = new Blob([await readFile(file)]);
      } catch (error) {
        throw new CliError(`Cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, ExitCode.usage);
      }
      const { restoreBackup, RestoreError } = await import('../../app/restore.js');
      try {
        const restored = await restoreBackup({ dataDir, backup, secretKeyFile: options.secretKeyFile });
        out.result({ data_dir: dataDir, database_dir: restored.databaseDir, secret_key_file: restored.keyFile ?? null }, () =>
          out.line(`Restored into ${dataDir}. Start it with: TESSERA_DATA_DIR=${dataDir} tessera serve`),
        );
      } catch (error) {
        if (error instanceof RestoreError) throw new CliError(error.message, ExitCode.usage);
        throw error;
      }
    });
}

/**
 * A bad configuration is reported as "Configuration error: ..." with exit 2, anything else
 * that stops the service as "tessera: ..." with exit 1.
 */
async function withConfigErrors(stderr: NodeJS.WritableStream, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (error instanceof ConfigError) {
      stderr.write(`Configuration error: ${error.message}\n`);
      throw new CliError(error.message, ExitCode.usage, undefined, true);
    }
    throw new CliError(error instanceof Error ? error.message : String(error), ExitCode.refused);
  }
}
