"""`dnnprov import mlflow|tensorboard|csv` against real producers: a real `mlflow server` with runs
logged by the mlflow client, event files written by tensorboardX, a Keras CSVLogger file from a
tiny fit. Each is imported twice through a real dnnprov server: the rows equal what was logged,
stored once; the seeds' query and the runs API answer for the imported runs (docs/import.md)."""
import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import free_port, server_bin, stop_process
from digits import close

SEEDS_QUERY = "select trainingmodel_task_id, max(accuracy), min(loss) from ds_otrainingmodel group by 1"


def dnnprov_import(*args):
    """Runs `dnnprov import ...`; returns its JSON summary."""
    r = subprocess.run([server_bin(), "import", *args], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def import_twice(args, runs, rows):
    """Imports twice: the first stores `rows` rows of `runs` runs; the second stores nothing."""
    first = dnnprov_import(*args)
    assert (first["runs"], first["rows"], first["duplicates"]) == (runs, rows, 0), first
    second = dnnprov_import(*args)
    assert (second["runs"], second["rows"], second["events"]) == (runs, 0, 0), second
    assert second["duplicates"] == first["events"]
    return first


def metric_rows(server, flow, execution, index):
    return server.query(
        "select o.* from ds_otrainingmodel o join task t on t.id = o.trainingmodel_task_id "
        f"join dataflow_execution e on e.id = t.df_exec where e.tag = '{execution}' order by o.{index}", flow)


def runs_by_execution(server, flow):
    status, ans = server.request("GET", f"/api/v1/dataflows/{flow}/runs")
    assert status == 200, ans
    return {r["execution"]: r for r in ans["runs"]}


def check_seeds_query(server, flow, expected):
    """expected: execution -> (max accuracy, min loss)."""
    got = {r["trainingmodel_task_id"]: r for r in server.query(SEEDS_QUERY, flow)}
    tasks = {t["execution"]: t["id"] for t in server.tasks(flow)}
    assert set(tasks) == set(expected)
    for execution, (acc, loss) in expected.items():
        r = got[tasks[execution]]
        assert close(r["max(accuracy)"], acc) and close(r["min(loss)"], loss), (execution, r)


# MARK: MLflow


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    try:
        import mlflow  # noqa: F401
    except ImportError:
        pytest.skip("mlflow is not installed (pip install './clients/python[test]')")
    d = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    log = open(d / "server.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", f"sqlite:///{d / 'mlflow.db'}", "--default-artifact-root", str(d / "artifacts"),
         "--workers", "1"],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        if proc.poll() is not None:
            pytest.skip(f"mlflow server exited with {proc.returncode}: {(d / 'server.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.skip("mlflow server did not answer /health within 180 s")
        time.sleep(0.5)
    yield url
    stop_process(proc, timeout=20)
    log.close()


def test_mlflow_runs_imported_twice_stored_once(mlflow_server, make_server):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_server)
    exp = client.create_experiment("digits-mlflow")
    client.create_experiment("other")  # not imported: --experiment chooses
    logged = {}
    for name, lr, status in [("good", 0.01, "FINISHED"), ("broken", 0.1, "FAILED")]:
        run = client.create_run(exp, run_name=name)
        rid = run.info.run_id
        client.log_param(rid, "Learning Rate", lr)
        client.log_param(rid, "optimizer", "sgd")
        history = []
        for step in range(5 if status == "FINISHED" else 3):
            loss, acc = 2.0 / (step + 1) + lr, 0.2 + 0.15 * step
            client.log_metric(rid, "loss", loss, step=step)
            client.log_metric(rid, "accuracy", acc, step=step)
            history.append((step, loss, acc))
        client.log_metric(rid, "val_loss", 9.5, step=1)  # another metric at one step only
        client.set_terminated(rid, status=status)
        logged[rid] = (name, lr, status, history)

    server = make_server().start()
    flow = "mlf"
    import_twice(["mlflow", "--tracking-uri", mlflow_server, "--experiment", "digits-mlflow",
                  "--dataflow", flow, "--url", server.url], runs=2, rows=(5 + 3) + 2 * 2)

    runs = runs_by_execution(server, flow)
    assert set(runs) == {f"mlflow-{rid}" for rid in logged}
    for rid, (_name, lr, status, history) in logged.items():
        execution = f"mlflow-{rid}"
        rows = metric_rows(server, flow, execution, "step")
        assert [r["step"] for r in rows] == [h[0] for h in history]
        for r, (_step, loss, acc) in zip(rows, history):
            assert close(r["loss"], loss) and close(r["accuracy"], acc) and r["timestamp"]
        assert [r["val_loss"] for r in rows][1] == 9.5 and rows[0]["val_loss"] is None
        summary = runs[execution]
        assert summary["status"] == status
        assert close(summary["params"]["itrainingmodel"]["learning_rate"], lr)
        assert summary["params"]["itrainingmodel"]["optimizer"] == "sgd"
        assert summary["params"]["iimport"]["source"] == "mlflow"
        assert summary["params"]["iimport"]["source_id"] == rid
        assert summary["script"] == f"mlflow:{mlflow_server}#{rid}"
    tasks = {t["execution"]: t for t in server.tasks(flow)}
    broken = next(rid for rid, v in logged.items() if v[0] == "broken")
    assert tasks[f"mlflow-{broken}"]["status"] == "FAILED" and "MLflow" in tasks[f"mlflow-{broken}"]["error_msg"]
    check_seeds_query(server, flow, {f"mlflow-{rid}": (max(h[2] for h in v[3]), min(h[1] for h in v[3]))
                                     for rid, v in logged.items()})


def test_mlflow_unreachable_names_the_url(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    r = subprocess.run([server_bin(), "import", "mlflow", "--tracking-uri", dead, "--dataflow", "x",
                        "--db", str(tmp_path / "p.sqlite")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and f"cannot reach the MLflow tracking server at {dead}" in r.stderr, r.stderr


# MARK: TensorBoard


def test_tensorboardx_event_files_imported_twice_stored_once(tmp_path, make_server):
    tbx = pytest.importorskip("tensorboardX")
    root = tmp_path / "runs"
    logged = {}
    for name, scale in [("adam", 1.0), ("sgd/lr0.1", 2.0)]:
        w = tbx.SummaryWriter(str(root / name))
        values = []
        for step in range(0, 60, 10):
            loss, acc = scale / (step + 1), 0.5 + step / 200
            w.add_scalar("loss", loss, step)
            w.add_scalar("accuracy", acc, step)
            values.append((step, loss, acc))
        w.close()
        logged[name] = values

    server = make_server().start()
    flow = "tb"
    import_twice(["tensorboard", str(root), "--dataflow", flow, "--url", server.url], runs=2, rows=2 * 6 + 2)
    runs = runs_by_execution(server, flow)
    assert set(runs) == set(logged)
    for name, values in logged.items():
        rows = metric_rows(server, flow, name, "step")
        assert [r["step"] for r in rows] == [v[0] for v in values]
        for r, (_s, loss, acc) in zip(rows, values):
            # simple_value is a 32-bit float
            assert close(r["loss"], loss, 1e-6) and close(r["accuracy"], acc, 1e-6)
        assert runs[name]["status"] == "FINISHED"
        assert runs[name]["params"]["iimport"]["source"] == "tensorboard"
        assert runs[name]["script"] == str(root / name)
    check_seeds_query(server, flow, {n: (max(v[2] for v in vs), min(v[1] for v in vs)) for n, vs in logged.items()})


# MARK: Keras CSVLogger


def test_keras_csvlogger_file_imported_twice_stored_once(tmp_path, make_server):
    keras = pytest.importorskip("keras")
    from digits import data, model

    x, y, _xt, _yt = data()
    path = tmp_path / "digits-fit.csv"
    h = model().fit(x[:400], y[:400], epochs=3, batch_size=64, validation_split=0.25, verbose=0,
                    callbacks=[keras.callbacks.CSVLogger(str(path))])
    header = path.read_text().splitlines()[0].split(",")
    assert header[0] == "epoch" and "val_loss" in header

    server = make_server().start()
    flow = "csvflow"
    import_twice(["csv", str(path), "--dataflow", flow, "--url", server.url], runs=1, rows=3 + 1)
    rows = metric_rows(server, flow, "digits-fit.csv", "epoch")
    assert [r["epoch"] for r in rows] == [1, 2, 3]  # as the Keras callback numbers them
    for k in ["loss", "accuracy", "val_loss", "val_accuracy"]:
        assert all(close(r[k], v) for r, v in zip(rows, h.history[k])), k
    runs = runs_by_execution(server, flow)
    assert runs["digits-fit.csv"]["params"]["iimport"]["location"] == str(path)
    check_seeds_query(server, flow, {"digits-fit.csv": (max(h.history["accuracy"]), min(h.history["loss"]))})

    # Imported runs sit beside each other in one dataflow: the CSV file's beside a second one's.
    again = tmp_path / "second.csv"
    again.write_text(path.read_text())
    os.utime(again, (0, 0))
    dnnprov_import("csv", str(again), "--dataflow", flow, "--url", server.url)
    assert set(runs_by_execution(server, flow)) == {"digits-fit.csv", "second.csv"}
