"""docs/deploy.md end to end: two `dnnprov serve` instances on one PostgreSQL database behind nginx
with docs/deploy/nginx.conf. A training sent through the proxy, batches retried with the same
idempotency keys on each instance (one after the other and at once), then each instance answers
with every row stored once and unique ids, and a live stream opened through the proxy shows rows
stored through either instance.

Needs DNNPROV_TEST_POSTGRES_URL (scripts/test starts a throwaway cluster and sets it), psql and
nginx; skipped without them, failed without them under DNNPROV_REQUIRE_POSTGRES=1 (CI)."""
from __future__ import annotations

import glob
import http.client
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dnnprov.training import TrainingRun

from conftest import REPO, Server, free_port, stop_process

POSTGRES_URL = os.environ.get("DNNPROV_TEST_POSTGRES_URL", "")
REQUIRED = os.environ.get("DNNPROV_REQUIRE_POSTGRES") == "1"
NGINX_CONF = Path(REPO) / "docs" / "deploy" / "nginx.conf"
# What the test replaces in docs/deploy/nginx.conf.
INSTANCE_ADDRESSES = ("127.0.0.1:22001", "127.0.0.1:22002")
LISTEN = "listen 80;"

FLOW = "deploy"
EPOCHS = 12


def _missing(what: str) -> None:
    if REQUIRED:
        pytest.fail(f"DNNPROV_REQUIRE_POSTGRES=1 but {what}")
    pytest.skip(what)


def _program(name: str, *fallbacks: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for pattern in fallbacks:
        for path in sorted(glob.glob(pattern), reverse=True):
            if os.access(path, os.X_OK):
                return path
    return None


def _psql(url: str, sql: str) -> str:
    psql = _program("psql", "/usr/lib/postgresql/*/bin/psql")
    assert psql is not None
    done = subprocess.run([psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, (sql, done.stderr)
    return done.stdout


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh database on the test's PostgreSQL server: its URL. Dropped afterwards."""
    if not POSTGRES_URL:
        _missing("DNNPROV_TEST_POSTGRES_URL is not set (scripts/test sets it when PostgreSQL is installed)")
    if _program("psql", "/usr/lib/postgresql/*/bin/psql") is None:
        _missing("psql is not installed (apt-get install postgresql-client)")
    name = f"dnnprov_deploy_{uuid.uuid4().hex[:12]}"
    _psql(POSTGRES_URL, f'CREATE DATABASE "{name}"')
    try:
        yield urllib.parse.urlsplit(POSTGRES_URL)._replace(path="/" + name).geturl()
    finally:
        # FORCE (PostgreSQL 13+): a server that failed to stop must not keep the database.
        _psql(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def render_nginx_conf(ports: tuple[int, int], listen: int) -> str:
    """docs/deploy/nginx.conf with these instances and this listen port."""
    text = NGINX_CONF.read_text()
    for address, port in zip(INSTANCE_ADDRESSES, ports):
        assert text.count(address) == 1, f"{NGINX_CONF} must name {address} once"
        text = text.replace(address, f"127.0.0.1:{port}")
    assert text.count(LISTEN) == 1, f"{NGINX_CONF} must hold '{LISTEN}' once"
    return text.replace(LISTEN, f"listen 127.0.0.1:{listen};")


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Callable[[tuple[int, int]], str]]:
    """Starts nginx with docs/deploy/nginx.conf in front of two ports: the proxy's URL."""
    binary = _program("nginx", "/usr/sbin/nginx")
    if binary is None:
        _missing("nginx is not installed (apt-get install nginx)")
    procs: list[subprocess.Popen[bytes]] = []

    def start(ports: tuple[int, int]) -> str:
        prefix = tmp_path / "nginx"
        prefix.mkdir()
        listen = free_port()
        (prefix / "dnnprov.conf").write_text(render_nginx_conf(ports, listen))
        # The main configuration an nginx package would provide, with everything under the prefix:
        # the compiled-in temp and log paths (/var/lib/nginx, /var/log/nginx) are root's.
        temp = "\n".join(f"    {kind}_temp_path {prefix / kind};"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (prefix / "nginx.conf").write_text(
            "worker_processes 1;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            f"    access_log {prefix / 'access.log'};\n"
            f"{temp}\n"
            f"    include {prefix / 'dnnprov.conf'};\n"
            "}\n")
        directives = f"daemon off; pid {prefix / 'nginx.pid'}; error_log {prefix / 'error.log'};"
        if os.geteuid() == 0:
            # As root nginx runs its workers as `nobody`, who cannot enter the test's directories.
            directives += " user root;"
        log = open(prefix / "nginx.out", "wb")
        proc = subprocess.Popen([binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", directives],
                                stdout=log, stderr=subprocess.STDOUT)
        log.close()
        procs.append(proc)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            try:
                socket.create_connection(("127.0.0.1", listen), timeout=1).close()
                return f"http://127.0.0.1:{listen}"
            except OSError:
                time.sleep(0.05)
        logs = "".join(p.read_text(errors="replace")
                       for p in (prefix / "nginx.out", prefix / "error.log") if p.exists())
        raise RuntimeError(f"nginx did not start (exit {proc.poll()}):\n{logs}")

    yield start
    for proc in procs:
        stop_process(proc)


class LiveStream:
    """A reader of GET /api/v1/dataflows/{tag}/live on a thread: the events it received."""

    def __init__(self, base: str, path: str) -> None:
        url = urllib.parse.urlsplit(base)
        self.address = (url.hostname or "127.0.0.1", url.port or 80)
        self.path = path
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.error: Exception | None = None
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._opened = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)

    def __enter__(self) -> LiveStream:
        self._thread.start()
        assert self._opened.wait(30), "the live stream did not open"
        if self.error is not None:
            raise AssertionError(f"the live stream failed: {self.error!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        # Shut the socket down rather than close the response: a close would wait for the
        # reading thread's read, up to the next keep-alive comment.
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(5)

    def _read(self) -> None:
        try:
            conn = http.client.HTTPConnection(*self.address, timeout=60)
            conn.sock = self._sock = socket.create_connection(self.address, timeout=60)
            conn.request("GET", self.path, headers={"Accept": "text/event-stream"})
            response = conn.getresponse()
            assert response.status == 200, (response.status, response.read(1000))
            assert response.headers.get("Content-Type", "").startswith("text/event-stream"), response.headers
            self._opened.set()
            kind, data = "message", ""
            while raw := response.readline():
                line = raw.decode().rstrip("\r\n")
                if not line:  # the end of an event
                    if data:
                        with self._lock:
                            self.events.append((kind, json.loads(data)))
                    kind, data = "message", ""
                elif line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:"):
                    data += line[5:].strip()
        except Exception as e:  # reported to the test, which waits for events
            self.error = e
        finally:
            self._opened.set()

    def executions(self) -> set[str]:
        """The executions named by the `rows` and `run` events received so far."""
        with self._lock:
            return {d["execution"] for kind, d in self.events if kind in ("rows", "run") and "execution" in d}


def epoch_event(execution: str, key: str, epoch: int, status: str = "RUNNING") -> dict[str, Any]:
    return {"key": key, "dataflow": FLOW, "execution": execution, "transformation": "trainingmodel", "task": "1",
            "status": status, "sets": [{"tag": "otrainingmodel", "attributes": ["epoch", "loss"],
                                        "elements": [[epoch, 1.0 / epoch]]}]}


def post_batch(server: Server, events: list[dict[str, Any]]) -> dict[str, Any]:
    status, ack = server.request("POST", "/api/v1/batch", {"events": events})
    assert status == 200, (server.url, status, ack)
    return ack


def stored_rows(server: Server, execution: str) -> tuple[list[int], list[int]]:
    """The ids and epochs of the execution's oTrainingModel rows, as this instance reads them."""
    status, ans = server.request(
        "GET", f"/api/v1/dataflows/{FLOW}/sets/otrainingmodel/rows?execution={execution}&limit=100000")
    assert status == 200, (server.url, execution, status, ans)
    names = [c["name"] if isinstance(c, dict) else c for c in ans["columns"]]
    rows = [dict(zip(names, row)) for row in ans["rows"]]
    return [int(r["id"]) for r in rows], [int(r["epoch"]) for r in rows]


def test_two_instances_on_one_database_behind_nginx(database: str, make_server: Callable[..., Server],
                                                    nginx: Callable[[tuple[int, int]], str],
                                                    use_client: Callable[..., Any], tmp_path: Path) -> None:
    # Both at once: the schema migrations at start must not race (an advisory lock).
    a = make_server(db=database, log=str(tmp_path / "a.log")).start(wait=False)
    b = make_server(db=database, log=str(tmp_path / "b.log")).start(wait=False)
    a.wait_healthy(60)
    b.wait_healthy(60)
    proxy = nginx((a.port, b.port))
    with urllib.request.urlopen(proxy + "/health", timeout=10) as r:
        assert r.status == 200 and json.loads(r.read())["status"], "health through nginx"

    # A training through nginx: the dataflow registered, one request per epoch (round robin).
    client = use_client(proxy)
    run = TrainingRun(FLOW, hyperparameters={"optimizer_name": "adam", "learning_rate": 0.01},
                      execution="via-nginx", adaptation=False, client=client)
    run.start()
    assert client.flush(30)
    for epoch in range(1, EPOCHS + 1):
        run.epoch(loss=1.0 / epoch, accuracy=epoch / EPOCHS)
        assert client.flush(30)
    run.finish()
    assert client.flush(30)
    stats = client.stats()
    assert stats.get("dropped", 0) == 0 and stats.get("spooled", 0) == 0, ("acknowledged through nginx", stats)

    # The same batch on each instance in turn: stored by the first, duplicates on the second.
    first = [epoch_event("idem", f"idem-{e}", e) for e in range(1, 6)]
    assert post_batch(a, first)["stored"] == 5
    again = post_batch(b, first)
    assert (again["stored"], again["duplicates"]) == (0, 5), again
    # The same keys with other content on the other instance: refused, nothing stored.
    changed = [dict(ev, sets=[{"tag": "otrainingmodel", "attributes": ["epoch", "loss"], "elements": [[99, 9.0]]}])
               for ev in first]
    assert b.request("POST", "/api/v1/batch", {"events": changed})[0] == 409

    # And on both instances at the same moment, a few times: each key stored by exactly one.
    for attempt in range(3):
        batch = [epoch_event(f"race-{attempt}", f"race-{attempt}-{e}", e) for e in range(1, 21)]
        answers: dict[int, tuple[int, Any]] = {}
        start = threading.Barrier(2)

        def send(i: int, server: Server, batch: list[dict[str, Any]] = batch,
                 answers: dict[int, tuple[int, Any]] = answers, start: threading.Barrier = start) -> None:
            start.wait()
            answers[i] = server.request("POST", "/api/v1/batch", {"events": batch})
        threads = [threading.Thread(target=send, args=(i, s)) for i, s in enumerate((a, b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(answers) == 2 and all(status == 200 for status, _ in answers.values()), answers
        acks = [ack for _, ack in answers.values()]
        assert sum(ack["stored"] for ack in acks) == 20, acks
        assert sum(ack["duplicates"] for ack in acks) == 20, acks

    # A live stream through nginx (on one instance or the other) sees rows stored through each
    # instance directly: so through the instance it is not connected to.
    acknowledged = {"direct-a": 0, "direct-b": 0}
    with LiveStream(proxy, f"/api/v1/dataflows/{FLOW}/live") as live:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not set(acknowledged) <= live.executions():
            for name, server in (("direct-a", a), ("direct-b", b)):
                n = acknowledged[name] + 1
                assert post_batch(server, [epoch_event(name, f"{name}-{n}", n)])["stored"] == 1
                acknowledged[name] = n
            time.sleep(0.5)
        seen = live.executions()
        assert set(acknowledged) <= seen, \
            f"live events through nginx named only {sorted(seen)} (stream error: {live.error!r})"

    # Each instance reads every row exactly once, with ids unique over the whole set.
    expected = {"via-nginx": EPOCHS, "idem": 5, "race-0": 20, "race-1": 20, "race-2": 20, **acknowledged}
    readings = []
    for server in (a, b):
        ids: list[int] = []
        epochs: dict[str, list[int]] = {}
        for execution in expected:
            row_ids, epochs[execution] = stored_rows(server, execution)
            ids += row_ids
        for execution, n in expected.items():
            assert sorted(epochs[execution]) == list(range(1, n + 1)), (server.url, execution, epochs[execution])
        assert len(ids) == len(set(ids)), (server.url, "duplicate row ids")
        readings.append((sorted(ids), epochs))
    assert readings[0] == readings[1], "both instances read the same rows"

    # One execution per name, whichever instance created it.
    for server in (a, b):
        status, executions = server.request("GET", f"/api/v1/dataflows/{FLOW}/executions")
        assert status == 200, (status, executions)
        tags = [e["tag"] for e in executions]
        assert sorted(tags) == sorted(expected), (server.url, tags)
