/** The parts of an HTTP request the verifier reads; every adapter maps its framework's request to this. */
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

/** Adapts Node's `IncomingMessage` (and Express's request, which extends it). */
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

/** Adapts a fetch `Request` (Hono and other fetch-style frameworks); the peer comes from the runtime. */
export function fromFetchRequest(request: Request, remoteAddress: string | undefined): RequestLike {
  const url = new URL(request.url);
  return {
    method: request.method,
    url: url.pathname + url.search,
    header: (name) => request.headers.get(name) ?? undefined,
    remoteAddress,
  };
}
