"""The Python client's wire output against the server's own decoder (one wire contract): every
field the client writes is read by the real server into the place it means."""
from __future__ import annotations

import datetime
import math

from dnnprov import spool
from dnnprov.transport import Transport


def _attrs(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"name": n, "type": t} for n, t in pairs]


SPEC = {
    "tag": "wire",
    "transformations": [
        {"tag": "prep", "sets": [{"tag": "oprep", "type": "OUTPUT", "attributes": _attrs(("FILTER", "TEXT"))}]},
        {"tag": "train", "sets": [
            {"tag": "oprep", "type": "INPUT", "dependency": "prep"},
            {"tag": "otrain", "type": "OUTPUT",
             "attributes": _attrs(("LOSS", "NUMERIC"), ("NOTE", "TEXT"), ("EPOCH", "NUMERIC"))},
        ]},
    ],
}


def test_every_wire_field_reaches_its_place(server):
    transport = Transport(server.url)
    assert transport.request("POST", "/api/v1/dataflows", spool.dumps(SPEC)).status in (200, 201)
    events = [
        {"key": "w-1", "dataflow": "wire", "execution": "run-1", "transformation": "prep", "task": 7,
         "status": "FINISHED", "time": 1764061200.25, "sets": [{"tag": "oprep", "elements": [["sobel"]]}],
         "execution_info": {"user": "me", "host": "gpu-01", "script": "train.py", "email": "me@example.org",
                            "hardware": {"gpus": 1, "cpu": "x86"}}},
        {"key": "w-2", "dataflow": "wire", "execution": "run-1", "transformation": "train", "task": "1",
         "status": "FAILED", "time": 1764061260.5, "dependencies": [{"transformation": "prep", "task": "7"}],
         # Named attributes in another order than registered, a NaN, a text with quotes and a newline.
         "sets": [{"tag": "otrain", "_names": ["epoch", "note", "loss"],
                   "elements": [[1, 'say "hi"\nbye', math.nan], [2, None, 0.25]]}],
         "files": [{"name": "model.keras", "path": "/runs/1"}], "error": "ValueError: boom"},
    ]
    body = spool.dumps({"events": [spool.wire_event(e) for e in events]})
    answer = transport.request("POST", "/api/v1/batch", body)
    assert answer.status == 200, answer.payload
    assert answer.payload["stored"] == 2 and answer.payload["rows"] == 3
    # The same bytes again: every event is a duplicate (same key, same content).
    again = transport.request("POST", "/api/v1/batch", body)
    assert again.status == 200 and again.payload["duplicates"] == 2

    rows = server.query("select epoch, note, loss from ds_otrain order by id", "wire")
    assert [r["epoch"] for r in rows] == [1, 2]
    assert rows[0]["note"] == 'say "hi"\nbye' and rows[1]["note"] is None
    assert rows[0]["loss"] == "NaN" and rows[1]["loss"] == 0.25
    tasks = {t["transformation"]: t for t in server.tasks("wire")}
    assert tasks["prep"]["identifier"] == "7" and tasks["prep"]["status"] == "FINISHED"
    assert tasks["train"]["status"] == "FAILED" and tasks["train"]["error_msg"] == "ValueError: boom"
    # The server is shared by the session's tests: the global tables are filtered by dataflow.
    of_wire = "join dataflow_execution e on e.id = t.df_exec join dataflow d on d.id = e.df_id where d.tag = 'wire'"
    [execution] = server.query("select e.user, e.host, e.script, e.email, e.hardware, e.start_time "
                               "from dataflow_execution e join dataflow d on d.id = e.df_id where d.tag = 'wire'")
    assert (execution["user"], execution["host"], execution["script"], execution["email"]) == (
        "me", "gpu-01", "train.py", "me@example.org")
    assert execution["hardware"] == '{"cpu":"x86","gpus":1}'
    started = datetime.datetime.fromtimestamp(1764061200.25, datetime.timezone.utc)
    assert execution["start_time"] == started.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    [f] = server.query(f"select f.name, f.path from file f join task t on t.id = f.task_id {of_wire}")
    assert (f["name"], f["path"]) == ("model.keras", "/runs/1")
    [dep] = server.query(f"select count(*) as n from task_dependency x join task t on t.id = x.task_id {of_wire}")
    assert dep["n"] == 1
