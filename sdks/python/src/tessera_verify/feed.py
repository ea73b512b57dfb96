"""The revocation feed (SPEC 5.4): Server-Sent Events at <issuer>/oauth/revocations, followed in
a daemon thread, as @tessera/verify's RevocationFeed does: revoked ids in memory, Last-Event-ID
on reconnect so nothing is missed, and every event or heartbeat counted as contact so the
verifier can fail closed when the feed goes quiet."""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
import urllib.parse
from typing import Callable, Optional


class RevocationFeed:
    def __init__(self, url: str, client_id: str, client_secret: str, reconnect_delay: float = 0.5, read_timeout: float = 5.0,
                 on_status: Optional[Callable[[str, str], None]] = None) -> None:
        self.url = url
        # RFC 6749 §2.3.1: each part form-encoded before Basic.
        pair = f"{urllib.parse.quote(client_id, safe='')}:{urllib.parse.quote(client_secret, safe='')}"
        self._authorization = "Basic " + base64.b64encode(pair.encode()).decode()
        self._reconnect_delay = reconnect_delay
        self._read_timeout = read_timeout
        self._on_status = on_status
        self._tokens: set[str] = set()
        self._jtis: set[str] = set()
        self._principals: dict[str, int] = {}
        # Cutoffs keyed "org" or "org/owner": the latest `before` of each (SPEC 9, revoke-all).
        self._cutoffs: dict[str, int] = {}
        self._cursor: Optional[str] = None
        self._stopped = threading.Event()
        self._synced = threading.Event()
        self._connection: Optional[http.client.HTTPConnection] = None
        self._lock = threading.Lock()
        self.last_contact = 0.0
        self._thread = threading.Thread(target=self._run, name="tessera-revocation-feed", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        connection = self._connection
        if connection is not None:
            try:
                if connection.sock is not None:
                    connection.sock.shutdown(2)
            except OSError:
                pass
            connection.close()

    def wait_ready(self, timeout: Optional[float] = None) -> bool:
        """True once the backlog has arrived after the first connection."""
        return self._synced.wait(timeout)

    def is_revoked(self, jti: Optional[str], tid: Optional[str], sub: Optional[str], iat: Optional[float], org: Optional[str] = None) -> bool:
        with self._lock:
            if jti is not None and jti in self._jtis:
                return True
            if tid and tid in self._tokens:
                return True
            # A cutoff concerns access tokens minted from API tokens (they carry `tid` and `iat`):
            # one event stands for every API token of the organization, or of one owner, issued
            # before `before`. A direct token's introspection answer has no `iat`; the server
            # refuses it once revoked.
            if tid and iat is not None and org and self._cutoffs:
                org_wide = self._cutoffs.get(org)
                if org_wide is not None and iat < org_wide:
                    return True
                own = self._cutoffs.get(f"{org}/{sub}") if sub is not None else None
                if own is not None and iat < own:
                    return True
            if sub is not None and sub in self._principals and (iat or 0) <= self._principals[sub]:
                return True
        return False

    def _apply(self, kind: str, subject: str, at: int) -> None:
        with self._lock:
            if kind == "token":
                self._tokens.add(subject)
            elif kind == "access_token":
                self._jtis.add(subject)
            else:
                self._principals[subject] = max(self._principals.get(subject, 0), at)

    def _apply_cutoff(self, org: object, owner: object, before: object) -> None:
        if not isinstance(org, str) or isinstance(before, bool) or not isinstance(before, (int, float)):
            return  # a cutoff without its organization or instant is skipped, as a malformed event
        key = f"{org}/{owner}" if isinstance(owner, str) else org
        with self._lock:
            self._cutoffs[key] = max(self._cutoffs.get(key, 0), int(before))

    def _dispatch(self, event: str, data: str, event_id: Optional[str]) -> None:
        self.last_contact = time.time()
        if event_id:
            self._cursor = event_id
        if event == "revocation":
            try:
                body = json.loads(data)
                kind = body.get("kind") if isinstance(body.get("id"), str) else None
                if kind == "cutoff":
                    self._apply_cutoff(body.get("org"), body.get("owner"), body.get("before"))
                elif kind in ("token", "access_token", "principal"):
                    self._apply(body["kind"], body["id"], int(body.get("at", 0)))
            except (ValueError, TypeError, AttributeError):
                pass  # a malformed event is skipped; the stream continues
        elif event == "synced":
            self._synced.set()

    def _follow(self) -> None:
        parts = urllib.parse.urlsplit(self.url)
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        # The read timeout is well above the server's 1 s heartbeat: a silent socket is a dead feed.
        connection = cls(parts.hostname, parts.port, timeout=self._read_timeout)
        self._connection = connection
        headers = {"accept": "text/event-stream", "authorization": self._authorization}
        if self._cursor is not None:
            headers["last-event-id"] = self._cursor
        connection.request("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), headers=headers)
        response = connection.getresponse()
        if response.status != 200:
            raise OSError(f"revocation feed answered {response.status}")
        if self._on_status:
            self._on_status("connected", "")
        event, data, event_id = "message", [], None
        while not self._stopped.is_set():
            raw = response.readline()
            if not raw:
                raise OSError("stream ended")
            line = raw.decode("utf-8").rstrip("\r\n")
            if line == "":
                if data or event != "message":
                    self._dispatch(event, "\n".join(data), event_id)
                event, data, event_id = "message", [], None
                continue
            if line.startswith(":"):
                self.last_contact = time.time()  # heartbeat comment
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                event = value
            elif field == "data":
                data.append(value)
            elif field == "id":
                event_id = value

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self._follow()
            except Exception as error:  # noqa: BLE001 - any failure means reconnect
                if self._stopped.is_set():
                    return
                if self._on_status:
                    self._on_status("disconnected", str(error))
            finally:
                if self._connection is not None:
                    self._connection.close()
            self._stopped.wait(self._reconnect_delay)
