"""The capture queue, the spool and replay, against an in-process fake server (no dnnprov)."""
import glob
import json
import os
import statistics
import subprocess
import sys
import textwrap
import time

import pytest

import dnnprov
from dnnprov import spool as spool_mod
from dnnprov.client import Client

from fakeserver import FakeServer


@pytest.fixture
def fake():
    f = FakeServer()
    yield f
    f.close()


def unreachable_url():
    from conftest import free_port
    return f"http://127.0.0.1:{free_port()}"


def capture_run(dataflow="flow", epochs=5):
    """A small manual-API run: a dataflow, task 1 with hyperparameters and epochs."""
    df = dnnprov.Dataflow(dataflow, predefined=True)
    df.save()
    t1 = dnnprov.Task(1, dataflow, "TrainingModel")
    t1.add_dataset(dnnprov.DataSet("iTrainingModel", [dnnprov.Element(["adam", 0.001, epochs, 8, 32, None, None])]))
    t1.begin()
    for e in range(1, epochs + 1):
        t1.add_dataset(dnnprov.DataSet("oTrainingModel", [dnnprov.Element(["now", 1.5, 1.0 / e, 0.1 * e, e])]))
        t1.save()
    t1.end()
    return t1


def spool_records(directory):
    out = []
    for path in sorted(glob.glob(os.path.join(directory, "*.jsonl"))):
        with open(path) as f:
            out += [json.loads(line) for line in f if line.strip()]
    return out


def test_capture_never_raises_and_spools_when_server_unreachable(use_client, tmp_path):
    c = use_client(unreachable_url())
    capture_run(epochs=20)
    assert dnnprov.flush(10)  # everything spooled counts as flushed
    records = spool_records(str(tmp_path / "spool"))
    assert records[0]["kind"] == "dataflow"
    events = [e for r in records if r["kind"] == "batch" for e in r["events"]]
    assert len(events) == 22  # begin + 20 saves + end
    keys = [e["key"] for e in events]
    assert len(set(keys)) == len(keys) and all(k.startswith(c.id + "-") for k in keys)
    assert [e["status"] for e in events][-1] == "FINISHED"
    assert len(c.sender.queue) == 0


def test_registration_goes_before_events_and_all_arrive_once(fake, use_client):
    use_client(fake.url)
    capture_run(epochs=30)
    assert dnnprov.flush(10)
    assert [d["tag"] for d in fake.dataflows] == ["flow"]
    assert [r[4] for r in fake.rows("otrainingmodel")] == list(range(1, 31))
    assert fake.duplicates == 0
    ev = fake.events[0]
    assert ev["execution"].startswith("flow-") and "execution_info" in ev
    assert "execution_info" not in fake.events[1]
    assert {"user", "host", "script", "python", "hardware"} <= set(ev["execution_info"])
    assert all("_names" not in s for e in fake.events for s in e.get("sets", []))


def test_server_down_then_up_replays_spool_exactly_once(fake, use_client):
    fake.status = 503
    use_client(fake.url)
    capture_run(epochs=10)
    assert dnnprov.flush(10)
    assert fake.events == []
    fake.status = 200
    t = dnnprov.Task(3, "flow", "TestingModel", dependency=dnnprov.Task(1, "flow", "TrainingModel"))
    t.add_dataset(dnnprov.DataSet("oTestingModel", [dnnprov.Element([0.9, 0.3, 10])]))
    t.end()
    deadline = time.time() + 15
    while len(fake.events) < 13 and time.time() < deadline:
        dnnprov.flush(1)
        time.sleep(0.05)
    assert [r[4] for r in fake.rows("otrainingmodel")] == list(range(1, 11))
    assert fake.events[-1]["transformation"] == "testingmodel"  # newer data after the replay
    assert fake.events[-1]["dependencies"] == [{"transformation": "trainingmodel", "task": "1"}]
    assert len(fake.keys) == len(fake.events) == 13


def test_refused_event_is_dropped_and_the_rest_stored(fake, use_client, caplog):
    fake.reject = lambda ev: (422, "bad value") if ev.get("sets") and ev["sets"][0]["elements"][0][4] == 3 else None
    use_client(fake.url)
    capture_run(epochs=5)
    assert dnnprov.flush(10)
    assert [r[4] for r in fake.rows("otrainingmodel")] == [1, 2, 4, 5]
    assert "event dropped by the server" in caplog.text


def test_refused_batch_without_index_is_dropped(fake, use_client, caplog):
    use_client(fake.url)
    fake.refuse_batches = 400
    capture_run(epochs=3)
    assert dnnprov.flush(10)
    assert fake.events == []
    assert "refused" in caplog.text
    fake.refuse_batches = None
    capture_run("flow2", epochs=2)
    assert dnnprov.flush(10)
    assert len(fake.rows("otrainingmodel")) == 2


def test_a_foreign_refusal_keeps_the_data(fake, use_client, caplog):
    """A 4xx that is not dnnprov's (another service on that port, a proxy's 404) drops nothing:
    the data waits in the spool and is delivered once a dnnprov server answers."""
    use_client(fake.url)
    fake.foreign_batches = 2
    capture_run(epochs=3)
    deadline = time.monotonic() + 15  # flush() counts spooled data as handled; the sender retries it
    while len(fake.rows("otrainingmodel")) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [r[4] for r in fake.rows("otrainingmodel")] == [1, 2, 3]
    assert "does not answer like a dnnprov server" in caplog.text


def test_rows_name_their_attributes(fake, use_client):
    """Rows say which attribute each value is for, so a dataflow extended by an earlier run in
    another order cannot shift them (the server places them by name)."""
    use_client(fake.url)
    capture_run(epochs=2)
    assert dnnprov.flush(10)
    sent = [s for ev in fake.events for s in ev.get("sets", []) if s["tag"] == "otrainingmodel"]
    assert sent and all(s["attributes"][:5] == ["timestamp", "elapsed_time", "loss", "accuracy", "epoch"] for s in sent)
    assert all(len(row) == len(s["attributes"]) for s in sent for row in s["elements"])
    assert not any("_names" in s for ev in fake.events for s in ev.get("sets", []))


def test_values_are_made_json(fake, use_client):
    np = pytest.importorskip("numpy")
    import datetime
    use_client(fake.url)
    df = dnnprov.Dataflow("vals")
    tf = dnnprov.Transformation("T")
    tf.set_sets([dnnprov.Set("oT", dnnprov.SetType.OUTPUT, [
        dnnprov.Attribute("A", dnnprov.AttributeType.NUMERIC), dnnprov.Attribute("B", dnnprov.AttributeType.NUMERIC),
        dnnprov.Attribute("C", dnnprov.AttributeType.NUMERIC), dnnprov.Attribute("D", dnnprov.AttributeType.TEXT)])])
    df.add_transformation(tf)
    df.save()
    t = dnnprov.Task(1, "vals", "T")
    t.add_dataset(dnnprov.DataSet("oT", [dnnprov.Element([np.float32(0.5), float("nan"), np.float64("inf"),
                                                         datetime.datetime(2026, 1, 2, 3, 4, 5)])]))
    t.end()
    assert dnnprov.flush(10)
    assert fake.rows("ot") == [[0.5, "NaN", "Infinity", "2026-01-02 03:04:05"]]


def test_orphan_spool_of_a_dead_process_is_replayed(fake, tmp_path):
    spool_dir = str(tmp_path / "spool")
    # A "dead" client: its spool file exists, nobody holds its lock.
    dead = spool_mod.Spool(spool_dir, fake.url, "deadbeef")
    dead.append("dataflow", {"tag": "old", "transformations": []})
    dead.append("batch", [{"key": "deadbeef-1", "dataflow": "old", "execution": "old-1",
                           "transformation": "t", "task": "1", "status": "FINISHED"}])
    dead._file.close()
    dead._lock.close()
    # A live client of another process holds its lock: not adopted.
    live = spool_mod.Spool(spool_dir, fake.url, "alive")
    live.append("batch", [{"key": "alive-1", "dataflow": "old", "transformation": "t", "task": "9"}])
    # Same directory, other server: not ours.
    other = spool_mod.Spool(spool_dir, "http://elsewhere:1", "x")
    other.append("batch", [{"key": "x-1", "dataflow": "old", "transformation": "t", "task": "8"}])

    c = Client(url=fake.url, spool_dir=spool_dir)
    try:
        assert c.flush(10)
        deadline = time.time() + 10
        while not fake.events and time.time() < deadline:
            time.sleep(0.05)
        assert [e["key"] for e in fake.events] == ["deadbeef-1"]
        assert not os.path.exists(dead.path)
        assert os.path.exists(live.path) and os.path.exists(other.path)
    finally:
        c.close(5)
        live.close()
        other.close()


def test_memory_is_bounded_when_the_server_is_slow(use_client, tmp_path):
    c = use_client(unreachable_url(), max_queue=100, batch_size=50)
    t = dnnprov.Task(1, "flow", "TrainingModel")
    for i in range(5000):
        t.add_dataset(dnnprov.DataSet("o", [dnnprov.Element([i])]))
        t.save()
    assert c.flush(10)
    assert len(c.sender.queue) == 0
    events = [e for r in spool_records(str(tmp_path / "spool")) if r["kind"] == "batch" for e in r["events"]]
    assert [e["sets"][0]["elements"][0][0] for e in events] == list(range(5000))


def test_token_is_sent(fake, use_client):
    use_client(fake.url, token="s3cret")
    capture_run(epochs=1)
    assert dnnprov.flush(10)
    assert set(fake.auth) == {"Bearer s3cret"}


def test_enqueue_is_fast(use_client):
    """The capture call only appends to a deque (target: median < 10 us)."""
    c = use_client(unreachable_url())
    times = []
    ev = {"dataflow": "f", "transformation": "t", "task": "1", "status": "RUNNING"}
    for _i in range(20000):
        e = dict(ev)
        t0 = time.perf_counter()
        c.send_event(e)
        times.append(time.perf_counter() - t0)
    median = statistics.median(times) * 1e6
    print(f"enqueue median {median:.2f} us")
    assert median < 10


def test_exit_flushes_or_leaves_a_spool_for_the_next_process(fake, tmp_path, subprocess_env):
    """A process exits while the server is down: its atexit flush gives up after
    DNNPROV_EXIT_TIMEOUT and leaves the spool; the next process for that server replays it."""
    fake.status = 503
    env = dict(subprocess_env, DNNPROV_URL=fake.url, DNNPROV_EXIT_TIMEOUT="2")
    script = textwrap.dedent("""
        import dnnprov
        df = dnnprov.Dataflow("exitflow", True); df.save()
        t = dnnprov.Task(1, "exitflow", "TrainingModel")
        for e in range(1, 6):
            t.add_dataset(dnnprov.DataSet("oTrainingModel", [dnnprov.Element(["t", 1.0, 0.5, 0.5, e])]))
            t.save()
        t.end()
    """)
    t0 = time.time()
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)
    assert time.time() - t0 < 30
    assert fake.events == []
    assert spool_records(env["DNNPROV_SPOOL_DIR"])
    fake.status = 200
    subprocess.run([sys.executable, "-c", "import dnnprov; dnnprov.flush(10)"], env=env, check=True, timeout=60)
    assert [r[4] for r in fake.rows("otrainingmodel")] == [1, 2, 3, 4, 5]
    assert spool_records(env["DNNPROV_SPOOL_DIR"]) == []


def test_dataflow_spec_copies_sets_like_dfa_lib_python():
    """Fig. 3.10 reuses one Set object under three transformations, changing it in between."""
    tf1 = dnnprov.Transformation("TrainingModel")
    out = dnnprov.Set("oTrainingModel", dnnprov.SetType.OUTPUT,
                      [dnnprov.Attribute("LOSS", dnnprov.AttributeType.NUMERIC)])
    tf1.set_sets([out])
    out.set_type(dnnprov.SetType.INPUT)
    out.dependency = tf1._tag
    tf2 = dnnprov.Transformation("Adaptation")
    tf2.set_sets([out])
    df = dnnprov.Dataflow("copy")
    df.add_transformation(tf1)
    df.add_transformation(tf2)
    spec = df.get_specification()
    assert spec["transformations"][0]["sets"][0]["type"] == "OUTPUT"
    assert "dependency" not in spec["transformations"][0]["sets"][0]
    assert spec["transformations"][1]["sets"][0] == {
        "tag": "otrainingmodel", "type": "INPUT", "dependency": "trainingmodel",
        "attributes": [{"name": "LOSS", "type": "NUMERIC"}]}


def test_dependencies_and_executions():
    ex = dnnprov.start_execution("deps", name="deps-run-1")
    t1 = dnnprov.Task(1, "deps", "TrainingModel")
    t3 = dnnprov.Task(3, "deps", "TestingModel", dependency=[t1, dnnprov.Dependency(["Adaptation"], ["2,4"])])
    assert t1.execution is ex and t3.execution is ex
    assert t3._deps == [{"transformation": "trainingmodel", "task": "1"},
                        {"transformation": "adaptation", "task": "2"},
                        {"transformation": "adaptation", "task": "4"}]
    ex2 = dnnprov.start_execution("deps")
    assert dnnprov.Task(1, "deps", "TrainingModel").execution is ex2
    assert ex2.name.startswith("deps-") and ex2.name != ex.name


def test_spool_names_its_server_beside_the_files(tmp_path):
    """`dnnprov spool status|replay` reads the URL from `<hash>.url`: the file names hold a hash."""
    url = "http://127.0.0.1:1/t/dnp_x"
    s = spool_mod.Spool(str(tmp_path), url, "c" * 32)
    s.append(spool_mod.RecordKind.BATCH, [{"key": "k", "dataflow": "d", "transformation": "t", "task": "1"}])
    s.close()
    url_file = tmp_path / f"{spool_mod.server_hash(url)}.url"
    assert url_file.read_text() == url
    assert (url_file.stat().st_mode & 0o777) == 0o600
