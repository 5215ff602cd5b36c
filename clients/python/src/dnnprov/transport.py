"""One kept-alive HTTP(S) connection to the server (used by the sender thread only)."""
from __future__ import annotations

import email.utils
import http.client
import json
import re
import socket
import ssl
import time
import urllib.parse
from datetime import timezone
from typing import Any, NamedTuple


class Response(NamedTuple):
    """A server's answer: the status, the decoded JSON body (or text, or None), and the
    `Retry-After` delay in seconds when the server sent one (429, 503). The sender uses a
    status of None for "no answer" (server unreachable)."""
    status: int | None
    payload: Any
    retry_after: float | None = None


class CAFileError(OSError):
    """DNNPROV_CA_FILE (or ca_file=) cannot be read as PEM certificates."""


class Transport:
    def __init__(self, url: str, token: str | None = None, ca_file: str | None = None,
                 connect_timeout: float = 3.0, timeout: float = 30.0) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"unsupported server URL {url!r}")
        self.url = url
        # What logs show: a DfAnalyzer-style URL carries its secret in the path (/t/<secret>/).
        self.display_url = redact(url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "localhost"
        self._port = parts.port or (443 if self._https else 80)
        # A DfAnalyzer-style URL (DFA_URL=http://host:22000/t/<secret>/) names its token in the
        # path, which the server only accepts on the DfAnalyzer routes: for /api/v1 the secret
        # goes in the Authorization header instead. An explicit token (DNNPROV_TOKEN) wins,
        # as DNNPROV_URL wins over DFA_URL. Any other path prefix (a reverse proxy's) is kept.
        self._base, path_token = split_path_token(parts.path)
        token = token or path_token
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._ca_file = ca_file
        self._tls: ssl.SSLContext | None = None
        self._connect_timeout = connect_timeout
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def _tls_context(self) -> ssl.SSLContext:
        """Built on first use, on the sender thread: a CA file that cannot be read must become
        a logged delivery failure, never an exception in the training code."""
        if self._tls is None:
            try:
                self._tls = ssl.create_default_context(cafile=self._ca_file)
            except (OSError, ssl.SSLError) as e:
                raise CAFileError(f"cannot load the CA file {self._ca_file!r} (DNNPROV_CA_FILE): {e}") from e
        return self._tls

    def _connect(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection
        if self._https:
            conn = http.client.HTTPSConnection(self._host, self._port, timeout=self._connect_timeout,
                                               context=self._tls_context())
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self._connect_timeout)
        conn.connect()
        conn.sock.settimeout(self._timeout)
        try:
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        return conn

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def request(self, method: str, path: str, body: Any = None) -> Response:
        """Returns the server's `Response`. Raises OSError / HTTPException when the server
        cannot be reached, the connection breaks or TLS fails (`ssl.SSLError` is an OSError)."""
        data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        for attempt in (0, 1):
            reused = self._conn is not None
            if self._conn is None:
                self._conn = self._connect()
            try:
                self._conn.request(method, self._base + path, body=data, headers=self._headers)
                resp = self._conn.getresponse()
                raw = resp.read()
            except (OSError, http.client.HTTPException):
                self.close()
                # A kept-alive connection the server closed meanwhile: one fresh try.
                if reused and attempt == 0:
                    continue
                raise
            if resp.getheader("Connection", "").lower() == "close":
                self.close()
            try:
                payload = json.loads(raw) if raw else None
            except ValueError:
                payload = raw.decode("utf-8", "replace")
            return Response(resp.status, payload, parse_retry_after(resp.getheader("Retry-After")))
        raise OSError("unreachable")


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header: delay-seconds or an HTTP date (RFC 9110
    10.2.3). None when absent or unreadable; never negative."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:  # Python < 3.10 returns None for garbage
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


_SECRET_IN_PATH = re.compile(r"/t/[^/?#]+")
_TRAILING_PATH_TOKEN = re.compile(r"^(?P<base>.*)/t/(?P<token>[^/]+)$")


def split_path_token(path: str) -> tuple[str, str | None]:
    """A URL path without its trailing slash, split into the prefix to keep and the
    `/t/<secret>` token at its end, if any: "/prov/t/dnp_x/" -> ("/prov", "dnp_x")."""
    path = path.rstrip("/")
    m = _TRAILING_PATH_TOKEN.match(path)
    if m is None:
        return path, None
    return m.group("base"), urllib.parse.unquote(m.group("token"))


def redact(url: str) -> str:
    """The URL with a /t/<secret> path token hidden, for log messages."""
    return _SECRET_IN_PATH.sub("/t/***", url, count=1)


def explain(error: BaseException, url: str) -> str:
    """A log line for a failed request; TLS problems say what to configure."""
    if isinstance(error, CAFileError):
        return f"{error}; nothing can be sent to {url} until it is fixed"
    if isinstance(error, ssl.SSLCertVerificationError):
        reason = error.verify_message or str(error)
        return (f"the TLS certificate of {url} is not trusted ({reason}); set DNNPROV_CA_FILE "
                f"(or ca_file=) to the PEM file of the CA that signed it")
    if isinstance(error, ssl.SSLError):
        return f"TLS handshake with {url} failed ({error}); is it an https server, and is DNNPROV_CA_FILE right?"
    return f"server {url} unreachable ({error})"
