"""No data lost, none stored twice: the server down at the start, or killed mid-training."""
import threading
import time

import dnnprov
from dnnprov.keras import ProvenanceCallback

from digits import Slow, data, model


def wait_for_epochs(server, flow, n, timeout=30):
    """Flushes and polls until n epoch rows are stored (replay happens in the background)."""
    deadline = time.monotonic() + timeout
    rows = []
    while time.monotonic() < deadline:
        dnnprov.flush(5)
        try:
            rows = server.query("select epoch from ds_otrainingmodel order by id", flow)
        except AssertionError:
            rows = []  # the dataflow itself is not there yet
        if len(rows) >= n and all(t["status"] == "FINISHED" for t in server.tasks(flow)):
            break
        time.sleep(0.2)
    return [r["epoch"] for r in rows]


def test_server_down_when_training_starts_then_up(make_server, use_client):
    flow = "lateserver"
    server = make_server()  # not started yet
    client = use_client(server.url)
    x, y, _, _ = data()

    def on_epoch(epoch):
        if epoch == 2:
            threading.Thread(target=server.start, daemon=True).start()
    h = model().fit(x[:512], y[:512], epochs=8, verbose=0,
                    callbacks=[ProvenanceCallback(flow), Slow(0.2, on_epoch)])
    assert len(h.history["loss"]) == 8
    assert wait_for_epochs(server, flow, 8) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert client.stats()["spooled"] > 0
    assert len(server.query("select * from ds_itrainingmodel", flow)) == 1
    assert len(server.query("select * from ds_ilayers", flow)) == 5
    assert [t["status"] for t in server.tasks(flow)] == ["FINISHED", "FINISHED"]


def test_server_killed_and_restarted_mid_training(make_server, use_client):
    flow = "killedserver"
    server = make_server().start()
    client = use_client(server.url)
    x, y, _, _ = data()

    def on_epoch(epoch):
        if epoch == 2:
            server.kill()  # SIGKILL: whatever it acknowledged is committed, nothing else
        elif epoch == 5:
            threading.Thread(target=server.start, daemon=True).start()  # same port, same db
    h = model().fit(x[:512], y[:512], epochs=10, verbose=0,
                    callbacks=[ProvenanceCallback(flow), Slow(0.2, on_epoch)])
    assert len(h.history["loss"]) == 10
    assert wait_for_epochs(server, flow, 10) == list(range(1, 11))
    assert client.stats()["spooled"] > 0
    assert len(server.query("select * from ds_itrainingmodel", flow)) == 1
    assert [t["status"] for t in server.tasks(flow)] == ["FINISHED", "FINISHED"]
    assert len(server.query("select * from dataflow_execution")) == 1
