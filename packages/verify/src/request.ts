/**
 * The parts of an HTTP request the verifier reads; every adapter maps its framework's request to
 * this. Build one yourself for a framework without an adapter, or to verify outside HTTP.
 *
 * @example
 * ```ts
 * const request: RequestLike = {
 *   method: 'GET',
 *   url: '/plans/7?expand=prices',
 *   header: (name) => (name === 'authorization' ? `Bearer ${accessToken}` : undefined),
 *   remoteAddress: socket.remoteAddress,
 * };
 * const verdict = await verifier.verify(request);
 * ```
 */
export interface RequestLike {
  readonly method: string;
  /** Path and query as received (`/plans/7?x=1`). */
  readonly url: string;
  /** Header lookup by lower-case name. */
  readonly header: (name: string) => string | undefined;
  /** The socket peer address. */
  readonly remoteAddress: string | undefined;
}

type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * Adapts Node's `IncomingMessage` (and Express's request, which extends it). The client address
 * is the socket peer; X-Forwarded-For counts only from `trustedProxies`.
 *
 * @example
 * ```ts
 * http.createServer(async (req, res) => {
 *   const verdict = await verifier.verify(fromNodeRequest(req));
 *   if (!verdict.ok) return sendRefusal(res, verdict);
 *   res.end(`hello ${verdict.auth.sub}`);
 * });
 * ```
 */
export function fromNodeRequest(request: {
  method?: string | undefined;
  url?: string | undefined;
  headers: HeaderBag;
  socket: { remoteAddress?: string | undefined };
}): RequestLike {
  return {
    method: request.method ?? 'GET',
    url: request.url ?? '/',
    header: (name) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value.join(', ') : (value as string | undefined);
    },
    remoteAddress: request.socket.remoteAddress,
  };
}

/**
 * Adapts a fetch `Request` (Hono and other fetch-style frameworks); the peer address comes from
 * the runtime, since a `Request` does not carry it.
 *
 * @param remoteAddress - the socket peer, e.g. `info.remoteAddr.hostname` in `Deno.serve`
 * @example
 * ```ts
 * Deno.serve(async (request, info) => {
 *   const verdict = await verifier.verify(fromFetchRequest(request, info.remoteAddr.hostname));
 *   return verdict.ok ? Response.json({ sub: verdict.auth.sub }) : refusalResponse(verdict);
 * });
 * ```
 */
export function fromFetchRequest(request: Request, remoteAddress: string | undefined): RequestLike {
  const url = new URL(request.url);
  return {
    method: request.method,
    url: url.pathname + url.search,
    header: (name) => request.headers.get(name) ?? undefined,
    remoteAddress,
  };
}
