import createClient, { type FetchResponse, type MaybeOptionalInit, type Middleware } from 'openapi-fetch';
import type { HttpMethod, MediaType, PathsWithMethod, RequiredKeysOf } from 'openapi-typescript-helpers';
import { problemOf, TesseraApiError, TesseraConnectionError } from './errors.js';
import type { paths } from '../generated/openapi.js';

export interface TesseraClientOptions {
  /** Where Tessera listens, e.g. `https://tessera.example.com` (no `/api/v1`). */
  readonly baseUrl: string;
  /**
   * A bearer credential: a session token from `POST /api/v1/sessions`, or an access token.
   * A function is called per request, so a caller can swap it after a re-login.
   */
  readonly token?: string | (() => string | undefined);
  /**
   * Browser use with the session cookie: sends `x-tessera-csrf: 1` on state-changing calls
   * (the server refuses cookie-authenticated changes without it) and includes credentials.
   */
  readonly cookies?: boolean;
  /** A fetch implementation; defaults to the global one. */
  readonly fetch?: typeof globalThis.fetch;
  /** Extra headers on every request (e.g. a user agent). */
  readonly headers?: Readonly<Record<string, string>>;
}

// openapi-fetch's own init rule: the options argument is optional exactly when nothing in it is required.
type InitParam<Init> = RequiredKeysOf<Init> extends never ? [(Init & { [key: string]: unknown })?] : [Init & { [key: string]: unknown }];

/** Failures are thrown, so an answer is always the success member of openapi-fetch's union. */
type Answer<R> = Extract<R, { data: unknown }>;

/** The operation object of one method of a path item. */
type OperationOf<Item, M extends HttpMethod> = Item extends { [K in M]: infer Op } ? (Op extends Record<string | number, unknown> ? Op : never) : never;

type Method<M extends HttpMethod> = <Path extends PathsWithMethod<paths, M>, Init extends MaybeOptionalInit<paths[Path], M>>(
  url: Path,
  ...init: InitParam<Init>
) => Promise<Answer<FetchResponse<OperationOf<paths[Path], M>, Init, MediaType>>>;

/** The typed client: `GET`, `POST`, … over the paths of /openapi.json; `data` is the success body. */
export interface TesseraClient {
  readonly GET: Method<'get'>;
  readonly POST: Method<'post'>;
  readonly PUT: Method<'put'>;
  readonly PATCH: Method<'patch'>;
  readonly DELETE: Method<'delete'>;
}

const unsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * A typed client of the management API. Refusals and failures are thrown as
 * {@link TesseraApiError} (with the server's problem document), unreachable servers as
 * {@link TesseraConnectionError}, so `data` is always the success body.
 *
 * @example
 * const tessera = createTesseraClient({ baseUrl: 'http://127.0.0.1:8080', token: process.env.TESSERA_TOKEN });
 * const { data: me } = await tessera.GET('/api/v1/me');
 */
export function createTesseraClient(options: TesseraClientOptions): TesseraClient {
  const baseFetch = options.fetch ?? globalThis.fetch;
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    ...(options.cookies && { credentials: 'same-origin' as const }),
    ...(options.headers && { headers: options.headers }),
    // Wrapped so a network failure is told apart from an answer.
    fetch: async (request: Request) => {
      try {
        return await baseFetch(request);
      } catch (error) {
        throw new TesseraConnectionError(options.baseUrl, { cause: error });
      }
    },
  });
  const conventions: Middleware = {
    onRequest({ request }) {
      const token = typeof options.token === 'function' ? options.token() : options.token;
      if (token !== undefined) request.headers.set('authorization', `Bearer ${token}`);
      if (options.cookies && unsafeMethods.has(request.method)) request.headers.set('x-tessera-csrf', '1');
      return request;
    },
    async onResponse({ response }) {
      if (!response.ok) throw new TesseraApiError(await problemOf(response));
      return response;
    },
  };
  client.use(conventions);
  // openapi-fetch's methods, with the narrower answer type the throwing middleware guarantees.
  return client as unknown as TesseraClient;
}
