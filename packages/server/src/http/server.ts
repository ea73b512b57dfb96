import { Server } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/config.js';
import { buildApp } from './app.js';
import { createContainer, type Container, type ContainerOptions } from '../app/container.js';

export interface RunningServer {
  readonly container: Container;
  readonly app: FastifyInstance;
  /** Base URL the server listens on, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  /** Stops accepting requests, lets in-flight ones finish, then closes the database. */
  close(): Promise<void>;
  /**
   * Graceful shutdown: /readyz answers 503 at once, requests (new ones too) are served for
   * `drainMs` with `Connection: close`, revocation-feed followers are told to reconnect, then
   * {@link close}.
   */
  shutdown(drainMs: number): Promise<void>;
}

/** Builds the container and the HTTP app and starts listening. */
export async function startServer(config: Config, options: ContainerOptions = {}): Promise<RunningServer> {
  const container = await createContainer(config, options);
  let app: FastifyInstance;
  try {
    app = await buildApp(container);
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await container.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  // Without TESSERA_ISSUER the issuer is this server's own URL, known only now (port 0 in tests).
  if (config.issuer === undefined) container.issuer.value = `http://${host}:${port}`;
  container.revocationHub.start();
  container.jobs.start();
  container.webhookDelivery.start();
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await app.close();
      await container.close();
    })();
    return closing;
  };
  return {
    container,
    app,
    url: `http://${host}:${port}`,
    close,
    async shutdown(drainMs) {
      container.lifecycle.drain();
      if (drainMs > 0) await new Promise((resolve) => setTimeout(resolve, drainMs));
      // Then stop accepting, and only that (net.Server's close, not http.Server's, which also
      // destroys "idle" connections): a connection the kernel accepted whose request Node has
      // not read yet counts as idle, and destroying it makes a proxy answer 502 for a request it
      // must not resend (a POST). The accepted ones get a moment to deliver their requests;
      // then the usual close finishes what is in flight.
      Server.prototype.close.call(app.server);
      await new Promise((resolve) => setTimeout(resolve, 500));
      await close();
    },
  };
}
