#!/usr/bin/env python3
"""Load test of one `dnnprov serve`: many training clients at once, slow queries, a health probe.

    python3 benchmarks/load/load.py --server .build/release/dnnprov [--clients 1000] [--seconds 60]
        [--slow-queries 5] [--auth on|off|both]

Standard library only (Python 3.11). For each auth mode it starts `dnnprov serve` on a free
loopback port over a fresh database in a temporary directory (`--require-tokens` when auth is on,
after creating a writer and a reader token on that file with `dnnprov token create --db`),
registers a small training dataflow, then for `--seconds`:

- `--clients` training clients, each one HTTP/1.1 keep-alive connection, send one epoch at a
  time: `POST /api/v1/batch` with one event (one row of 10 numbers) and a unique idempotency
  key `<client>-<seq>`, then think 0.5-1 s (a training epoch). A 429 is honoured: the client sleeps
  `Retry-After` seconds and sends the same batch again (same key). A connection error is counted
  and the same batch is sent again on a new connection (the key makes that safe).
- `--slow-queries` analysts each run, in a loop, a query that counts to 20,000,000 in a
  recursive CTE (timeout_ms 20000) with the reader token; 429 answers are expected (at most
  --queries-per-client per token and --query-workers in all) and counted apart, as are 408s.
- a probe, in a process of its own (so that the load generator's event loop does not slow it
  down), GETs /health every 100 ms on a keep-alive connection and times it.

Then it counts the rows the server holds (`count(*)` and the distinct (client, seq) pairs through
`POST /api/v1/query`), compares them with the acknowledged batches, reads the server's peak RSS
(`VmHWM` of /proc/<pid>/status) and prints PASS/FAIL for each target: no errors, no row lost, no
duplicate, /health p99 < 50 ms, server peak RSS < 200 MB. The exit status is 0 when all pass.

Every loop stops at the deadline; requests in flight then get at most their timeout to finish
(a slow query up to its 20 s). Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import multiprocessing
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

DATAFLOW = "loadtest"
TRANSFORMATION = "training"
OUTPUT_SET = "otraining"
# 10 numeric values per epoch row; `client` and `seq` make each row identifiable afterwards.
ATTRIBUTES = ["client", "seq", "epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "elapsed_time", "grad_norm"]
SLOW_SQL = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 20000000) "
            "SELECT count(*) FROM c")
SLOW_TIMEOUT_MS = 20_000
BATCH_TIMEOUT_S = 30.0
QUERY_TIMEOUT_S = SLOW_TIMEOUT_MS / 1000 + 10
HEALTH_TARGET_MS = 50.0
RSS_TARGET_MB = 200.0


# --------------------------------------------------------------------------------------------
# A minimal HTTP/1.1 keep-alive client on asyncio streams.

class HTTPError(Exception):
    """A malformed answer or a connection closed mid-answer."""


class Connection:
    def __init__(self, port: int, token: str | None):
        self.port = port
        self.token = token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    @property
    def is_open(self) -> bool:
        return self.writer is not None and not self.writer.is_closing()

    async def connect(self, timeout: float = 10.0) -> None:
        self.close()
        self.reader, self.writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", self.port, limit=1 << 20), timeout)

    def close(self) -> None:
        if self.writer is not None:
            try:
                self.writer.close()
            except Exception:
                pass
        self.reader = self.writer = None

    async def request(self, method: str, path: str, body: bytes | None = None,
                      timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
        """One request on the kept-alive connection (opened when needed); closes it on any failure."""
        try:
            return await asyncio.wait_for(self._request(method, path, body), timeout)
        except BaseException:
            self.close()
            raise

    async def _request(self, method: str, path: str, body: bytes | None) -> tuple[int, dict[str, str], bytes]:
        if not self.is_open:
            await self.connect()
        head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", "Accept: application/json"]
        if self.token:
            head.append(f"Authorization: Bearer {self.token}")
        if body is not None:
            head.append("Content-Type: application/json")
            head.append(f"Content-Length: {len(body)}")
        assert self.writer is not None and self.reader is not None
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode("ascii") + (body or b""))
        await self.writer.drain()

        try:
            raw = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as e:
            raise HTTPError("connection closed before the answer" if not e.partial else "connection closed in the headers")
        lines = raw.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise HTTPError(f"bad status line {lines[0]!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        try:
            if "content-length" in headers:
                data = await self.reader.readexactly(int(headers["content-length"]))
            elif headers.get("transfer-encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
                    if size == 0:
                        while (await self.reader.readuntil(b"\r\n")) != b"\r\n":
                            pass
                        break
                    chunks.append(await self.reader.readexactly(size))
                    await self.reader.readexactly(2)
                data = b"".join(chunks)
            elif status in (204, 304) or 100 <= status < 200:
                data = b""
            else:
                data = await self.reader.read()
                self.close()
        except asyncio.IncompleteReadError:
            raise HTTPError("connection closed in the body")
        if headers.get("connection", "").lower() == "close" or parts[0] == "HTTP/1.0":
            self.close()
        return status, headers, data


def retry_after(headers: dict[str, str]) -> float:
    try:
        return max(0.0, float(headers.get("retry-after", "1")))
    except ValueError:
        return 1.0


def error_name(e: BaseException) -> str:
    if isinstance(e, (asyncio.TimeoutError, TimeoutError)):
        return "timeout"
    if isinstance(e, HTTPError):
        return str(e)
    return type(e).__name__ + (f" ({e.strerror})" if isinstance(e, OSError) and e.strerror else "")


# --------------------------------------------------------------------------------------------
# The health probe: a process of its own with a blocking keep-alive connection.

def health_probe(port: int, interval: float, out) -> None:
    """GET /health every `interval` s; every probe's time counts, failed ones (timeout 10 s) included.
    Says "ready" on `out`, receives (start, deadline) in `time.time()` seconds, answers the figures."""
    import http.client
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out.send("ready")
    start_at, deadline = out.recv()
    latencies: list[float] = []
    failures: collections.Counter[str] = collections.Counter()
    conn = None
    while time.time() < start_at:
        time.sleep(0.01)
    tick = time.monotonic()
    while time.time() < deadline:
        t0 = time.perf_counter()
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/health")
            r = conn.getresponse()
            r.read()
            latencies.append(time.perf_counter() - t0)
            if r.status != 200:
                failures[f"HTTP {r.status}"] += 1
            if r.getheader("connection", "").lower() == "close":
                conn.close()
                conn = None
        except Exception as e:  # noqa: BLE001 - counted (its time too), then a new connection
            latencies.append(time.perf_counter() - t0)
            failures[type(e).__name__] += 1
            if conn is not None:
                conn.close()
            conn = None
        tick += interval
        pause = tick - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        else:
            tick = time.monotonic()
    if conn is not None:
        conn.close()
    out.send({"latencies": latencies, "failures": dict(failures)})
    out.close()


# --------------------------------------------------------------------------------------------
# The server.

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status_kb(pid: int, field: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def proc_cpu_seconds(pid: int | str) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
        fields = text[text.rindex(")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def create_token(server: str, db: str, role: str) -> str:
    r = subprocess.run([server, "token", "create", "--role", role, "--name", f"load-{role}", "--db", db],
                       capture_output=True, text=True, timeout=60)
    secret = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    if r.returncode != 0 or not secret.startswith("dnp_"):
        raise SystemExit(f"dnnprov token create --role {role} failed (status {r.returncode}): {r.stderr.strip() or r.stdout.strip()}")
    return secret


class Server:
    def __init__(self, binary: str, auth: bool, extra: list[str]):
        self.dir = tempfile.mkdtemp(prefix="dnnprov-load-")
        self.db = os.path.join(self.dir, "load.sqlite")
        self.writer_token = self.reader_token = None
        if auth:
            self.writer_token = create_token(binary, self.db, "writer")
            self.reader_token = create_token(binary, self.db, "reader")
        self.port = free_port()
        args = [binary, "serve", "--port", str(self.port), "--db", self.db, "--log-level", "warning"]
        if auth:
            args.append("--require-tokens")
        args += extra
        self.args = args
        self.log_path = os.path.join(self.dir, "server.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.rss_peak_kb = 0

    async def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        conn = Connection(self.port, None)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited with status {self.proc.returncode}:\n{self.log_tail()}")
            try:
                status, _, _ = await conn.request("GET", "/health", timeout=2)
                if status == 200:
                    conn.close()
                    return
            except (OSError, HTTPError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(0.1)
        raise SystemExit(f"the server did not answer /health within {timeout:.0f} s:\n{self.log_tail()}")

    def poll_rss(self) -> None:
        rss = proc_status_kb(self.proc.pid, "VmRSS")
        if rss:
            self.rss_peak_kb = max(self.rss_peak_kb, rss)

    def hwm_kb(self) -> int | None:
        return proc_status_kb(self.proc.pid, "VmHWM")

    def log_tail(self, lines: int = 20) -> str:
        try:
            self.log.flush()
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def log_lines(self) -> list[str]:
        try:
            self.log.flush()
            with open(self.log_path, errors="replace") as f:
                return f.readlines()
        except OSError:
            return []

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# The load.

class Stats:
    def __init__(self) -> None:
        self.batch_2xx = 0
        self.batch_429 = 0
        self.batch_errors: collections.Counter[str] = collections.Counter()
        self.error_samples: list[str] = []
        self.acked: set[tuple[int, int]] = set()
        self.server_duplicates = 0          # events the server reported as already stored (resent after a lost answer)
        self.unknown = 0                    # batches whose fate is unknown at the end (no answer)
        self.abandoned_429 = 0              # batches refused with 429 and not re-sent because the deadline came
        self.refused_for_good = 0           # batches answered with a non-429 error (not stored)
        self.ack_latency: list[float] = []  # the request that got the 2xx: send to answer
        self.ack_total: list[float] = []    # first send to acknowledgement, 429 waits and re-sends included
        self.slow_completed = 0
        self.slow_429 = 0
        self.slow_408 = 0
        self.slow_errors: collections.Counter[str] = collections.Counter()
        self.slow_durations: list[float] = []
        self.loop_lag: list[float] = []
        self.connects = 0

    def error(self, kind: str, sample: str | None = None) -> None:
        self.batch_errors[kind] += 1
        if sample and len(self.error_samples) < 10:
            self.error_samples.append(sample)


def batch_body(client: int, seq: int, execution: str) -> bytes:
    loss = 2.3 / (seq + 1) + random.random() * 0.01
    acc = min(0.999, 0.3 + 0.6 * (1 - 1 / (seq + 2)))
    row = [client, seq, seq + 1, loss, acc, loss * 1.1, acc * 0.97, 0.001, 12.5 + random.random(), random.random() * 5]
    event = {"key": f"{client}-{seq}", "dataflow": DATAFLOW, "execution": execution,
             "transformation": TRANSFORMATION, "task": "1", "status": "RUNNING", "time": time.time(),
             "sets": [{"tag": OUTPUT_SET, "elements": [row]}]}
    return json.dumps({"events": [event]}, separators=(",", ":")).encode()


async def training_client(i: int, port: int, token: str | None, run_id: str, start: float, deadline: float,
                          ramp: float, think: tuple[float, float], stats: Stats) -> None:
    loop = asyncio.get_running_loop()
    conn = Connection(port, token)
    execution = f"load-{run_id}-{i}"
    # Clients join over the first `ramp` seconds, as training scripts start at different times.
    await asyncio.sleep(max(0.0, start + random.uniform(0, ramp) - loop.time()))
    seq = 0
    try:
        while loop.time() < deadline:
            body = batch_body(i, seq, execution)
            first = loop.time()
            while True:
                t0 = loop.time()
                try:
                    if not conn.is_open:
                        stats.connects += 1
                    status, headers, data = await conn.request("POST", "/api/v1/batch", body, timeout=BATCH_TIMEOUT_S)
                except (OSError, HTTPError, asyncio.TimeoutError, ValueError) as e:
                    stats.error(f"batch: {error_name(e)}", f"client {i} seq {seq}: {error_name(e)}")
                    if loop.time() >= deadline:
                        stats.unknown += 1
                        break
                    await asyncio.sleep(0.2 + random.random() * 0.3)
                    continue  # the same batch, same key, on a new connection
                now = loop.time()
                if 200 <= status < 300:
                    stats.batch_2xx += 1
                    stats.acked.add((i, seq))
                    stats.ack_latency.append(now - t0)
                    stats.ack_total.append(now - first)
                    try:
                        stats.server_duplicates += int(json.loads(data).get("duplicates", 0))
                    except (ValueError, AttributeError):
                        pass
                    break
                if status == 429:
                    stats.batch_429 += 1
                    wait = retry_after(headers)
                    if now + wait >= deadline:
                        stats.abandoned_429 += 1
                        break
                    await asyncio.sleep(wait)
                    continue
                stats.error(f"batch: HTTP {status}", f"client {i} seq {seq}: HTTP {status} {data[:300]!r}")
                stats.refused_for_good += 1
                break
            seq += 1
            pause = random.uniform(*think)
            left = deadline - loop.time()
            if left <= 0:
                break
            await asyncio.sleep(min(pause, left))
    finally:
        conn.close()


async def slow_query_client(i: int, port: int, token: str | None, start: float, deadline: float, stats: Stats) -> None:
    loop = asyncio.get_running_loop()
    conn = Connection(port, token)
    body = json.dumps({"sql": SLOW_SQL, "timeout_ms": SLOW_TIMEOUT_MS}).encode()
    await asyncio.sleep(max(0.0, start + 0.2 * i - loop.time()))
    try:
        while loop.time() < deadline:
            t0 = loop.time()
            try:
                status, headers, data = await conn.request("POST", "/api/v1/query", body, timeout=QUERY_TIMEOUT_S)
            except (OSError, HTTPError, asyncio.TimeoutError, ValueError) as e:
                stats.slow_errors[f"query: {error_name(e)}"] += 1
                await asyncio.sleep(0.5)
                continue
            if status == 200:
                stats.slow_completed += 1
                stats.slow_durations.append(loop.time() - t0)
            elif status == 429:
                stats.slow_429 += 1
                await asyncio.sleep(min(retry_after(headers), max(0.0, deadline - loop.time())))
            elif status == 408:
                stats.slow_408 += 1
            else:
                stats.slow_errors[f"query: HTTP {status}"] += 1
                if len(stats.error_samples) < 10:
                    stats.error_samples.append(f"slow query {i}: HTTP {status} {data[:300]!r}")
                await asyncio.sleep(0.5)
    finally:
        conn.close()


async def lag_monitor(deadline: float, stats: Stats) -> None:
    """How late the load generator's event loop wakes up: its own share of the latencies."""
    loop = asyncio.get_running_loop()
    while loop.time() < deadline:
        t0 = loop.time()
        await asyncio.sleep(0.05)
        stats.loop_lag.append(loop.time() - t0 - 0.05)


async def rss_monitor(server: Server, until: asyncio.Event) -> None:
    while not until.is_set():
        server.poll_rss()
        try:
            await asyncio.wait_for(until.wait(), 0.1)
        except asyncio.TimeoutError:
            pass


async def call_json(conn: Connection, method: str, path: str, payload: dict | None, timeout: float = 60.0,
                    patience: float = 60.0) -> tuple[int, object]:
    """A request that waits out 429s (up to `patience` seconds) and connection errors."""
    end = time.monotonic() + patience
    while True:
        body = None if payload is None else json.dumps(payload).encode()
        try:
            status, headers, data = await conn.request(method, path, body, timeout=timeout)
        except (OSError, HTTPError, asyncio.TimeoutError) as e:
            if time.monotonic() > end:
                raise SystemExit(f"{method} {path}: {error_name(e)}")
            await asyncio.sleep(0.5)
            continue
        if status == 429 and time.monotonic() < end:
            await asyncio.sleep(retry_after(headers))
            continue
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, data.decode(errors="replace")


def dataflow_spec() -> dict:
    return {"tag": DATAFLOW,
            "transformations": [{
                "tag": TRANSFORMATION,
                "programs": [{"name": "train.py", "path": "/benchmarks/load"}],
                "sets": [
                    {"tag": "itraining", "type": "INPUT",
                     "attributes": [{"name": "optimizer_name", "type": "TEXT"}, {"name": "learning_rate", "type": "NUMERIC"}]},
                    {"tag": OUTPUT_SET, "type": "OUTPUT",
                     "attributes": [{"name": a, "type": "NUMERIC"} for a in ATTRIBUTES]}]}]}


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]


async def run_mode(args: argparse.Namespace, auth: bool) -> dict:
    label = "on" if auth else "off"
    server = Server(args.server, auth, args.server_arg)
    print(f"\n=== auth {label}: {' '.join(server.args[1:])}", flush=True)
    try:
        return await drive(args, server, auth)
    finally:
        code = server.stop()
        if code not in (0, None, -signal.SIGINT):
            print(f"  note: the server exited with status {code}")
        if not args.keep:
            server.cleanup()
        else:
            print(f"  kept {server.dir}")


async def drive(args: argparse.Namespace, server: Server, auth: bool) -> dict:
    loop = asyncio.get_running_loop()
    await server.wait_ready()
    writer = Connection(server.port, server.writer_token)
    status, answer = await call_json(writer, "POST", "/api/v1/dataflows", dataflow_spec())
    if status not in (200, 201):
        raise SystemExit(f"POST /api/v1/dataflows: HTTP {status} {answer}")

    # The probe's process first (a spawned interpreter takes a moment), then the clock starts.
    ctx = multiprocessing.get_context("spawn")
    recv, send = ctx.Pipe(duplex=True)
    probe = ctx.Process(target=health_probe, args=(server.port, 0.1, send), daemon=True)
    probe.start()
    if not await loop.run_in_executor(None, recv.poll, 60):
        raise SystemExit("the health probe process did not start")
    recv.recv()

    stats = Stats()
    run_id = f"{'on' if auth else 'off'}{int(time.time())}"
    cpu0 = proc_cpu_seconds(server.proc.pid), proc_cpu_seconds("self")
    start = loop.time() + 0.5
    deadline = start + args.seconds
    wall_start = time.time() + 0.5
    recv.send((wall_start, wall_start + args.seconds))
    ramp = min(2.0, args.seconds / 10)

    stop_rss = asyncio.Event()
    rss_task = asyncio.create_task(rss_monitor(server, stop_rss))
    tasks = [asyncio.create_task(training_client(i, server.port, server.writer_token, run_id, start, deadline, ramp,
                                                 (args.think_min, args.think_max), stats))
             for i in range(args.clients)]
    tasks += [asyncio.create_task(slow_query_client(i, server.port, server.reader_token, start, deadline, stats))
              for i in range(args.slow_queries)]
    tasks.append(asyncio.create_task(lag_monitor(deadline, stats)))
    progress = asyncio.create_task(report_progress(stats, start, deadline, server))
    # Every loop ends at the deadline; what is in flight then gets its own timeout, no more.
    await asyncio.gather(*tasks)
    end = loop.time()
    progress.cancel()
    cpu1 = proc_cpu_seconds(server.proc.pid), proc_cpu_seconds("self")

    probe_result = {"latencies": [], "failures": {"no answer from the probe process": 1}}
    if await loop.run_in_executor(None, recv.poll, 30):
        probe_result = recv.recv()
    probe.join(5)

    # What the server holds (the writer token can read; the reader's may still be busy with slow queries).
    status, counted = await call_json(writer, "POST", "/api/v1/query", {
        "sql": f"select count(*), count(distinct client * 1000000 + seq) from ds_{OUTPUT_SET}",
        "dataflow": DATAFLOW, "timeout_ms": 60000}, timeout=90)
    if status != 200:
        raise SystemExit(f"count query: HTTP {status} {counted}")
    found_total, found_distinct = (int(v) for v in counted["rows"][0])
    status, pairs = await call_json(writer, "POST", "/api/v1/query", {
        "sql": f"select client, seq from ds_{OUTPUT_SET} group by client, seq",
        "dataflow": DATAFLOW, "limit": 1_000_000, "timeout_ms": 60000}, timeout=90)
    if status != 200:
        raise SystemExit(f"pairs query: HTTP {status} {pairs}")
    found = {(int(c), int(s)) for c, s in pairs["rows"]}
    if pairs.get("truncated"):
        print("  note: the (client, seq) answer was truncated; 'lost' is an upper bound")
    writer.close()
    stop_rss.set()
    await rss_task
    server.poll_rss()
    hwm = server.hwm_kb()
    server_alive = server.proc.poll() is None

    probe_lat = probe_result["latencies"]
    probe_fail = sum(probe_result["failures"].values())
    lost = len(stats.acked - found)
    duplicates = found_total - found_distinct
    errors = sum(stats.batch_errors.values()) + sum(stats.slow_errors.values()) + probe_fail
    log = server.log_lines()
    log_errors = [l for l in log if " error" in l.lower() or "critical" in l.lower() or "incident" in l.lower()]
    elapsed = deadline - start          # the clients stop sending at the deadline
    drain = max(0.0, end - deadline)    # then what was in flight (slow queries mostly) finished
    peak_mb = max(hwm or 0, server.rss_peak_kb) / 1024

    r = {
        "auth": "on" if auth else "off",
        "clients": args.clients, "seconds": args.seconds, "elapsed": elapsed, "drain": drain,
        "requests_2xx": stats.batch_2xx + stats.slow_completed + len(probe_lat) - probe_fail,
        "batches_2xx": stats.batch_2xx, "batches_per_s": stats.batch_2xx / elapsed,
        "errors": errors,
        "error_kinds": dict(stats.batch_errors) | dict(stats.slow_errors) | {f"health: {k}": v for k, v in probe_result["failures"].items()},
        "error_samples": stats.error_samples,
        "batch_429": stats.batch_429, "abandoned_429": stats.abandoned_429, "unknown": stats.unknown,
        "refused_for_good": stats.refused_for_good, "server_duplicates": stats.server_duplicates,
        "rows_acked": len(stats.acked), "rows_found": found_total, "rows_distinct": found_distinct,
        "rows_lost": lost, "rows_duplicated": duplicates, "rows_unacked_stored": len(found - stats.acked),
        "ack_p50_ms": pct(stats.ack_latency, 50) * 1000, "ack_p99_ms": pct(stats.ack_latency, 99) * 1000,
        "ack_max_ms": pct(stats.ack_latency, 100) * 1000,
        "ack_total_p50_ms": pct(stats.ack_total, 50) * 1000, "ack_total_p99_ms": pct(stats.ack_total, 99) * 1000,
        "health_n": len(probe_lat), "health_failures": probe_fail, "health_expected": int(args.seconds / 0.1),
        "health_p50_ms": pct(probe_lat, 50) * 1000, "health_p99_ms": pct(probe_lat, 99) * 1000,
        "health_max_ms": pct(probe_lat, 100) * 1000,
        "slow_completed": stats.slow_completed, "slow_429": stats.slow_429, "slow_408": stats.slow_408,
        "slow_p50_s": pct(stats.slow_durations, 50),
        "rss_hwm_mb": (hwm or 0) / 1024, "rss_polled_mb": server.rss_peak_kb / 1024, "rss_peak_mb": peak_mb,
        "server_cpu_s": cpu1[0] - cpu0[0], "generator_cpu_s": cpu1[1] - cpu0[1],
        "loop_lag_p99_ms": pct(stats.loop_lag, 99) * 1000, "loop_lag_max_ms": pct(stats.loop_lag, 100) * 1000,
        "connects": stats.connects, "server_alive": server_alive,
        "server_log_lines": len(log), "server_log_errors": log_errors[:10], "server_log_error_count": len(log_errors),
    }
    r["checks"] = {
        "errors = 0": r["errors"] == 0 and server_alive,
        "rows lost = 0": lost == 0,
        "duplicates = 0": duplicates == 0,
        f"/health p99 < {HEALTH_TARGET_MS:.0f} ms": len(probe_lat) > 0 and r["health_p99_ms"] < HEALTH_TARGET_MS,
        f"server peak RSS < {RSS_TARGET_MB:.0f} MB": peak_mb < RSS_TARGET_MB,
    }
    print_report(r)
    return r


async def report_progress(stats: Stats, start: float, deadline: float, server: Server) -> None:
    loop = asyncio.get_running_loop()
    step = 10.0 if deadline - start > 20 else 5.0
    await asyncio.sleep(max(0.0, start - loop.time()))
    while True:
        await asyncio.sleep(step)
        if loop.time() > deadline + 1:
            return
        print(f"  t={loop.time() - start:5.1f}s  acked {stats.batch_2xx:,}  429 {stats.batch_429:,}  "
              f"errors {sum(stats.batch_errors.values())}  slow queries {stats.slow_completed}/{stats.slow_429} (done/429)  "
              f"server RSS {(proc_status_kb(server.proc.pid, 'VmRSS') or 0) / 1024:.0f} MB", flush=True)


def print_report(r: dict) -> None:
    f = lambda x, d=1: "n/a" if x != x else f"{x:,.{d}f}"  # noqa: E731
    print(f"  clients {r['clients']}, {r['elapsed']:.1f} s of load, then {r['drain']:.1f} s for what was in flight to finish")
    print(f"  requests served (2xx)        {r['requests_2xx']:,} ({r['batches_2xx']:,} batches = {f(r['batches_per_s'])}/s, "
          f"{r['slow_completed']} slow queries, {r['health_n'] - r['health_failures']} health probes)")
    print(f"  errors                       {r['errors']}" + (f"  {r['error_kinds']}" if r['errors'] else ""))
    for s in r["error_samples"]:
        print(f"      e.g. {s}")
    print(f"  429 answers to batches       {r['batch_429']:,} (re-sent after Retry-After; {r['abandoned_429']} not re-sent: deadline)")
    print(f"  rows acknowledged / found    {r['rows_acked']:,} / {r['rows_found']:,} "
          f"(lost {r['rows_lost']}, duplicates {r['rows_duplicated']}, stored without an answer {r['rows_unacked_stored']}, "
          f"answers lost in flight {r['unknown']}, server-skipped resends {r['server_duplicates']})")
    print(f"  ack latency p50 / p99 / max  {f(r['ack_p50_ms'])} / {f(r['ack_p99_ms'])} / {f(r['ack_max_ms'])} ms "
          f"(with 429 waits: p50 {f(r['ack_total_p50_ms'])}, p99 {f(r['ack_total_p99_ms'])} ms)")
    print(f"  /health p50 / p99 / max      {f(r['health_p50_ms'])} / {f(r['health_p99_ms'])} / {f(r['health_max_ms'])} ms "
          f"({r['health_n']} probes of {r['health_expected']} planned, failures included, own process)")
    print(f"  slow queries done / 429 / 408  {r['slow_completed']} / {r['slow_429']} / {r['slow_408']} "
          f"(median {f(r['slow_p50_s'], 2)} s each)")
    print(f"  server peak RSS              {f(r['rss_peak_mb'])} MB (VmHWM {f(r['rss_hwm_mb'])} MB, polled {f(r['rss_polled_mb'])} MB)")
    print(f"  CPU s server / generator     {f(r['server_cpu_s'])} / {f(r['generator_cpu_s'])}  "
          f"(generator loop lag p99 {f(r['loop_lag_p99_ms'])} ms, max {f(r['loop_lag_max_ms'])} ms; {r['connects']} connects)")
    if r["server_log_error_count"]:
        print(f"  server log: {r['server_log_error_count']} error line(s) of {r['server_log_lines']}, e.g.:")
        for line in r["server_log_errors"][:5]:
            print(f"      {line.rstrip()[:300]}")
    if not r["server_alive"]:
        print("  the server DIED during the run")
    for name, ok in r["checks"].items():
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")


def raise_fd_limit(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = need if hard == resource.RLIM_INFINITY else min(hard, need)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        print(f"warning: only {soft} file descriptors (hard limit {hard}); {need} wanted", file=sys.stderr)


async def main_async(args: argparse.Namespace) -> int:
    modes = {"off": [False], "on": [True], "both": [False, True]}[args.auth]
    results = []
    for auth in modes:
        results.append(await run_mode(args, auth))
    if len(results) == 2:
        off, on = results
        print(f"\nauth off vs on: {off['batches_per_s']:,.1f} vs {on['batches_per_s']:,.1f} batches/s acknowledged, "
              f"ack p50 {off['ack_p50_ms']:.1f} vs {on['ack_p50_ms']:.1f} ms, p99 {off['ack_p99_ms']:.1f} vs {on['ack_p99_ms']:.1f} ms "
              f"(the clients think between epochs: the rate is set by them; see dnnprov-bench ingest --compare-auth for throughput)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)
    ok = all(all(r["checks"].values()) for r in results)
    print(f"\n{'ALL PASS' if ok else 'SOME FAILED'}")
    return 0 if ok else 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 2)[2])
    p.add_argument("--server", required=True, help="the dnnprov binary (e.g. .build/release/dnnprov)")
    p.add_argument("--clients", type=int, default=1000, help="training clients, one keep-alive connection each (1000)")
    p.add_argument("--seconds", type=float, default=60.0, help="seconds of load (60)")
    p.add_argument("--slow-queries", type=int, default=5, help="clients running the slow query in a loop (5)")
    p.add_argument("--auth", choices=["on", "off", "both"], default="both", help="tokens required or not (both: off, then on)")
    p.add_argument("--think-min", type=float, default=0.5, help="shortest pause between a client's epochs, s (0.5)")
    p.add_argument("--think-max", type=float, default=1.0, help="longest pause between a client's epochs, s (1.0)")
    p.add_argument("--server-arg", action="append", default=[], metavar="ARG",
                   help="an extra argument for dnnprov serve (repeat), e.g. --server-arg=--ingest-queue=128")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (database, server log)")
    args = p.parse_args()
    if not (os.path.isfile(args.server) and os.access(args.server, os.X_OK)):
        p.error(f"{args.server} is not an executable file")
    args.server = os.path.abspath(args.server)
    if args.clients < 1 or args.seconds <= 0 or args.slow_queries < 0 or not 0 <= args.think_min <= args.think_max:
        p.error("need --clients >= 1, --seconds > 0, --slow-queries >= 0, 0 <= --think-min <= --think-max")
    # One socket per client here and one in the server (which inherits this limit), plus spare.
    raise_fd_limit(2 * (args.clients + args.slow_queries) + 256)
    try:
        return asyncio.run(main_async(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
