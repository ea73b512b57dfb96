"""ASGI (Starlette, FastAPI) and WSGI (Flask, Django) middleware: verified requests reach the
app with their Auth, the others get the refusal per RFC 6750."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from typing import Any, Awaitable, Callable, Iterable, MutableMapping, Optional

from .verifier import Request, Verdict, Verifier

_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 503: "Service Unavailable"}


class WSGIMiddleware:
    """Wraps a WSGI app; the Auth is in environ["tessera.auth"] (Flask: request.environ)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], verifier: Verifier) -> None:
        self.app = app
        self.verifier = verifier

    @staticmethod
    def request_of(environ: MutableMapping[str, Any]) -> Request:
        # The path as received when the server keeps it (gunicorn RAW_URI, uWSGI REQUEST_URI);
        # otherwise PATH_INFO re-encoded, which is what the app itself routes on.
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if not raw:
            path = urllib.parse.quote((environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1"), safe="/:@!$&'()*+,;=-._~")
            query = environ.get("QUERY_STRING", "")
            raw = path + (f"?{query}" if query else "")
        headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")}
        return Request(environ.get("REQUEST_METHOD", "GET"), raw or "/", headers, environ.get("REMOTE_ADDR"))

    def __call__(self, environ: MutableMapping[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        verdict = self.verifier.verify(self.request_of(environ))
        if verdict.ok:
            environ["tessera.auth"] = verdict.auth
            return self.app(environ, start_response)
        body = json.dumps(verdict.body()).encode()
        start_response(f"{verdict.status} {_REASONS[verdict.status]}", verdict.headers() + [("content-length", str(len(body)))])
        return [body]


class ASGIMiddleware:
    """Wraps an ASGI app (HTTP requests; other scopes pass through); the Auth is in
    scope["state"]["tessera_auth"] (Starlette, FastAPI: request.state.tessera_auth)."""

    def __init__(self, app: Callable[..., Awaitable[None]], verifier: Verifier) -> None:
        self.app = app
        self.verifier = verifier

    @staticmethod
    def request_of(scope: MutableMapping[str, Any]) -> Request:
        # raw_path keeps the encoding the client sent (%2F stays visible); path is decoded.
        raw_path: Optional[bytes] = scope.get("raw_path")
        path = raw_path.decode("latin-1") if raw_path else urllib.parse.quote(scope.get("path", "/"))
        query = scope.get("query_string", b"").decode("latin-1")
        headers: dict[str, str] = {}
        for name, value in scope.get("headers", []):
            key = name.decode("latin-1").lower()
            headers[key] = headers[key] + ", " + value.decode("latin-1") if key in headers else value.decode("latin-1")
        client = scope.get("client")
        return Request(scope.get("method", "GET"), path + (f"?{query}" if query else ""), headers, client[0] if client else None)

    async def __call__(self, scope: MutableMapping[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = self.request_of(scope)
        # A token seen before is answered without a thread hop; new ones may need the JWKS or
        # introspection, which block, so they run in a worker thread.
        verdict: Optional[Verdict] = self.verifier.verify_cached(request)
        if verdict is None:
            verdict = await asyncio.to_thread(self.verifier.verify, request)
        if verdict.ok:
            scope.setdefault("state", {})["tessera_auth"] = verdict.auth
            await self.app(scope, receive, send)
            return
        body = json.dumps(verdict.body()).encode()
        headers = [(name.encode(), value.encode()) for name, value in verdict.headers()] + [(b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": verdict.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
