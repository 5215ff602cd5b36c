"""The runs table's answer (`GET /api/v1/dataflows/{tag}/runs`) over the wire: a large answer is
gzip-compressed for clients on another machine that accept it (on loopback, sending it costs less
than compressing it), and holds the same runs as the plain one."""
from __future__ import annotations

import gzip
import json
import socket
import urllib.request

import pytest

RUNS = 1500


def _this_machine_address() -> str | None:
    """An address of this machine that is not loopback (the one its default route leaves by)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("10.255.255.255", 1))  # UDP: nothing is sent, a source address is chosen
        address = s.getsockname()[0]
    except OSError:
        return None
    finally:
        s.close()
    return None if address.startswith("127.") else address


def _get(base: str, path: str, accept_gzip: bool) -> tuple[dict[str, str], bytes]:
    headers = {"Accept-Encoding": "gzip"} if accept_gzip else {}
    req = urllib.request.Request(base + path, headers=headers)
    with urllib.request.urlopen(req, timeout=30) as r:
        return {k.lower(): v for k, v in r.headers.items()}, r.read()


def test_a_large_runs_answer_is_gzipped_when_accepted(make_server):
    address = _this_machine_address()
    if address is None:
        pytest.skip("this machine has no address but loopback")
    # Listening on every address, without tokens: the test's own requests only.
    server = make_server(args=["--host", "0.0.0.0", "--insecure"]).start()
    remote = f"http://{address}:{server.port}"
    spec = {"tag": "many", "transformations": [{"tag": "trainingmodel", "sets": [
        {"tag": "itrainingmodel", "type": "INPUT", "attributes": [{"name": "OPTIMIZER_NAME", "type": "TEXT"}]},
        {"tag": "otrainingmodel", "type": "OUTPUT",
         "attributes": [{"name": "LOSS", "type": "NUMERIC"}, {"name": "EPOCH", "type": "NUMERIC"}]}]}]}
    assert server.request("POST", "/api/v1/dataflows", spec)[0] == 201
    events = []
    for r in range(RUNS):
        base = {"dataflow": "many", "execution": f"run-{r:05d}", "transformation": "trainingmodel", "task": "1"}
        events.append(dict(base, key=f"{r}-a", sets=[{"tag": "itrainingmodel", "elements": [["adam"]]},
                                                     {"tag": "otrainingmodel", "elements": [[1.0 / (r + 1), 1]]}]))
        events.append(dict(base, key=f"{r}-b", status="FINISHED"))
    status, ack = server.request("POST", "/api/v1/batch", {"events": events})
    assert status == 200 and ack["stored"] == 2 * RUNS, ack

    plain_headers, plain = _get(remote, "/api/v1/dataflows/many/runs", accept_gzip=False)
    assert "content-encoding" not in plain_headers
    assert len(plain) > 256 << 10, "the answer must be large enough to be compressed"
    local_headers, _ = _get(server.url, "/api/v1/dataflows/many/runs", accept_gzip=True)
    assert "content-encoding" not in local_headers, "on loopback the answer goes as it is"
    headers, body = _get(remote, "/api/v1/dataflows/many/runs", accept_gzip=True)
    assert headers.get("content-encoding") == "gzip"
    assert "Accept-Encoding" in headers.get("vary", "")
    assert len(body) < len(plain) / 4
    unzipped, original = json.loads(gzip.decompress(body)), json.loads(plain)
    assert len(unzipped["runs"]) == RUNS
    assert unzipped["runs"] == original["runs"]
