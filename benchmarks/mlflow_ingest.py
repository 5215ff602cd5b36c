"""MLflow side by side with `dnnprov-bench ingest`: the same per-epoch rows (10 metric values
per epoch, 100 epochs per run, 7 hyperparameters per run) logged with `MlflowClient.log_batch`
from N threads to an `mlflow server` on loopback with a SQLite backend. Prints metric values
acknowledged per second.

    python benchmarks/mlflow_ingest.py [--threads 1,8,64] [--seconds 10]

The server command is $MLFLOW_BIN, else the `mlflow` next to this Python. The client only needs
mlflow-skinny; the server needs the full `mlflow` package (SQLAlchemy, Alembic, Flask).
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")

METRICS = ["elapsed_time", "loss", "accuracy", "epoch", "val_loss", "val_accuracy", "lr",
           "top5_accuracy", "val_top5_accuracy", "timestamp"]
PARAMS = {"optimizer_name": "adam", "learning_rate": "0.001", "num_epochs": "100", "num_layers": "8",
          "batch_size": "32", "momentum": "0.9", "decay": "0"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(workers):
    """(url, process, work directory), or (None, None, why not)."""
    binary = os.environ.get("MLFLOW_BIN") or os.path.join(os.path.dirname(sys.executable), "mlflow")
    if not os.path.exists(binary):
        binary = shutil.which("mlflow")
    if not binary:
        return None, None, "no mlflow command"
    work = tempfile.mkdtemp(prefix="mlflow-bench-")
    port = free_port()
    log = open(os.path.join(work, "server.log"), "wb")
    proc = subprocess.Popen(
        [binary, "server", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
         "--backend-store-uri", f"sqlite:///{work}/mlflow.db", "--default-artifact-root", f"{work}/artifacts"],
        stdout=log, stderr=subprocess.STDOUT, cwd=work,
        # Its own process group: `mlflow server` leaves uvicorn and job workers behind when only
        # it is terminated.
        start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = open(os.path.join(work, "server.log"), "rb").read()[-400:].decode(errors="replace")
            stop_server(proc)
            shutil.rmtree(work, ignore_errors=True)
            return None, None, f"mlflow server exited ({proc.returncode}): {tail.strip()}"
        try:
            with urllib.request.urlopen(url + "/health", timeout=1):
                return url, proc, work
        except OSError:
            time.sleep(0.2)
    stop_server(proc)
    shutil.rmtree(work, ignore_errors=True)
    return None, None, "mlflow server did not answer"


def stop_server(proc):
    """Ends the server's whole process group."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; its workers may not be.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return


def worker(client, experiment, deadline, out, lock, latencies, errors):
    from mlflow.entities import Metric, Param
    values = 0
    while time.monotonic() < deadline:
        try:
            values += one_run(client, experiment, latencies, Metric, Param)
        except Exception as e:  # the server refuses under load (e.g. its SQL connection pool): count, go on
            with lock:
                errors.append(str(e)[:120])
            time.sleep(0.05)
    with lock:
        out.append(values)


def one_run(client, experiment, latencies, Metric, Param):
    """One run: its parameters, 100 epochs of 10 metrics in one log_batch, terminated."""
    run = client.create_run(experiment)
    rid = run.info.run_id
    client.log_batch(rid, params=[Param(k, v) for k, v in PARAMS.items()])
    now = int(time.time() * 1000)
    metrics = []
    for epoch in range(1, 101):
        acc = 0.3 + 0.6 * (1 - 1 / (epoch + 1))
        loss = 2.3 / (epoch + 1)
        vals = [12.5, loss, acc, epoch, loss * 1.1, acc * 0.97, 0.001, min(1, acc + 0.05), min(1, acc + 0.03), now]
        metrics.extend(Metric(k, float(v), now, epoch) for k, v in zip(METRICS, vals))
    # log_batch takes at most 1000 metrics: one call per run of 100 epochs x 10 values.
    start = time.monotonic()
    client.log_batch(rid, metrics=metrics)
    latencies.append(time.monotonic() - start)
    client.set_terminated(rid)
    return len(metrics) + len(PARAMS)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="1,8,64")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--workers", type=int, default=2, help="mlflow server workers")
    ap.add_argument("--batch-size", default=None, help="ignored (MLflow's log_batch limit is 1000 metrics)")
    args = ap.parse_args()
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        print("MLflow: skipped (mlflow is not installed for", sys.executable + ")")
        return
    url, proc, work = start_server(args.workers)
    if url is None:
        print("MLflow: skipped:", work)
        return
    try:
        client = MlflowClient(tracking_uri=url)
        print(f"mlflow server on {url}, SQLite backend, {args.workers} worker(s); log_batch of 1000 metric values per call")
        print("threads  values/s     log_batch p50 ms  p99 ms  (values of acknowledged calls only)")
        for n in [int(x) for x in args.threads.split(",") if x.strip()]:
            experiment = client.create_experiment(f"bench-{n}-{time.time()}")
            out, lock, latencies, errors = [], threading.Lock(), [], []
            start = time.monotonic()
            deadline = start + args.seconds
            threads = [threading.Thread(target=worker, args=(MlflowClient(tracking_uri=url), experiment, deadline, out, lock, latencies, errors))
                       for _ in range(n)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.monotonic() - start
            lat = sorted(latencies) or [float("nan")]
            p50 = lat[len(lat) // 2] * 1000
            p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
            note = f"  {len(errors)} failed call(s), e.g. {errors[0]}" if errors else ""
            print(f"{n:<8} {sum(out) / elapsed:<12,.0f} {p50:<17.1f} {p99:<7.1f}{note}")
    finally:
        stop_server(proc)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
