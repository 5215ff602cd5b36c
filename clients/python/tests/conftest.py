"""Fixtures: a real dnnprov server process, a fresh capture client per test."""
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SRC = os.path.abspath(os.path.join(HERE, "..", "src"))
sys.path.insert(0, HERE)
sys.path.insert(1, SRC)  # test this source tree, installed or not

import dnnprov  # noqa: E402


def server_bin():
    return os.environ.get("DNNPROV_BIN") or os.path.join(REPO, ".build", "debug", "dnnprov")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Asks a process to end (SIGTERM), and kills it when it has not within `timeout` seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Server:
    """`dnnprov serve` on a free port with its own database file.

    `args`: more `serve` options (`--require-tokens`, `--tls-cert ... --tls-key ...`);
    `ca_file`: serve over https, trusting this PEM; `token`: what the test's own requests send;
    `log`: the server's log file (default `<db>.log`; give one when `db` is a PostgreSQL URL).
    """

    def __init__(self, db, port=None, args=(), ca_file=None, token=None, log=None):
        self.db = db
        self.port = port or free_port()
        self.args = list(args)
        self.ca_file = ca_file
        self.token = token
        self.url = f"{'https' if ca_file else 'http'}://127.0.0.1:{self.port}"
        self.proc = None
        self.log = log or db + ".log"

    def _context(self):
        return ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None

    def start(self, wait=True):
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [server_bin(), "serve", "--port", str(self.port), "--db", self.db, *self.args],
            stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        if wait:
            self.wait_healthy()
        return self

    def wait_healthy(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dnnprov serve exited with {self.proc.returncode}; see {self.log}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1, context=self._context()) as r:
                    if r.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                time.sleep(0.05)
        raise RuntimeError("dnnprov serve did not become healthy")

    def kill(self):
        """SIGKILL: no chance to flush anything."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc:
            stop_process(self.proc)

    def request(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30, context=self._context()) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def query(self, sql, dataflow=None):
        """Rows of a read-only SQL query, as a list of dicts."""
        body = {"sql": sql}
        if dataflow:
            body["dataflow"] = dataflow
        status, ans = self.request("POST", "/api/v1/query", body)
        assert status == 200, (sql, status, ans)
        names = [c["name"] for c in ans["columns"]]
        return [dict(zip(names, row)) for row in ans["rows"]]

    def tasks(self, dataflow):
        """The tasks of the dataflow's executions, oldest first."""
        return self.query(
            "select t.id, t.identifier, t.status, t.error_msg, dt.tag as transformation, e.tag as execution "
            "from task t join data_transformation dt on dt.id = t.dt_id "
            "join dataflow_execution e on e.id = t.df_exec "
            f"join dataflow d on d.id = e.df_id where d.tag = '{dataflow}' order by t.id")


def _require_server():
    if not os.access(server_bin(), os.X_OK):
        pytest.skip(f"no dnnprov server binary at {server_bin()} (build it, or set DNNPROV_BIN)")


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    _require_server()
    s = Server(str(tmp_path_factory.mktemp("server") / "prov.sqlite")).start()
    yield s
    s.stop()


@pytest.fixture
def make_server(tmp_path):
    """Servers a test can stop, kill and restart itself."""
    _require_server()
    made = []

    def make(db=None, port=None, **kw):
        s = Server(db or str(tmp_path / f"prov{len(made)}.sqlite"), port, **kw)
        made.append(s)
        return s
    yield make
    for s in made:
        s.stop()


def assert_training_failed(server, flow: str, *texts: str) -> None:
    """The dataflow's one training task ended FAILED, its error holding each of `texts`."""
    training = [t for t in server.tasks(flow) if t["transformation"] == "trainingmodel"]
    assert len(training) == 1 and training[0]["status"] == "FAILED", training
    for text in texts:
        assert text in (training[0]["error_msg"] or ""), training[0]


def create_token(db: str, role: str) -> str:
    """`dnnprov token create` on the database the server has open (SQLite WAL shares it)."""
    out = subprocess.run([server_bin(), "token", "create", "--role", role, "--db", db],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    secret = out.strip().splitlines()[-1].strip()
    assert secret.startswith("dnp_"), out
    return secret


@pytest.fixture
def use_client(tmp_path):
    """Installs a fresh shared client for a URL, with a spool directory of its own."""
    made = []

    def install(url, **kw):
        kw.setdefault("spool_dir", str(tmp_path / "spool"))
        c = dnnprov.Client(url=url, **kw)
        made.append((c, dnnprov.set_client(c)))
        return c
    yield install
    for c, previous in reversed(made):
        c.close(5)
        dnnprov.set_client(previous)


@pytest.fixture
def subprocess_env(tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    env["DNNPROV_SPOOL_DIR"] = str(tmp_path / "spool")
    for name in ("DNNPROV_URL", "DFA_URL", "DNNPROV_TOKEN", "DNNPROV_CA_FILE"):
        env.pop(name, None)
    return env
