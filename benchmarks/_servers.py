"""Starting the servers the benchmarks talk to (a dnnprov, an MLflow) on loopback."""
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def dnnprov_server():
    """(url, process or None): DNNPROV_URL when set, else a fresh `dnnprov serve` on a
    temporary database."""
    if os.environ.get("DNNPROV_URL"):
        return os.environ["DNNPROV_URL"], None
    # A throw-away server: keep its spool (if any) out of the user's cache too.
    os.environ.setdefault("DNNPROV_SPOOL_DIR", tempfile.mkdtemp(prefix="dnnprov-bench-spool-"))
    binary = os.environ.get("DNNPROV_BIN") or os.path.join(REPO, ".build", "debug", "dnnprov")
    port = free_port()
    db = os.path.join(tempfile.mkdtemp(prefix="dnnprov-bench-"), "bench.sqlite")
    proc = subprocess.Popen([binary, "serve", "--port", str(port), "--db", db],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/health", proc)
    return url, proc


def mlflow_server():
    """(url, process) of `mlflow server` on loopback with a SQLite store, or (None, None) when
    the mlflow client or the server command is not available. MLFLOW_BIN names the command."""
    try:
        import mlflow  # noqa: F401
    except ImportError:
        return None, None
    binary = os.environ.get("MLFLOW_BIN") or shutil.which("mlflow")
    if not binary:
        return None, None
    work = tempfile.mkdtemp(prefix="mlflow-bench-")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{work}/mlflow.db", "--default-artifact-root", f"{work}/artifacts"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/health", proc, timeout=120)
    except RuntimeError:
        proc.kill()
        return None, None
    return url, proc
