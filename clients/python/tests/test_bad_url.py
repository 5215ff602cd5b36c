"""A server URL the client cannot use (`localhost:22450`, no scheme): one warning that says what
is wrong and where the data goes, the script runs to the end, and every event is in the spool."""
import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from conftest import HERE, SRC, free_port

SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    import dnnprov
    from digits import data, model
    from dnnprov.keras import ProvenanceCallback

    x, y, xt, yt = data()
    m = model()
    m.fit(x[:256], y[:256], epochs=2, batch_size=64, verbose=0, validation_split=0.25,
          callbacks=[ProvenanceCallback("badurl", adaptation=True)])
    m.evaluate(xt[:64], yt[:64], verbose=0)
    assert dnnprov.flush(10)
    print("trained")
""")


def spool_records(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="module")
def bad_url_run(tmp_path_factory):
    """A Keras fit and evaluate run as a script with DNNPROV_URL=localhost:<port> (no scheme):
    (the port, the finished process, the spool directory)."""
    tmp = tmp_path_factory.mktemp("badurl")
    port = free_port()
    script = tmp / "train.py"
    script.write_text(SCRIPT.format(tests=HERE))
    env = {k: v for k, v in os.environ.items() if k not in ("DNNPROV_URL", "DFA_URL", "DNNPROV_TOKEN")}
    env.update(PYTHONPATH=SRC + os.pathsep + env.get("PYTHONPATH", ""), DNNPROV_SPOOL_DIR=str(tmp / "spool"),
               DNNPROV_URL=f"localhost:{port}", KERAS_BACKEND="jax")
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300)
    return port, out, env["DNNPROV_SPOOL_DIR"]


def test_url_without_scheme_warns_once_and_spools_everything(bad_url_run):
    port, out, spool_dir = bad_url_run
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "trained"
    lines = [ln for ln in out.stderr.splitlines() if "dnnprov" in ln or "Traceback" in ln]
    assert len(lines) == 1, out.stderr
    [warning] = lines
    assert f"DNNPROV_URL 'localhost:{port}'" in warning
    assert f"http://localhost:{port}" in warning  # what it should look like
    m = re.search(r"spool file (\S+\.jsonl)", warning)
    assert m, warning
    path = m.group(1)
    assert os.path.dirname(path) == spool_dir

    records = spool_records(path)
    kinds = {r["kind"] for r in records}
    assert kinds == {"dataflow", "batch"}
    assert all(r["spec"]["tag"] == "badurl" for r in records if r["kind"] == "dataflow")
    events = [e for r in records if r["kind"] == "batch" for e in r["events"]]
    epochs = [row[4] for e in events for s in e.get("sets", []) if s["tag"] == "otrainingmodel"
              for row in s["elements"]]
    assert epochs == [1, 2]
    statuses = [(e["transformation"], e["status"]) for e in events if "sets" not in e]
    assert ("trainingmodel", "FINISHED") in statuses and ("adaptation", "FINISHED") in statuses
    # the evaluate after a fit whose callback was created inline is recorded too
    assert any(e["transformation"] == "testingmodel" and e["status"] == "FINISHED" for e in events)
    assert len({e["key"] for e in events}) == len(events)


def test_spooled_records_replay_to_a_server_as_they_are(bad_url_run, make_server):
    """The spool holds what the API takes: each dataflow record's spec to POST /api/v1/dataflows,
    each batch record's events to POST /api/v1/batch, in file order; sent twice, stored once."""
    port, out, spool_dir = bad_url_run
    assert out.returncode == 0, out.stderr
    [path] = [os.path.join(spool_dir, n) for n in os.listdir(spool_dir) if n.endswith(".jsonl")]

    server = make_server(port=port).start()
    for _ in range(2):
        for r in spool_records(path):
            if r["kind"] == "dataflow":
                status, ans = server.request("POST", "/api/v1/dataflows", r["spec"])
            else:
                status, ans = server.request("POST", "/api/v1/batch", {"events": r["events"]})
            assert status < 300, ans
    rows = server.query("select epoch, loss, val_loss from ds_otrainingmodel order by id", "badurl")
    assert [r["epoch"] for r in rows] == [1, 2] and all(r["val_loss"] is not None for r in rows)
    assert len(server.query("select * from ds_otestingmodel", "badurl")) == 1
    assert {(t["transformation"], t["status"]) for t in server.tasks("badurl")} == {
        ("trainingmodel", "FINISHED"), ("adaptation", "FINISHED"), ("testingmodel", "FINISHED")}


def test_configure_with_a_bad_url_never_raises(tmp_path, caplog):
    """configure()/Client() with an unusable URL: no exception, one warning naming the spool
    file, and the manual API's events go to it; flush succeeds."""
    import dnnprov
    from dnnprov import DataSet, Element, Task

    caplog.set_level("WARNING", logger="dnnprov")
    for url, problem in [("ftp://localhost:22000", "scheme 'ftp'"), ("http://localhost:99999", "port")]:
        caplog.clear()
        c = dnnprov.Client(url=url, spool_dir=str(tmp_path / "spool"), interval=0.01)
        previous = dnnprov.set_client(c)
        try:
            t = Task(1, "badurl-manual", "TrainingModel")
            t.add_dataset(DataSet("oTrainingModel", [Element([1, 0.5])]))
            t.begin()
            t.end()
            assert dnnprov.flush(5)
        finally:
            c.close(5)
            dnnprov.set_client(previous)
        [record] = caplog.records
        assert f"url= {url!r} is not a usable server URL" in record.getMessage()
        assert problem in record.getMessage() and c.spool.path in record.getMessage()
        events = [e for r in spool_records(c.spool.path) if r["kind"] == "batch" for e in r["events"]]
        assert [e["status"] for e in events] == ["RUNNING", "FINISHED"]
        assert events[0]["sets"] == [{"tag": "otrainingmodel", "elements": [[1, 0.5]]}]


def test_wrong_url_run_is_captured_later_by_spool_replay_to(bad_url_run, make_server):
    """The user's way out: after fixing the URL, `dnnprov spool replay --to URL` sends the run
    that was spooled under the wrong one; a second replay finds nothing left to send."""
    from conftest import server_bin

    port, out, spool_dir = bad_url_run
    assert out.returncode == 0, out.stderr
    server = make_server(port=free_port()).start()
    replay = [server_bin(), "spool", "replay", "--to", server.url, "--dir", spool_dir]
    first = subprocess.run(replay, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    rows = server.query("select epoch, val_loss from ds_otrainingmodel order by id", "badurl")
    assert [r["epoch"] for r in rows] == [1, 2] and all(r["val_loss"] is not None for r in rows)
    assert {(t["transformation"], t["status"]) for t in server.tasks("badurl")} == {
        ("trainingmodel", "FINISHED"), ("adaptation", "FINISHED"), ("testingmodel", "FINISHED")}
    assert not [n for n in os.listdir(spool_dir) if n.endswith(".jsonl")], "replayed files are removed"
    second = subprocess.run(replay, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert len(server.query("select * from ds_otrainingmodel", "badurl")) == 2
