"""tessera-verify: verify Tessera access tokens in Python API servers, with the semantics of
@tessera/verify (SPEC 5.3, 5.4, 10): JWKS, issuer, audience, RFC 9068 typ, expiry with skew,
endpoint scope, IP allowlist with trusted proxies, direct tokens by introspection and the
revocation feed, failing closed when it goes quiet."""

from .feed import RevocationFeed
from .middleware import ASGIMiddleware, WSGIMiddleware
from .verifier import Auth, Request, Verdict, Verifier, refuse

__all__ = ["ASGIMiddleware", "Auth", "Request", "RevocationFeed", "Verdict", "Verifier", "WSGIMiddleware", "refuse"]
