"""The verifier: @tessera/verify's createVerifier, in Python, with the same checks in the same
order and the same answers (SPEC 5.3, 5.4)."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import jwt
from jwt import PyJWK

from .feed import RevocationFeed
from .rules import (
    EndpointPattern, IpRange, RuleError, is_api_token, is_ip_allowed, matches_endpoint,
    parse_endpoint_patterns, parse_ip_allowlist, resolve_client_address,
)

_BEARER = re.compile(r"Bearer +([A-Za-z0-9._~+/-]+=*) *", re.I)
_MAX_CACHE = 10_000


@dataclass(frozen=True)
class Auth:
    """What a verified request may do: exposed to the handler."""
    sub: str
    org: str
    roles: tuple[str, ...]
    token_id: Optional[str]
    scope_kind: str
    endpoints: tuple[str, ...]
    amr: tuple[str, ...]
    expires_at: Optional[int]


@dataclass(frozen=True)
class Verdict:
    """Allowed (ok, auth) or a refusal: status 400/401/403/503, RFC 6750 error and challenge."""
    ok: bool
    status: int = 200
    error: Optional[str] = None
    description: str = ""
    www_authenticate: Optional[str] = None
    auth: Optional[Auth] = None

    def body(self) -> dict[str, str]:
        return {"error": self.error or "unauthorized", "error_description": self.description}

    def headers(self) -> list[tuple[str, str]]:
        """The response headers a refusal is sent with."""
        headers = [("content-type", "application/json"), ("cache-control", "no-store")]
        if self.www_authenticate:
            headers.append(("www-authenticate", self.www_authenticate))
        if self.status == 503:
            headers.append(("retry-after", "1"))
        return headers


@dataclass(frozen=True)
class Request:
    """The parts of a request the verifier reads; `url` is the path and query as received."""
    method: str
    url: str
    headers: Mapping[str, str]
    remote_addr: Optional[str]

    def header(self, name: str) -> Optional[str]:
        return self.headers.get(name)


def _quote(value: str) -> str:
    return '"' + re.sub(r'["\\]', "", value) + '"'


def refuse(realm: str, status: int, error: Optional[str], description: str) -> Verdict:
    """A refusal with its RFC 6750 §3 WWW-Authenticate (401 and 403 only)."""
    parts = [f"Bearer realm={_quote(realm)}"]
    if error and error != "temporarily_unavailable":
        parts += [f"error={_quote(error)}", f"error_description={_quote(description)}"]
    return Verdict(False, status, error, description, ", ".join(parts) if status in (401, 403) else None)


@dataclass
class _Checked:
    auth: Auth
    endpoints: Optional[list[EndpointPattern]]
    allowlist: list[IpRange]
    expires_at: float  # seconds
    jti: Optional[str]
    iat: Optional[float]
    decisions: dict[tuple[str, str], bool] = field(default_factory=dict)


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


class _Unreachable(Exception):
    pass


Credentials = Union[tuple[str, str], Mapping[str, Any]]


class Verifier:
    """Verifies requests against Tessera. One per process: it caches keys and verified tokens
    and follows one revocation feed.

    issuer, audience: as in the tokens (Tessera's TESSERA_ISSUER and TESSERA_AUDIENCE).
    revocations: (client_id, client_secret) of an app with can_introspect, to follow the feed.
    introspection: the same, to accept direct API tokens (RFC 7662).
    """

    def __init__(
        self,
        issuer: str,
        audience: Union[str, Sequence[str]],
        *,
        jwks_uri: Optional[str] = None,
        algorithms: Sequence[str] = ("EdDSA", "ES256", "RS256"),
        clock_skew_seconds: float = 5,
        jwks_cooldown_seconds: float = 30,
        jwks_max_age_seconds: float = 600,
        trusted_proxies: Sequence[str] = (),
        enforce_scope: bool = True,
        case_insensitive_paths: bool = False,
        realm: str = "api",
        token_prefix: str = "tsr",
        introspection: Optional[Credentials] = None,
        introspection_cache_seconds: float = 10,
        revocations: Optional[Credentials] = None,
        max_staleness_seconds: float = 30,
        reconnect_delay_seconds: float = 0.5,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self._audiences = [audience] if isinstance(audience, str) else list(audience)
        self._jwks_uri = jwks_uri or f"{self.issuer}/.well-known/jwks.json"
        # RFC 8725 §3.1: only these; none and HMAC can never pass.
        self._algorithms = [alg for alg in algorithms if alg in ("EdDSA", "ES256", "RS256")]
        self._skew = clock_skew_seconds
        self._cooldown = jwks_cooldown_seconds
        self._max_age = jwks_max_age_seconds
        self._trusted = parse_ip_allowlist(list(trusted_proxies))
        self._enforce_scope = enforce_scope
        self._fold = case_insensitive_paths
        self.realm = realm
        self._prefix = token_prefix
        self._introspection = self._credentials(introspection)
        self._introspection_ttl = introspection_cache_seconds
        self._now = now
        self._keys: dict[str, tuple[PyJWK, float]] = {}
        self._last_jwks_fetch: Optional[float] = None
        self._jwks_lock = threading.Lock()
        self._cache: dict[str, _Checked] = {}
        self._max_staleness = max_staleness_seconds
        feed_credentials = self._credentials(revocations)
        self.feed: Optional[RevocationFeed] = None
        if feed_credentials is not None:
            self.feed = RevocationFeed(feed_credentials.get("url") or f"{self.issuer}/oauth/revocations", feed_credentials["client_id"],
                                       feed_credentials["client_secret"], reconnect_delay=reconnect_delay_seconds)
            self.feed.start()

    @staticmethod
    def _credentials(value: Optional[Credentials]) -> Optional[dict[str, Any]]:
        if value is None:
            return None
        if isinstance(value, tuple):
            return {"client_id": value[0], "client_secret": value[1]}
        return dict(value)

    # -- answers ----------------------------------------------------------------------------

    def _invalid(self, description: str = "The access token is not valid") -> Verdict:
        # RFC 6750 §3.1 / RFC 7662 §2.2: a revoked, expired or unknown token gets one answer.
        return refuse(self.realm, 401, "invalid_token", description)

    def _unreachable(self) -> Verdict:
        return refuse(self.realm, 503, "temporarily_unavailable", "The token service could not be reached; try again shortly")

    # -- keys -------------------------------------------------------------------------------

    def _fetch_jwks(self) -> list[dict[str, Any]]:
        try:
            with urllib.request.urlopen(urllib.request.Request(self._jwks_uri, headers={"accept": "application/json"}), timeout=5) as response:
                body = json.load(response)
        except (OSError, ValueError) as error:
            raise _Unreachable() from error
        keys = body.get("keys") if isinstance(body, dict) else None
        if not isinstance(keys, list):
            raise _Unreachable()
        return [key for key in keys if isinstance(key, dict)]

    def _key(self, kid: str) -> Optional[PyJWK]:
        with self._jwks_lock:
            now = self._now()
            known = self._keys.get(kid)
            if known is not None and now - known[1] <= self._max_age:
                return known[0]
            # An unknown kid refetches at most once per cooldown: rotation is picked up, a flood
            # of made-up kids is not.
            if known is None and self._last_jwks_fetch is not None and now - self._last_jwks_fetch < self._cooldown:
                return None
            try:
                published = self._fetch_jwks()
            except _Unreachable:
                # Our outage, not the caller's fault: a known key keeps working (asked again after
                # the cooldown); an unknown one is a 503.
                if known is None:
                    raise
                self._keys[kid] = (known[0], now - self._max_age + self._cooldown)
                return known[0]
            self._last_jwks_fetch = now
            fresh: dict[str, tuple[PyJWK, float]] = {}
            for jwk in published:
                if isinstance(jwk.get("kid"), str) and jwk.get("use", "sig") == "sig":
                    try:
                        fresh[jwk["kid"]] = (PyJWK(jwk), now)
                    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, KeyError):
                        continue  # a key of a type we do not verify
            # A key the issuer no longer publishes (retired) stops verifying.
            self._keys = fresh
            return fresh[kid][0] if kid in fresh else None

    # -- credentials ------------------------------------------------------------------------

    def _from_claims(self, claims: Mapping[str, Any], expires_at: float) -> _Checked:
        kind = claims["scope"] if isinstance(claims.get("scope"), str) else "all"
        endpoints = _strings(claims.get("endpoints"))
        allowlist = _strings(claims.get("ip_allowlist"))
        exp = claims.get("exp")
        auth = Auth(
            sub=str(claims.get("sub")),
            org=str(claims.get("org", "")),
            roles=tuple(_strings(claims.get("roles"))),
            token_id=claims["tid"] if isinstance(claims.get("tid"), str) else None,
            scope_kind=kind,
            endpoints=() if kind == "all" else tuple(endpoints),
            amr=tuple(_strings(claims.get("amr"))),
            expires_at=int(exp) if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None,
        )
        return _Checked(
            auth=auth,
            endpoints=None if kind == "all" else parse_endpoint_patterns(endpoints),
            allowlist=parse_ip_allowlist(allowlist) if allowlist else [],
            expires_at=expires_at,
            jti=claims["jti"] if isinstance(claims.get("jti"), str) else None,
            iat=claims["iat"] if isinstance(claims.get("iat"), (int, float)) else None,
        )

    def _check_jwt(self, token: str) -> Union[_Checked, Verdict]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return self._invalid()
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._algorithms:
            return self._invalid()
        # RFC 9068 §4: the type must be at+jwt.
        if header.get("typ") not in ("at+jwt", "application/at+jwt"):
            return self._invalid()
        kid = header.get("kid")
        if not isinstance(kid, str) or len(kid) > 200:
            return self._invalid()
        key = self._key(kid)
        # RFC 8725 §3.1: the key decides the algorithm; a header naming another is refused.
        if key is None or key.algorithm_name != alg:
            return self._invalid()
        try:
            claims = jwt.decode(token, key.key, algorithms=[alg], options={
                "verify_signature": True, "verify_exp": False, "verify_nbf": False, "verify_iat": False,
                "verify_aud": False, "verify_iss": False, "verify_sub": False, "verify_jti": False,
            })
        except (jwt.PyJWTError, ValueError, TypeError):
            return self._invalid()
        if not isinstance(claims, dict):
            return self._invalid()
        now = self._now()
        number = lambda value: isinstance(value, (int, float)) and not isinstance(value, bool)  # noqa: E731
        if claims.get("iss") != self.issuer:
            return self._invalid()
        aud = claims.get("aud")
        if not any(isinstance(value, str) and value in self._audiences for value in (aud if isinstance(aud, list) else [aud])):
            return self._invalid()
        exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
        if not number(exp) or exp + self._skew <= now:
            return self._invalid()
        if number(nbf) and nbf - self._skew > now:
            return self._invalid()
        if not number(iat) or iat - self._skew > now:
            return self._invalid()
        if not isinstance(claims.get("sub"), str) or not isinstance(claims.get("jti"), str):
            return self._invalid()
        try:
            return self._from_claims(claims, float(exp))
        except RuleError:
            return self._invalid()  # unparseable endpoint or allowlist claims: refuse, never guess

    def _check_direct(self, token: str) -> Union[_Checked, Verdict]:
        settings = self._introspection
        if settings is None:
            return self._invalid("This API accepts access tokens only; exchange the API token at the token endpoint")
        pair = f"{urllib.parse.quote(settings['client_id'], safe='')}:{urllib.parse.quote(settings['client_secret'], safe='')}"
        request = urllib.request.Request(
            settings.get("url") or f"{self.issuer}/oauth/introspect",
            data=urllib.parse.urlencode({"token": token, "token_type_hint": "api_token"}).encode(),
            headers={"content-type": "application/x-www-form-urlencoded", "authorization": "Basic " + base64.b64encode(pair.encode()).decode()},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                body = json.load(response)
        except (OSError, ValueError) as error:
            raise _Unreachable() from error
        if not isinstance(body, dict) or body.get("active") is not True:
            return self._invalid()
        try:
            checked = self._from_claims(body, float("inf"))
        except RuleError:
            return self._invalid()
        exp = body.get("exp")
        until = self._now() + self._introspection_ttl
        # The cached answer never outlives the token itself.
        checked.expires_at = min(float(exp), until) if isinstance(exp, (int, float)) else until
        return checked

    # -- the request ------------------------------------------------------------------------

    def _authorize(self, request: Request, key: str, checked: _Checked) -> Verdict:
        auth = checked.auth
        if self.feed is not None and self.feed.is_revoked(checked.jti, auth.token_id, auth.sub, checked.iat, auth.org):
            self._cache.pop(key, None)
            return self._invalid()
        if checked.allowlist:
            client = resolve_client_address(request.remote_addr or "", request.header("x-forwarded-for"), self._trusted)
            if not is_ip_allowed(checked.allowlist, client):
                return self._invalid()
        if self._enforce_scope and checked.endpoints is not None:
            decision_key = (request.method, request.url)
            allowed = checked.decisions.get(decision_key)
            if allowed is None:
                allowed = matches_endpoint(checked.endpoints, request.method, request.url, self._fold)
                if len(checked.decisions) < 256:
                    checked.decisions[decision_key] = allowed
            if not allowed:
                return refuse(self.realm, 403, "insufficient_scope", f"The token's scope does not include {request.method} {request.url.split('?')[0]}")
        return Verdict(True, auth=auth)

    def verify_cached(self, request: Request) -> Optional[Verdict]:
        """The verdict when no I/O is needed (a token seen before, or a refusal), else None."""
        authorization = request.header("authorization")
        if not authorization:
            return refuse(self.realm, 401, None, "Authentication required")
        now = self._now()
        if self.feed is not None and now - self.feed.last_contact > self._max_staleness:
            # A server that cannot know whether a token was revoked does not guess.
            return refuse(self.realm, 503, "temporarily_unavailable", "Revocation state is out of date; try again shortly")
        checked = self._cache.get(authorization)
        if checked is not None:
            if checked.expires_at + self._skew > now:
                return self._authorize(request, authorization, checked)
            self._cache.pop(authorization, None)
        if not _BEARER.fullmatch(authorization):
            if re.match(r"Bearer\b", authorization, re.I):
                return refuse(self.realm, 400, "invalid_request", "Malformed Authorization header")
            return refuse(self.realm, 401, None, "Authentication required: use the Bearer scheme")
        return None

    def verify(self, request: Request) -> Verdict:
        """Verifies a request; refusals are values, never exceptions."""
        known = self.verify_cached(request)
        if known is not None:
            return known
        authorization = request.header("authorization") or ""
        token = _BEARER.fullmatch(authorization).group(1)  # type: ignore[union-attr]
        try:
            if is_api_token(token, self._prefix):
                result = self._check_direct(token)
            elif token.count(".") == 2:
                result = self._check_jwt(token)
            else:
                result = self._invalid()
        except _Unreachable:
            return self._unreachable()
        if isinstance(result, Verdict):
            return result
        if len(self._cache) >= _MAX_CACHE:
            self._cache.pop(next(iter(self._cache)))
        self._cache[authorization] = result
        return self._authorize(request, authorization, result)

    def wait_ready(self, timeout: Optional[float] = None) -> bool:
        """Waits for the revocation feed's backlog (True at once without a feed)."""
        return True if self.feed is None else self.feed.wait_ready(timeout)

    def close(self) -> None:
        if self.feed is not None:
            self.feed.stop()
