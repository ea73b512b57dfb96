"""Verifies Tessera access tokens with PyJWT (PyJWKClient) and Authlib (RFC 9068), as their docs show.

Run by ../python.test.ts against a real server: argv is the issuer, the algorithm the server signs
with, and an access token. Prints one JSON object with each library's outcome; exits non-zero only
when something is wrong with this script itself.
"""
import json
import sys
import urllib.request

import jwt
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator

issuer, algorithm, token = sys.argv[1], sys.argv[2], sys.argv[3]
results = {}

# PyJWT: PyJWKClient fetches the JWKS and picks the key by the token's kid.
try:
    jwks_client = jwt.PyJWKClient(f"{issuer}/.well-known/jwks.json")
    signing_key = jwks_client.get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token,
        signing_key.key,
        algorithms=["ES256", "RS256", "EdDSA"],
        audience="api",
        issuer=issuer,
        options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
    )
    header = jwt.get_unverified_header(token)
    results["pyjwt"] = {"ok": header.get("typ") == "at+jwt", "client_id": claims.get("client_id"), "alg": header.get("alg")}
except Exception as error:  # recorded, asserted by the node test
    results["pyjwt"] = {"ok": False, "error": type(error).__name__, "detail": str(error)[:200]}


# Authlib: the RFC 9068 validator, with get_jwks from the RFC 8414 metadata as its docstring shows.
class TesseraValidator(JWTBearerTokenValidator):
    def get_jwks(self):
        with urllib.request.urlopen(f"{self.issuer}/.well-known/oauth-authorization-server") as response:
            metadata = json.load(response)
        with urllib.request.urlopen(metadata["jwks_uri"]) as response:
            return json.load(response)


try:
    validator = TesseraValidator(issuer=issuer, resource_server="api")
    claims = validator.authenticate_token(token)
    claims.validate()
    results["authlib"] = {"ok": claims.header.get("typ") == "at+jwt", "client_id": claims.get("client_id"), "alg": claims.header.get("alg")}
except Exception as error:
    results["authlib"] = {"ok": False, "error": type(error).__name__, "detail": str(error)[:200]}

print(json.dumps(results))
