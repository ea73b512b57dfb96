/** @tessera/client: a typed client of Tessera's management API. */
export { createTesseraClient, type TesseraClient, type TesseraClientOptions } from './client.js';
export { TesseraApiError, TesseraConnectionError, problemOf, type Problem } from './errors.js';
export { paginate, type Page } from './paginate.js';
export type { paths, components, operations } from '../generated/openapi.js';
export type * from './types.js';
