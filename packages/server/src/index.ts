/** @tessera/server: the service's public surface for embedding and tests. */
export { loadConfig, ConfigError, type Config } from './config/config.js';
export { optionDocs } from './config/defaults.js';
export { createContainer, type Container, type ContainerOptions } from './app/container.js';
export { startServer, type RunningServer } from './http/server.js';
export { buildApp } from './http/app.js';
