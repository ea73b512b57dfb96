#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/config.js';
import { startServer } from '../http/server.js';
import { createContainer } from '../app/container.js';

const program = new Command()
  .name('tessera')
  .description('Tessera: API tokens, an OAuth 2.0 token endpoint and their management.')
  .showHelpAfterError();

program
  .command('serve')
  .description('Run the service (REST API, OAuth endpoints, console), migrating the database first')
  .addHelpText('after', '\nExample:\n  TESSERA_PORT=9000 tessera serve')
  .action(async () => {
    const config = loadConfig(process.env);
    const server = await startServer(config);
    const { bootstrap } = server.container;
    process.stdout.write(
      [
        '',
        `Tessera is listening on ${server.url}`,
        `  REST API  ${server.url}/api/v1   (OpenAPI: ${server.url}/openapi.json)`,
        `  Database  ${config.databaseUrl ? 'PostgreSQL' : `PGlite in ${config.dataDir}`}`,
        '',
      ].join('\n'),
    );
    if (bootstrap.created) {
      process.stdout.write(
        bootstrap.generatedPassword
          ? `First start: created organization "default" and instance admin "admin".\n` +
              `  Admin password (shown only this once, keep it safe): ${bootstrap.generatedPassword}\n\n`
          : `First start: created organization "default" and instance admin "admin" with TESSERA_ADMIN_PASSWORD.\n\n`,
      );
    }
    const stop = async (signal: string) => {
      server.container.logger.info({ signal }, 'shutting down');
      await server.close();
      process.exit(0);
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
  });

program
  .command('migrate')
  .description('Apply pending database migrations and exit')
  .action(async () => {
    const container = await createContainer(loadConfig(process.env));
    await container.close();
    process.stdout.write('Database is up to date.\n');
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`Configuration error: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`tessera: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
