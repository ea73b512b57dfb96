import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../../config/config.js';
import { CliError, ExitCode } from '../errors.js';
import type { ContextOf } from '../context.js';
import { examples } from './help.js';

/**
 * `serve` and `migrate`: the only commands that open the database. The server and container
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
