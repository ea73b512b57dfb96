"""Against a live Tessera (the session fixture): the README quick start as written, revocation
through the feed, direct tokens by introspection, and failing closed when the feed goes quiet."""

from __future__ import annotations

import os
import re
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from conftest import CORPUS, authorization_of, serve
from tessera_verify import Request, Verifier

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def get(url: str, authorization: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"authorization": authorization}), timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def refused_within(check, seconds: float) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def test_readme_quick_start_runs_as_written(tessera, monkeypatch):
    block = re.search(r"## Quick start.*?```python\n(.*?)```", README, re.S).group(1)
    assert len(block.strip().splitlines()) == 5, "the quick start is five lines"
    monkeypatch.setenv("TESSERA_URL", tessera.url)
    monkeypatch.setenv("TESSERA_CLIENT_ID", tessera.client_id)
    monkeypatch.setenv("TESSERA_CLIENT_SECRET", tessera.client_secret)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - the README is ours
    server = make_server("127.0.0.1", 0, namespace["app"], handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert namespace["verifier"].wait_ready(30)
        token = tessera.create_token(scope={"kind": "custom", "endpoints": ["/plans"]})
        status, body = get(f"{base}/plans/7", f"Bearer {token['access_token']}")
        assert status == 200 and body.startswith("hello "), body
        assert get(f"{base}/admin", f"Bearer {token['access_token']}")[0] == 403
        assert get(f"{base}/plans", "")[0] == 401
    finally:
        server.shutdown()
        namespace["verifier"].close()


def test_a_revoked_api_token_stops_within_the_feed_latency(tessera):
    verifier = Verifier(tessera.url, "api", revocations=(tessera.client_id, tessera.client_secret))
    try:
        assert verifier.wait_ready(30)
        token = tessera.create_token(scope={"kind": "all"})
        request = Request("GET", "/plans", {"authorization": f"Bearer {token['access_token']}"}, "127.0.0.1")
        assert verifier.verify(request).ok
        status, _ = tessera.call("POST", f"/api/v1/tokens/{token['id']}/revoke")
        assert status == 200
        started = time.time()
        assert refused_within(lambda: verifier.verify(request).status == 401, 2.0), "refused within 2 s"
        print(f"revocation reached the Python SDK in {time.time() - started:.3f} s")
    finally:
        verifier.close()


def test_revoke_all_reaches_the_sdk_as_one_cutoff(tessera):
    """SPEC 9: revoke-all streams one `cutoff` event, not one event per token; the SDK refuses
    every access token minted before it from the owner's API tokens, and newer ones keep working."""
    verifier = Verifier(tessera.url, "api", revocations=(tessera.client_id, tessera.client_secret))
    try:
        assert verifier.wait_ready(30)
        older = [tessera.create_token(scope={"kind": "all"}) for _ in range(2)]
        requests = [Request("GET", "/plans", {"authorization": f"Bearer {t['access_token']}"}, "127.0.0.1") for t in older]
        assert all(verifier.verify(request).ok for request in requests)
        status, answer = tessera.call("POST", "/api/v1/tokens/revoke-all", {"owner": "admin"})
        assert status == 200 and answer["revoked"] >= 2, answer
        started = time.time()
        assert refused_within(lambda: all(verifier.verify(request).status == 401 for request in requests), 2.0), "refused within 2 s"
        print(f"a cutoff reached the Python SDK in {time.time() - started:.3f} s")
        newer = tessera.create_token(scope={"kind": "all"})
        assert verifier.verify(Request("GET", "/plans", {"authorization": f"Bearer {newer['access_token']}"}, "127.0.0.1")).ok, "issued after the cutoff"
    finally:
        verifier.close()


def test_direct_tokens_by_introspection(tessera):
    status, preset = tessera.call("POST", "/api/v1/presets", {"name": "py-direct", "description": "direct", "endpoints": ["GET /recovery/*"],
                                                               "mode": "direct", "scope_locked": True, "default_lifetime": "30D"})
    assert status == 201, preset
    token = tessera.create_token(scope={"kind": "py-direct"})
    bearer = {"authorization": f"Bearer {token['token']}"}
    refusing = Verifier(tessera.url, "api")
    assert refusing.verify(Request("GET", "/recovery/1", bearer, "127.0.0.1")).description.startswith("This API accepts access tokens only")
    verifier = Verifier(tessera.url, "api", introspection=(tessera.client_id, tessera.client_secret),
                        introspection_cache_seconds=1, clock_skew_seconds=0)  # a cached answer lives cache + skew
    allowed = verifier.verify(Request("GET", "/recovery/1", bearer, "127.0.0.1"))
    assert allowed.ok and allowed.auth.token_id == token["id"]
    assert verifier.verify(Request("POST", "/recovery/1", bearer, "127.0.0.1")).status == 403
    tessera.call("POST", f"/api/v1/tokens/{token['id']}/revoke")
    assert refused_within(lambda: verifier.verify(Request("GET", "/recovery/1", bearer, "127.0.0.1")).status == 401, 2.0)


def test_unreachable_tessera_is_a_503_for_a_new_key():
    verifier = Verifier("http://127.0.0.1:9", "api")
    case = CORPUS["cases"][0]
    from conftest import Signer  # a token for an issuer that cannot be reached
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    header = authorization_of(case, Signer("http://127.0.0.1:9", "k", Ed25519PrivateKey.generate()))
    verdict = verifier.verify(Request("GET", "/plans", {"authorization": header}, "127.0.0.1"))
    assert (verdict.status, verdict.error) == (503, "temporarily_unavailable")


def test_fails_closed_when_the_feed_goes_quiet(corpus_signer):
    """A feed that delivers its backlog, beats for a while, then stays silent on an open socket."""
    quiet = threading.Event()
    stop = threading.Event()

    class Feed(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.end_headers()
            self.wfile.write(b"event: synced\ndata: {}\n\n")
            self.wfile.flush()
            while not quiet.is_set() and not stop.is_set():
                self.wfile.write(b": ping\n\n")
                self.wfile.flush()
                time.sleep(0.2)
            stop.wait(30)  # silent, connection open: only the staleness bound can tell

        def log_message(self, *args):
            pass

    server, url = serve(Feed)
    verifier = Verifier(corpus_signer.issuer, "api", revocations={"client_id": "c", "client_secret": "s", "url": f"{url}/oauth/revocations"},
                        max_staleness_seconds=1)
    try:
        assert verifier.wait_ready(5)
        request = Request("GET", "/plans", {"authorization": authorization_of(CORPUS["cases"][0], corpus_signer)}, "127.0.0.1")
        assert verifier.verify(request).ok
        time.sleep(1.2)
        assert verifier.verify(request).ok, "heartbeats keep it fresh"
        quiet.set()
        started = time.time()
        assert refused_within(lambda: verifier.verify(request).status == 503, 3.0)
        elapsed = time.time() - started
        assert elapsed >= 0.5, "not before the staleness bound"
        verdict = verifier.verify(request)
        assert verdict.error == "temporarily_unavailable" and verdict.www_authenticate is None
    finally:
        stop.set()
        verifier.close()
        server.shutdown()
