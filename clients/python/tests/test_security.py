"""The client side of the server's protections: it honours 429 + Retry-After (backpressure),
talks HTTPS to a server whose certificate a private CA signed (DNNPROV_CA_FILE), and sends its
token on every request (DNNPROV_TOKEN, or DfAnalyzer's /t/<secret>/ URL prefix)."""
from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import time
from email.utils import formatdate
from pathlib import Path

import pytest
from test_queue_spool import capture_run

import dnnprov
from dnnprov import sender as sender_mod
from dnnprov.transport import parse_retry_after, redact, split_path_token

from conftest import create_token
from fakeserver import FakeServer


@pytest.fixture
def fake():
    f = FakeServer()
    yield f
    f.close()


def wait_until(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


# -- backpressure: 429 + Retry-After ---------------------------------------------------------


def gap_after_busy(fake: FakeServer) -> float:
    """Seconds between the first 429 and the next request the client made."""
    requests = list(fake.requests)
    busy = [r[3] for r in requests if r[2] == 429]
    assert busy, requests
    later = [r[3] for r in requests if r[3] > busy[0]]
    assert later, f"the client never came back: {requests}"
    return later[0] - busy[0]


def test_retry_after_is_parsed_as_seconds_or_http_date():
    now = time.time()
    assert parse_retry_after("1") == 1.0
    assert parse_retry_after(" 30 ") == 30.0
    assert parse_retry_after(formatdate(now + 120, usegmt=True), now=now) == pytest.approx(120, abs=1)
    assert parse_retry_after(formatdate(now - 120, usegmt=True), now=now) == 0.0  # in the past
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None


def test_429_retry_after_is_waited_and_nothing_is_lost(fake, use_client):
    fake.busy_batches = 1
    fake.retry_after = "1"
    use_client(fake.url)
    capture_run(epochs=10)
    assert wait_until(lambda: any(r[2] == 429 for r in fake.requests))
    # The training thread is never the one that waits.
    t0 = time.perf_counter()
    capture_run("flow2", epochs=50)
    assert time.perf_counter() - t0 < 0.5
    assert wait_until(lambda: len(fake.events) == 12 + 52, timeout=20)

    gap = gap_after_busy(fake)
    assert gap >= 0.95, f"next request {gap:.3f}s after the 429"
    # Exactly once, in order: the refused batch was kept (spooled) and replayed first.
    assert fake.duplicates == 0 and len(fake.keys) == len(fake.events)
    assert [r[4] for r in fake.rows("otrainingmodel")] == list(range(1, 11)) + list(range(1, 51))
    assert [d["tag"] for d in fake.dataflows] == ["flow", "flow2"]


def test_retry_after_is_capped(fake, use_client, monkeypatch):
    """A server asking for an hour does not stall delivery for an hour."""
    monkeypatch.setattr(sender_mod, "MAX_RETRY_AFTER", 0.5)
    fake.busy_batches = 1
    fake.retry_after = "3600"
    use_client(fake.url)
    capture_run(epochs=3)
    assert wait_until(lambda: len(fake.events) == 5, timeout=10), fake.requests
    assert 0.45 <= gap_after_busy(fake) < 5


# -- shared helpers for the real-server tests ------------------------------------------------

RUN_SCRIPT = textwrap.dedent("""
    import dnnprov
    df = dnnprov.Dataflow("{flow}", True)
    df.save()
    t = dnnprov.Task(1, "{flow}", "TrainingModel")
    t.add_dataset(dnnprov.DataSet("iTrainingModel", [dnnprov.Element(["adam", 0.001, 3, 8, 32, None, None])]))
    t.begin()
    for e in range(1, 4):
        t.add_dataset(dnnprov.DataSet("oTrainingModel", [dnnprov.Element(["t", 1.0, 0.5, 0.5, e])]))
        t.save()
    t.end()
    print("script done")
""")

DFA_SCRIPT = textwrap.dedent("""
    from dfa_lib_python.dataflow import Dataflow
    from dfa_lib_python.transformation import Transformation
    from dfa_lib_python.attribute import Attribute
    from dfa_lib_python.attribute_type import AttributeType
    from dfa_lib_python.set import Set
    from dfa_lib_python.set_type import SetType
    from dfa_lib_python.task import Task
    from dfa_lib_python.dataset import DataSet
    from dfa_lib_python.element import Element

    df = Dataflow("{flow}")
    tf = Transformation("TrainingModel")
    tf.set_sets([Set("oTrainingModel", SetType.OUTPUT,
                     [Attribute("LOSS", AttributeType.NUMERIC), Attribute("EPOCH", AttributeType.NUMERIC)])])
    df.add_transformation(tf)
    df.save()
    t = Task(1, "{flow}", "TrainingModel")
    t.begin()
    t.add_dataset(DataSet("oTrainingModel", [Element([0.25, 1])]))
    t.end()
""")


def run_script(tmp_path: Path, env: dict, template: str, flow: str) -> subprocess.CompletedProcess:
    """Runs a capture script in a fresh interpreter (so the environment variables are what
    configures the client); it must exit 0 whatever the server says."""
    script = tmp_path / f"{flow}.py"
    script.write_text(template.format(flow=flow))
    proc = subprocess.run([sys.executable, str(script)], env=dict(env, DNNPROV_EXIT_TIMEOUT="3"),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc


def dataflow_count(server, flow: str) -> int:
    return server.query(f"select count(*) as n from dataflow where tag = '{flow}'")[0]["n"]


def epochs(server, flow: str) -> list:
    return [r["epoch"] for r in server.query("select epoch from ds_otrainingmodel order by id", flow)]


def dnnprov_warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("dnnprov:")]


# -- HTTPS with a private CA -----------------------------------------------------------------


@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 / localhost and its key, made by the openssl CLI."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    return str(cert), str(key)


@pytest.fixture
def tls_server(make_server, self_signed):
    cert, key = self_signed
    return make_server(args=["--tls-cert", cert, "--tls-key", key], ca_file=cert).start()


def test_https_with_the_ca_file_stores_the_run(tls_server, tmp_path, subprocess_env):
    assert tls_server.url.startswith("https://")
    env = dict(subprocess_env, DNNPROV_URL=tls_server.url, DNNPROV_CA_FILE=tls_server.ca_file)
    proc = run_script(tmp_path, env, RUN_SCRIPT, "tlsflow")
    assert dnnprov_warnings(proc.stderr) == []
    assert epochs(tls_server, "tlsflow") == [1, 2, 3]  # queried over https, trusting the same CA
    assert [t["status"] for t in tls_server.tasks("tlsflow")] == ["FINISHED"]


def test_https_without_the_ca_file_warns_and_stores_nothing(tls_server, tmp_path, subprocess_env):
    env = dict(subprocess_env, DNNPROV_URL=tls_server.url)
    proc = run_script(tmp_path, env, RUN_SCRIPT, "untrusted")
    assert "script done" in proc.stdout
    assert "Traceback" not in proc.stderr
    warning = dnnprov_warnings(proc.stderr)[0]
    assert "not trusted" in warning and "DNNPROV_CA_FILE" in warning, proc.stderr
    assert dataflow_count(tls_server, "untrusted") == 0


def test_ca_file_argument_configures_the_client(tls_server, use_client):
    use_client(tls_server.url, ca_file=tls_server.ca_file)
    capture_run("tlsarg", epochs=2)
    assert dnnprov.flush(10)
    assert wait_until(lambda: len(epochs(tls_server, "tlsarg")) == 2, timeout=10)


# -- tokens ----------------------------------------------------------------------------------


@pytest.fixture
def auth_server(make_server):
    server = make_server(args=["--require-tokens"]).start()
    server.token = create_token(server.db, "writer")  # the test's own queries
    return server


def test_writer_token_stores_the_run(auth_server, tmp_path, subprocess_env):
    env = dict(subprocess_env, DNNPROV_URL=auth_server.url, DNNPROV_TOKEN=create_token(auth_server.db, "writer"))
    proc = run_script(tmp_path, env, RUN_SCRIPT, "withtoken")
    assert dnnprov_warnings(proc.stderr) == []
    assert epochs(auth_server, "withtoken") == [1, 2, 3]


def test_missing_token_is_reported_once_and_nothing_stored(auth_server, tmp_path, subprocess_env):
    env = dict(subprocess_env, DNNPROV_URL=auth_server.url)
    proc = run_script(tmp_path, env, RUN_SCRIPT, "notoken")
    assert "script done" in proc.stdout and "Traceback" not in proc.stderr
    warnings = dnnprov_warnings(proc.stderr)
    assert len(warnings) == 1, proc.stderr  # the dataflow and every batch were refused: one line
    assert "401" in warnings[0] and "DNNPROV_TOKEN" in warnings[0]
    assert dataflow_count(auth_server, "notoken") == 0


def test_reader_token_cannot_write(auth_server, tmp_path, subprocess_env):
    env = dict(subprocess_env, DNNPROV_URL=auth_server.url, DNNPROV_TOKEN=create_token(auth_server.db, "reader"))
    proc = run_script(tmp_path, env, RUN_SCRIPT, "readeronly")
    warnings = dnnprov_warnings(proc.stderr)
    assert len(warnings) == 1 and "403" in warnings[0], proc.stderr
    assert dataflow_count(auth_server, "readeronly") == 0


def test_dfanalyzer_url_with_a_token_prefix(auth_server, tmp_path, subprocess_env):
    """Old scripts cannot send headers: DFA_URL=http://host:port/t/<secret>/ carries the token."""
    secret = create_token(auth_server.db, "writer")
    env = dict(subprocess_env, DFA_URL=f"{auth_server.url}/t/{secret}/")
    proc = run_script(tmp_path, env, DFA_SCRIPT, "dfatoken")
    assert dnnprov_warnings(proc.stderr) == []
    assert [(t["transformation"], t["identifier"], t["status"]) for t in auth_server.tasks("dfatoken")] == [
        ("trainingmodel", "1", "FINISHED")]
    assert auth_server.query("select loss, epoch from ds_otrainingmodel", "dfatoken") == [{"loss": 0.25, "epoch": 1}]


def test_a_bad_token_in_the_url_is_not_logged(auth_server, tmp_path, subprocess_env):
    env = dict(subprocess_env, DFA_URL=f"{auth_server.url}/t/dnp_not-a-real-secret/")
    proc = run_script(tmp_path, env, DFA_SCRIPT, "dfabadtoken")
    assert "dnp_not-a-real-secret" not in proc.stderr
    warnings = dnnprov_warnings(proc.stderr)
    assert len(warnings) == 1 and "401" in warnings[0] and "/t/***" in warnings[0], proc.stderr
    assert dataflow_count(auth_server, "dfabadtoken") == 0


def test_path_token_becomes_the_bearer_header(fake, use_client):
    """The /t/<secret> of a DfAnalyzer URL authenticates the /api/v1 requests too (as a header:
    the server accepts the path form on DfAnalyzer routes only); an explicit token wins."""
    use_client(fake.url + "/t/dnp_from_url/")
    capture_run(epochs=1)
    assert dnnprov.flush(10)
    assert set(fake.auth) == {"Bearer dnp_from_url"}
    assert {r[1] for r in fake.requests} == {"/api/v1/dataflows", "/api/v1/batch"}
    fake.auth.clear()
    use_client(fake.url + "/t/dnp_from_url/", token="dnp_explicit")
    capture_run("flow2", epochs=1)
    assert dnnprov.flush(10)
    assert set(fake.auth) == {"Bearer dnp_explicit"}


def test_split_path_token_keeps_other_prefixes():
    assert split_path_token("/t/dnp_a/") == ("", "dnp_a")
    assert split_path_token("/prov/t/dnp_a") == ("/prov", "dnp_a")
    assert split_path_token("/prov/") == ("/prov", None)
    assert split_path_token("") == ("", None)


def test_redact_hides_only_the_path_secret():
    assert redact("http://h:1/t/dnp_abc/") == "http://h:1/t/***/"
    assert redact("https://h/t/dnp_abc") == "https://h/t/***"
    assert redact("http://h:22000") == "http://h:22000"
