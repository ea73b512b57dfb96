"""Keys: ES256 and RS256 as well as EdDSA, as the JWKS says; the header's alg must match the
key; rotation picks up a new kid, a retired key stops verifying, an outage keeps known keys."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from conftest import serve
from tessera_verify import Request, Verifier


class Issuer:
    """A JWKS endpoint whose published keys the test changes."""

    def __init__(self) -> None:
        self.keys: dict[str, tuple[object, str]] = {}
        self.published: list[str] = []
        self.failing = False
        self.fetches = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                issuer.fetches += 1
                if issuer.failing:
                    self.send_response(500)
                    self.end_headers()
                    return
                jwks = []
                for kid in issuer.published:
                    key, alg = issuer.keys[kid]
                    jwk = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(key.public_key()))
                    jwks.append({**jwk, "kid": kid, "alg": alg, "use": "sig"})
                body = json.dumps({"keys": jwks}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server, self.url = serve(Handler)

    def add(self, kid: str, alg: str) -> None:
        key = {"EdDSA": lambda: ed25519.Ed25519PrivateKey.generate(), "ES256": lambda: ec.generate_private_key(ec.SECP256R1()),
               "RS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)}[alg]()
        self.keys[kid] = (key, alg)
        self.published.append(kid)

    def sign(self, kid: str, alg: str | None = None, at: float | None = None, **claims) -> str:
        key, key_alg = self.keys[kid]
        now = int(at if at is not None else time.time())
        payload = {"iss": self.url, "aud": "api", "sub": "usr_1", "org": "org_1", "scope": "all", "jti": f"j{time.time_ns()}", "iat": now, "exp": now + 600, **claims}
        return jwt.encode(payload, key, algorithm=alg or key_alg, headers={"kid": kid, "typ": "at+jwt"})


@pytest.fixture
def issuer():
    issuer = Issuer()
    yield issuer
    issuer.server.shutdown()


def check(verifier: Verifier, token: str):
    return verifier.verify(Request("GET", "/plans", {"authorization": f"Bearer {token}"}, "127.0.0.1"))


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256"])
def test_each_algorithm_from_the_jwks(issuer, alg):
    issuer.add("k1", alg)
    verifier = Verifier(issuer.url, "api")
    assert check(verifier, issuer.sign("k1")).ok


def test_the_header_alg_must_match_the_key(issuer):
    issuer.add("rsa", "RS256")
    issuer.add("ec", "ES256")
    verifier = Verifier(issuer.url, "api")
    # An RS256 key, but the header says something else it could be confused with.
    key, _ = issuer.keys["rsa"]
    now = int(time.time())
    forged = jwt.encode({"iss": issuer.url, "aud": "api", "sub": "u", "jti": "j", "iat": now, "exp": now + 60}, key, algorithm="PS256", headers={"kid": "rsa", "typ": "at+jwt"})
    assert check(verifier, forged).error == "invalid_token"
    assert not Verifier(issuer.url, "api", algorithms=["EdDSA"]).verify(
        Request("GET", "/", {"authorization": f"Bearer {issuer.sign('ec')}"}, "127.0.0.1")).ok, "an algorithm not configured never passes"


def test_rotation_retirement_and_outage(issuer):
    clock = [time.time()]
    issuer.add("old", "EdDSA")
    verifier = Verifier(issuer.url, "api", jwks_cooldown_seconds=30, jwks_max_age_seconds=600, now=lambda: clock[0])
    old_token = issuer.sign("old", at=clock[0])
    assert check(verifier, old_token).ok
    # Rotation: a token with a new kid refetches once the cooldown since the last fetch is over.
    issuer.add("new", "ES256")
    new_token = issuer.sign("new", at=clock[0])
    assert check(verifier, new_token).error == "invalid_token", "within the cooldown a new kid is not fetched"
    clock[0] += 31
    assert check(verifier, new_token).ok
    fetches = issuer.fetches
    for _ in range(5):
        check(verifier, issuer.sign("new", at=clock[0]))
    assert issuer.fetches == fetches, "known keys cost no fetch"
    # Outage: known keys keep working.
    issuer.failing = True
    clock[0] += 601
    assert check(verifier, issuer.sign("new", at=clock[0])).ok
    issuer.failing = False
    # Retirement: after the max age the key is looked up again and, gone, stops verifying.
    issuer.published.remove("old")
    clock[0] += 601
    assert check(verifier, issuer.sign("old", at=clock[0])).error == "invalid_token"
    assert check(verifier, issuer.sign("new", at=clock[0])).ok
