"""Exporting 10,000 executions as PROV streams in bounded server memory (issue 10).

The document is far larger than the bound (about 150 MB of PROV-JSON); the server's resident
memory, polled while the client reads the answer, grows by much less.
"""

import os
import threading
import time
import urllib.request

import pytest

from conftest import Server, _require_server

RUNS = 10_000
EPOCHS = 20
SPEC = {
    "tag": "mem",
    "transformations": [
        {
            "tag": "training",
            "sets": [
                {
                    "tag": "ihyper",
                    "type": "INPUT",
                    "attributes": [{"name": "lr", "type": "NUMERIC"}, {"name": "opt", "type": "TEXT"}],
                },
                {
                    "tag": "oepoch",
                    "type": "OUTPUT",
                    "attributes": [{"name": "epoch", "type": "NUMERIC"}, {"name": "loss", "type": "NUMERIC"}],
                },
            ],
        }
    ],
}


def rss_kb(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc (Linux)")
def test_export_of_10000_executions_streams_in_bounded_memory(tmp_path):
    _require_server()
    s = Server(str(tmp_path / "mem.sqlite")).start()
    try:
        assert s.request("POST", "/api/v1/dataflows", SPEC)[0] == 201
        for start in range(0, RUNS, 1000):
            events = [
                {
                    "key": f"r{r}",
                    "dataflow": "mem",
                    "execution": f"run-{r}",
                    "transformation": "training",
                    "task": "1",
                    "status": "FINISHED",
                    "time": 1764061200 + r,
                    "execution_info": {"user": "ana", "host": "gpu", "script": "train.py"},
                    "sets": [
                        {"tag": "ihyper", "elements": [[0.001 * (r % 7 + 1), "adam"]]},
                        {"tag": "oepoch", "elements": [[e, 1.0 / e + r * 1e-6] for e in range(1, EPOCHS + 1)]},
                    ],
                }
                for r in range(start, start + 1000)
            ]
            status, ans = s.request("POST", "/api/v1/batch", {"events": events})
            assert status == 200, ans
        pid = s.proc.pid
        before = rss_kb(pid)
        peak = [before]
        done = threading.Event()

        def poll():
            while not done.is_set():
                peak[0] = max(peak[0], rss_kb(pid))
                time.sleep(0.01)

        t = threading.Thread(target=poll)
        t.start()
        total = 0
        try:
            with urllib.request.urlopen(s.url + "/api/v1/dataflows/mem/prov?format=prov-json", timeout=600) as r:
                assert r.status == 200
                while True:
                    chunk = r.read(1 << 16)
                    if not chunk:
                        break
                    total += len(chunk)
                    time.sleep(0)  # a reader slower than the server
        finally:
            done.set()
            t.join()
        assert total > 100 << 20, total  # the document is larger than the bound below
        grown_mb = (peak[0] - before) / 1024
        print(f"exported {total >> 20} MB; server RSS {before >> 10} MB before, {peak[0] >> 10} MB at most")
        assert grown_mb < 64, f"server RSS grew by {grown_mb:.0f} MB while exporting {total >> 20} MB"
    finally:
        s.stop()
