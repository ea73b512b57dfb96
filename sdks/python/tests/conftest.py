"""Fixtures: the shared vectors and corpus (read from the repository, never copied), a corpus
issuer (an Ed25519 key and its JWKS over HTTP) and a live Tessera started for the session."""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

REPO = Path(__file__).resolve().parents[3]
# ../shared beside the repository (a worktree one level further down finds the same directory).
VECTORS = next((base / "shared" / "vectors" for base in REPO.parents if (base / "shared" / "vectors").is_dir()), REPO.parent / "shared" / "vectors")
CORPUS = json.loads((REPO / "sdks" / "corpus" / "cases.json").read_text())


def vectors(name: str) -> Any:
    return json.loads((VECTORS / name).read_text())


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Signer:
    issuer: str
    kid: str
    key: Ed25519PrivateKey


_FOREIGN = Ed25519PrivateKey.generate()


def _substitute(value: Any, signer: Signer, now: int) -> Any:
    if value == "$issuer":
        return signer.issuer
    if value == "$kid":
        return signer.kid
    if value == "$random":
        return b64(secrets.token_bytes(16))
    if isinstance(value, str) and value.startswith("$now"):
        return now + int(value[4:])
    return value


def _merge(base: dict, overrides: Optional[dict], signer: Signer, now: int) -> dict:
    merged = {**base, **(overrides or {})}
    return {name: _substitute(value, signer, now) for name, value in merged.items() if value is not None}


def authorization_of(case: dict, signer: Signer) -> Optional[str]:
    """The case's Authorization header (None for none), signed as sdks/corpus/corpus.ts does."""
    if "authorization" in case:
        return case["authorization"] or None
    spec = case.get("token") or {}
    now = int(time.time())
    defaults = CORPUS["token_defaults"]
    header = _merge(CORPUS["base_header"], spec.get("header"), signer, now)
    claims = _merge({**CORPUS["base_claims"], "iat": now + spec.get("iat_in", defaults["iat_in"]), "exp": now + spec.get("exp_in", defaults["exp_in"])},
                    spec.get("claims"), signer, now)
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    signature = bytearray((_FOREIGN if spec.get("key") == "foreign" else signer.key).sign(signing_input.encode()))
    if spec.get("tamper"):
        signature[0] ^= 1
    return f"Bearer {signing_input}.{b64(bytes(signature))}"


def serve(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="session")
def corpus_signer() -> Iterator[Signer]:
    key = Ed25519PrivateKey.generate()
    x = b64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    jwks = json.dumps({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "corpus-1", "alg": "EdDSA", "use": "sig"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(jwks)))
            self.end_headers()
            self.wfile.write(jwks)

        def log_message(self, *args: Any) -> None:
            pass

    server, url = serve(Handler)
    yield Signer(url, "corpus-1", key)
    server.shutdown()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Tessera:
    url: str
    admin: str
    client_id: str
    client_secret: str

    def call(self, method: str, path: str, body: Optional[dict] = None, token: Optional[str] = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            request.add_header("content-type", "application/json")
        if token or self.admin:
            request.add_header("authorization", f"Bearer {token or self.admin}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                text = response.read()
                return response.status, json.loads(text) if text else None
        except urllib.error.HTTPError as error:
            text = error.read()
            return error.code, json.loads(text) if text else None

    def create_token(self, **body: Any) -> dict:
        status, created = self.call("POST", "/api/v1/tokens", {"name": f"py-{secrets.token_hex(4)}", **body})
        assert status == 201, created
        return created


@pytest.fixture(scope="session")
def tessera() -> Iterator[Tessera]:
    """`node packages/server/dist/cli/main.js serve` on a free port with PGlite, and an app that may introspect."""
    node = shutil.which("node")
    main = REPO / "packages" / "server" / "dist" / "cli" / "main.js"
    if node is None or not main.exists():
        pytest.fail(f"a live Tessera needs node and {main} (npm run build)")
    port = _free_port()
    data_dir = tempfile.mkdtemp(prefix="tessera-py-")
    password = "python sdk test password"
    env = {**os.environ, "TESSERA_PORT": str(port), "TESSERA_HOST": "127.0.0.1", "TESSERA_DATA_DIR": data_dir,
           "TESSERA_ADMIN_PASSWORD": password, "TESSERA_LOG_LEVEL": "warn"}
    env.pop("TESSERA_DATABASE_URL", None)
    process = subprocess.Popen([node, str(main), "serve"], env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 180  # a first PGlite start migrates; slow on a loaded machine
    while True:
        try:
            urllib.request.urlopen(url + "/.well-known/jwks.json", timeout=2).read()
            break
        except OSError:
            if process.poll() is not None or time.time() > deadline:
                process.kill()
                raise RuntimeError(f"Tessera did not start: {process.stderr.read().decode() if process.stderr else ''}")
            time.sleep(0.2)
    try:
        live = Tessera(url, "", "", "")
        status, session = live.call("POST", "/api/v1/sessions", {"username": "admin", "password": password})
        assert status == 201, session
        live.admin = session["session_token"]
        status, app = live.call("POST", "/api/v1/apps", {"name": "python-sdk", "can_introspect": True})
        assert status == 201, app
        live.client_id, live.client_secret = app["client_id"], app["client_secret"]
        yield live
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(data_dir, ignore_errors=True)
