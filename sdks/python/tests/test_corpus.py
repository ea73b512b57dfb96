"""The conformance corpus (sdks/corpus/cases.json): the verdicts @tessera/verify, the Go SDK
and GET /forward-auth give, case by case, here through the verifier and the WSGI and ASGI
middleware."""

import asyncio
import json

import pytest

from conftest import CORPUS, authorization_of
from tessera_verify import ASGIMiddleware, Request, Verifier, WSGIMiddleware

SETTINGS = CORPUS["settings"]


@pytest.fixture(scope="module")
def verifier(corpus_signer):
    verifier = Verifier(corpus_signer.issuer, SETTINGS["audience"], clock_skew_seconds=SETTINGS["clock_skew_seconds"],
                        trusted_proxies=SETTINGS["trusted_proxies"], realm=SETTINGS["realm"])
    yield verifier
    verifier.close()


def headers_of(case, signer):
    headers = {}
    authorization = authorization_of(case, signer)
    if authorization is not None:
        headers["authorization"] = authorization
    if "forwarded_for" in case["request"]:
        headers["x-forwarded-for"] = case["request"]["forwarded_for"]
    return headers


def expected(case):
    return case["expect"]["status"], case["expect"]["error"]


@pytest.mark.parametrize("case", CORPUS["cases"], ids=lambda c: c["name"])
def test_verifier(case, verifier, corpus_signer):
    r = case["request"]
    verdict = verifier.verify(Request(r["method"], r["path"], headers_of(case, corpus_signer), r["peer"]))
    assert (verdict.status, verdict.error) == expected(case), verdict.description
    if verdict.status in (401, 403):
        assert verdict.www_authenticate.startswith(f'Bearer realm="{SETTINGS["realm"]}"')


def _app(environ, start_response):
    start_response("200 OK", [("content-type", "application/json")])
    return [json.dumps({"sub": environ["tessera.auth"].sub}).encode()]


@pytest.mark.parametrize("case", CORPUS["cases"], ids=lambda c: c["name"])
def test_wsgi(case, verifier, corpus_signer):
    r = case["request"]
    path, _, query = r["path"].partition("?")
    environ = {"REQUEST_METHOD": r["method"], "REQUEST_URI": r["path"], "PATH_INFO": path, "QUERY_STRING": query, "REMOTE_ADDR": r["peer"]}
    for name, value in headers_of(case, corpus_signer).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    answer = {}
    body = b"".join(WSGIMiddleware(_app, verifier)(environ, lambda status, headers: answer.update(status=status, headers=dict(headers))))
    status = int(answer["status"].split()[0])
    error = None if status == 200 else json.loads(body)["error"]
    assert (status, None if error == "unauthorized" else error) == expected(case)
    if status in (401, 403):
        assert answer["headers"]["www-authenticate"].startswith('Bearer realm="api"')
        assert answer["headers"]["cache-control"] == "no-store"


@pytest.mark.parametrize("case", CORPUS["cases"], ids=lambda c: c["name"])
def test_asgi(case, verifier, corpus_signer):
    r = case["request"]
    path, _, query = r["path"].partition("?")
    scope = {"type": "http", "method": r["method"], "path": path, "raw_path": path.encode(), "query_string": query.encode(),
             "headers": [(k.encode(), v.encode()) for k, v in headers_of(case, corpus_signer).items()], "client": (r["peer"], 50000)}
    sent = []

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["state"]["tessera_auth"].sub.encode()})

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    asyncio.run(ASGIMiddleware(app, verifier)(scope, receive, send))
    status = sent[0]["status"]
    error = None if status == 200 else json.loads(sent[1]["body"])["error"]
    assert (status, None if error == "unauthorized" else error) == expected(case)
