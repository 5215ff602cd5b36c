#!/usr/bin/env python3
"""The web UI in a real headless Chromium against a release `dnnprov serve` (issue 8).

Three phases, each printing its figures and its verdicts side by side:

  live    epoch commit -> drawn on the compare chart, 20 runs training at once (p99 < 1 s)
  runs    the runs page of 10,000 runs to first useful paint (< 1 s) and GET .../runs (< 50 ms)
  zoom    a chart of 20 runs x 10,000 epochs redrawn after an x zoom (< 100 ms)

    swift build -c release --product dnnprov && swift build -c release --product dnnprov-bench
    .venv/bin/python benchmarks/ui_bench.py [--phase live|runs|zoom] [--server .build/release/dnnprov]

Needs selenium (in .venv: pip install 'clients/python[test]'), /usr/bin/chromium and
/usr/bin/chromedriver (DNNPROV_CHROMIUM / DNNPROV_CHROMEDRIVER choose others). The runs phase
reads a store of 10,000 runs x 100 epochs (--runs-db, made by `dnnprov-bench runs --db FILE`
when missing) from a temporary copy. Browser and Python share the machine's clock: the page
stamps with Date.now(), the feeders with time.time().
"""
from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
CHROMIUM = os.environ.get("DNNPROV_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("DNNPROV_CHROMEDRIVER", "/usr/bin/chromedriver")
TAG = "uibench"
OUTPUT = ["timestamp", "elapsed_time", "loss", "accuracy", "epoch", "val_loss", "val_accuracy"]
LOSS_CHART = '.chart[data-metric="loss"]'


# -- figures ------------------------------------------------------------------------------------

@dataclass
class Line:
    """One line of the report: a figure, and its target when it has one."""
    phase: str
    what: str
    value: str
    target: str = ""
    met: bool | None = None

    def show(self) -> str:
        verdict = "" if self.met is None else f"target: {'met' if self.met else 'MISSED'}"
        return f"{self.phase:<5} {self.what:<58} {self.value:>26}  {self.target:<10} {verdict}"


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values."""
    s = sorted(values)
    if not s:
        return math.nan
    return s[min(len(s) - 1, max(0, math.ceil(p / 100 * len(s)) - 1))]


def ms(v: float) -> str:
    return f"{v:,.1f} ms" if v < 100 else f"{v:,.0f} ms"


def report(lines: list[Line]) -> None:
    for line in lines:
        print(line.show(), flush=True)


# -- the server ---------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`dnnprov serve` on a free loopback port and the given database file."""

    def __init__(self, binary: str, db: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(db + ".log", "w")  # closed in stop()
        self.proc = subprocess.Popen([binary, "serve", "--port", str(self.port), "--db", db, "--log-level", "warning"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{binary} exited with {self.proc.returncode} (log: {db}.log)")
            try:
                status, _ = self.request("GET", "/health")
                if status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.url} did not answer")
            time.sleep(0.1)

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def request(self, method: str, path: str, body: Any = None,
                conn: http.client.HTTPConnection | None = None) -> tuple[int, Any]:
        """One request (on `conn` when given: keep-alive); (status, decoded JSON answer)."""
        own = conn is None
        c = conn or self.connection()
        try:
            data = None if body is None else json.dumps(body).encode()
            c.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
            r = c.getresponse()
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
        finally:
            if own:
                c.close()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def register(server: Server, tag: str = TAG) -> None:
    """The predefined DL dataflow with validation metrics (the UI tests' one), through the
    Python client's specification builder."""
    sys.path.insert(0, os.path.join(REPO, "clients", "python", "src"))
    from dnnprov import AttributeType, Dataflow
    from dnnprov.predefined import TRAINING_OUTPUT, dl_transformations
    n, t = AttributeType.NUMERIC, AttributeType.TEXT
    hyper = [("OPTIMIZER_NAME", t), ("LEARNING_RATE", n), ("NUM_EPOCHS", n), ("BATCH_SIZE", n)]
    output = TRAINING_OUTPUT + [("VAL_LOSS", n), ("VAL_ACCURACY", n)]
    df = Dataflow(tag, transformations=dl_transformations(hyperparameters=hyper, training_output=output))
    status, ans = server.request("POST", "/api/v1/dataflows", df.get_specification())
    if status // 100 != 2:
        raise RuntimeError(f"registering {tag}: {status} {ans}")


def row(run: int, epoch: int) -> list[Any]:
    """One epoch's values (OUTPUT order) of run `run`: a decaying loss with a little noise."""
    loss = 2.0 / (epoch * 0.05 + run * 0.5 + 1) + 0.01 * run + 0.02 * math.sin(epoch * 0.7 + run)
    acc = 1 - loss / 2.5
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    return [stamp, 0.5 + 0.01 * epoch, round(loss, 6), round(acc, 6), epoch, round(loss * 1.1 + 0.02, 6),
            round(acc * 0.97, 6)]


def event(execution: str, key: str, sets: list[dict[str, Any]]) -> dict[str, Any]:
    return {"key": key, "dataflow": TAG, "execution": execution, "transformation": "trainingmodel", "task": "1",
            "status": "RUNNING", "time": time.time(), "sets": sets}


def epochs_set(run: int, first: int, count: int) -> dict[str, Any]:
    rows = [row(run, e) for e in range(first, first + count)]
    return {"tag": "otrainingmodel", "attributes": OUTPUT, "elements": rows}


def post_batch(server: Server, events: list[dict[str, Any]], conn: http.client.HTTPConnection | None = None) -> None:
    while True:
        status, ans = server.request("POST", "/api/v1/batch", {"events": events}, conn)
        if status == 429:
            time.sleep(0.2)
            continue
        if status // 100 != 2:
            raise RuntimeError(f"batch: {status} {ans}")
        return


def start_runs(server: Server, runs: int, epochs: int, per_event: int = 1000) -> list[int]:
    """`runs` executions with their hyperparameters and `epochs` epochs each (events of at most
    `per_event` rows); their run ids, in order."""
    names = [f"{TAG}-run{i:02d}" for i in range(runs)]
    conn = server.connection()
    for i, name in enumerate(names):
        hyper = {"tag": "itrainingmodel", "attributes": ["optimizer_name", "learning_rate", "num_epochs", "batch_size"],
                 "elements": [[["adam", "sgd", "rmsprop", "nadam"][i % 4], 0.001 * (1 + i % 5), epochs, 32]]}
        post_batch(server, [event(name, f"{name}-hyper", [hyper])], conn)
        for first in range(1, epochs + 1, per_event):
            n = min(per_event, epochs + 1 - first)
            post_batch(server, [event(name, f"{name}-e{first}", [epochs_set(i, first, n)])], conn)
    conn.close()
    status, ans = server.request("GET", f"/api/v1/dataflows/{TAG}/runs")
    ids = {r["execution"]: r["id"] for r in ans["runs"]}
    return [ids[n] for n in names]


# -- the browser --------------------------------------------------------------------------------

def chrome() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            raise SystemExit(f"no {path} (apt-get install chromium chromium-driver)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1366,900"):
        opts.add_argument(a)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_script_timeout(60)
    return driver


def wait(driver: Any, script: str, timeout: float, what: str, *args: Any) -> Any:
    """Polls `script` (returns a truthy value when done) every 20 ms."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = driver.execute_script(script, *args)
        if v:
            return v
        time.sleep(0.02)
    raise TimeoutError(f"{what} (after {timeout:.0f} s)")


READY = "const m = document.querySelector('main'); return !!(m && m.dataset.ready === location.hash);"
POINTS = "const c = document.querySelector(arguments[0]); return c && c.dataset.points ? c.dataset.points : null;"


def chart_points(driver: Any, selector: str = LOSS_CHART) -> list[int]:
    got = driver.execute_script(POINTS, selector)
    return [int(x) for x in got.split(",")] if got else []


# -- phase 1: epoch commit -> drawn -------------------------------------------------------------

OBSERVE = """
window.__draws = [];
const main = document.querySelector('main');
const chart = document.querySelector(arguments[0]);
window.__draws.push([Date.now(), Date.now(), chart.dataset.points]);
new MutationObserver((muts) => {
  const t = Date.now();
  for (const m of muts) {
    if (!m.target.matches || !m.target.matches(arguments[0])) continue;
    // [attribute set (uPlot has drawn), the next animation frame (that drawing rasterised), points]
    const entry = [t, null, m.target.dataset.points];
    window.__draws.push(entry);
    requestAnimationFrame(() => { entry[1] = Date.now(); });
  }
}).observe(main, {subtree: true, attributes: true, attributeFilter: ['data-points']});
"""


def phase_live(binary: str, runs: int = 20, seconds: float = 40, interval: float = 0.5) -> list[Line]:
    work = tempfile.mkdtemp(prefix="ui-bench-live-")
    server = Server(binary, os.path.join(work, "live.sqlite"))
    driver = None
    try:
        register(server)
        ids = start_runs(server, runs, 1)
        driver = chrome()
        route = f"#/d/{TAG}/compare?runs={','.join(map(str, ids))}&y=loss"
        driver.get(server.url + "/" + route)
        wait(driver, READY, 30, "the compare view did not finish loading")
        wait(driver, POINTS, 30, "the loss chart has no points", LOSS_CHART)
        labels = driver.execute_script("return document.querySelector(arguments[0]).dataset.series",
                                       LOSS_CHART).split("|")
        # One series per run and metric: loss then val_loss (dashed) per run, in the runs' order.
        per_run = len(labels) // runs
        if per_run < 1 or not labels[0].endswith("loss"):
            raise RuntimeError(f"unexpected series {labels}")
        driver.execute_script(OBSERVE, LOSS_CHART)

        commits: dict[tuple[int, int], tuple[float, float]] = {}  # (run, epoch) -> (sent, answered)
        lock = threading.Lock()
        stop = time.time() + seconds
        errors: list[str] = []

        def train(i: int) -> None:
            name = f"{TAG}-run{i:02d}"
            conn = server.connection()
            rng = random.Random(i)
            start = time.time() + rng.uniform(0, interval)
            epoch, k = 1, 0
            try:
                while True:
                    at = start + k * interval
                    k += 1
                    if at > stop:
                        break
                    time.sleep(max(0.0, at - time.time()))
                    epoch += 1
                    ev = event(name, f"{name}-e{epoch}", [epochs_set(i, epoch, 1)])
                    sent = time.time()
                    post_batch(server, [ev], conn)
                    answered = time.time()
                    with lock:
                        commits[(i, epoch)] = (sent, answered)
            except Exception as e:  # reported below
                errors.append(f"run {i}: {e}")
            finally:
                conn.close()

        threads = [threading.Thread(target=train, args=(i,), daemon=True) for i in range(runs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise RuntimeError("; ".join(errors[:3]))
        final = {i: max(e for (r, e) in commits if r == i) for i in range(runs)}
        try:
            wait(driver, "const c = document.querySelector(arguments[0]); const p = c.dataset.points.split(',');"
                 " return arguments[1].every((n, i) => +p[i * arguments[2]] >= n);", 10,
                 "the chart did not reach the last epochs", LOSS_CHART, [final[i] for i in range(runs)], per_run)
        except TimeoutError as e:
            print(f"live: {e}", file=sys.stderr)
        draws = driver.execute_script("return window.__draws")
    finally:
        if driver:
            driver.quit()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    # Each growth of run i's loss series from c to c' draws epochs c+1..c' (epoch n is point n).
    drawn: dict[tuple[int, int], float] = {}
    framed: dict[tuple[int, int], float] = {}
    prev = [int(x) for x in draws[0][2].split(",")][::per_run]
    for stamp, frame, points in draws[1:]:
        counts = [int(x) for x in points.split(",")][::per_run]
        for i, c in enumerate(counts):
            for e in range(prev[i] + 1, c + 1):
                drawn.setdefault((i, e), stamp / 1000)
                framed.setdefault((i, e), (frame or stamp) / 1000)
            prev[i] = max(prev[i], c)
    from_answer = [(drawn[k] - a) * 1000 for k, (_, a) in commits.items() if k in drawn]
    to_frame = [(framed[k] - a) * 1000 for k, (_, a) in commits.items() if k in framed]
    from_send = [(drawn[k] - s) * 1000 for k, (s, _) in commits.items() if k in drawn]
    acks = [(a - s) * 1000 for s, a in commits.values()]
    missing = len(commits) - len(from_answer)
    p99 = pct(from_answer, 99)
    return [
        Line("live", f"{runs} runs, one epoch each every {interval} s, {seconds:.0f} s",
             f"{len(commits)} epochs committed"),
        Line("live", "batch answer (commit) p50 / p99", f"{ms(pct(acks, 50))} / {ms(pct(acks, 99))}"),
        Line("live", "commit answer -> drawn p50 / p95", f"{ms(pct(from_answer, 50))} / {ms(pct(from_answer, 95))}"),
        Line("live", "commit answer -> drawn p99", ms(p99), "< 1,000 ms", p99 < 1000 and missing == 0),
        Line("live", "commit answer -> drawn max (min)", f"{ms(max(from_answer))} ({ms(min(from_answer))})"),
        Line("live", "commit answer -> the next frame after the draw p50 / p99",
             f"{ms(pct(to_frame, 50))} / {ms(pct(to_frame, 99))}", "< 1,000 ms", pct(to_frame, 99) < 1000),
        Line("live", "request sent -> drawn p50 / p99 (upper bound)",
             f"{ms(pct(from_send, 50))} / {ms(pct(from_send, 99))}"),
        Line("live", "epochs committed but never drawn", str(missing), "0", missing == 0),
    ]


# -- phase 2: the runs page of 10,000 runs ------------------------------------------------------

MARKS = """
(() => {
  if (location.protocol === 'about:' || location.pathname !== '/') return;
  const marks = window.__marks = {};
  const obs = new MutationObserver(() => {
    if (marks.rows === undefined) {
      const row = document.querySelector('.vt-body .vt-row');
      if (row && [...row.querySelectorAll('.vt-cell.num')].some((c) => /\\d/.test(c.textContent))) {
        marks.rows = performance.now();
        // The frame that shows them: after the next animation frame's work.
        requestAnimationFrame(() => {
          const ch = new MessageChannel();
          ch.port1.onmessage = () => { marks.painted = performance.now(); };
          ch.port2.postMessage(0);
        });
      }
    }
    const main = document.querySelector('main');
    if (marks.ready === undefined && main && main.dataset.ready) marks.ready = performance.now();
    if (marks.rows !== undefined && marks.ready !== undefined) obs.disconnect();
  });
  obs.observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ['data-ready']});
})();
"""

COLLECT = """
const m = window.__marks;
if (!m || m.painted === undefined || m.ready === undefined) return null;
const runs = performance.getEntriesByType('resource').find((e) => /\\/runs$/.test(e.name));
const nav = performance.getEntriesByType('navigation')[0];
return {rows: m.rows, painted: m.painted, ready: m.ready, dcl: nav ? nav.domContentLoadedEventEnd : null,
        runsStart: runs ? runs.startTime : null, runsEnd: runs ? runs.responseEnd : null,
        runsBytes: runs ? runs.encodedBodySize : null,
        shown: (document.querySelector('.vt[data-shown]') || {dataset: {}}).dataset.shown};
"""


FETCH_PARSE = """
const done = arguments[0];
const t0 = performance.now();
fetch('/api/v1/dataflows/alexnet/runs').then((r) => r.text()).then((text) => {
  const t1 = performance.now();
  const runs = JSON.parse(text).runs.length;
  done({fetch: t1 - t0, parse: performance.now() - t1, runs});
});
"""


def page_loads(driver: Any, url: str, loads: int) -> list[dict[str, Any]]:
    out = []
    for _ in range(loads):
        driver.get("about:blank")
        driver.get(url)
        out.append(wait(driver, COLLECT, 30, "the runs table did not show"))
    return out


def phase_runs(binary: str, bench: str, source_db: str, loads: int = 5, requests: int = 20) -> list[Line]:
    if not os.path.exists(source_db):
        print(f"runs: making {source_db} with {bench} runs (10,000 runs x 100 epochs)", flush=True)
        subprocess.run([bench, "runs", "--db", source_db, "--repeats", "1"], check=True, stdout=subprocess.DEVNULL)
    work = tempfile.mkdtemp(prefix="ui-bench-runs-")
    try:
        return measure_runs(binary, bench, source_db, work, loads, requests)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure_runs(binary: str, bench: str, source_db: str, work: str, loads: int, requests: int) -> list[Line]:
    db = os.path.join(work, "runs.sqlite")
    shutil.copy(source_db, db)
    server = Server(binary, db)
    try:
        conn = server.connection()
        times, size, count = [], 0, 0
        for k in range(requests + 2):
            t0 = time.perf_counter()
            conn.request("GET", "/api/v1/dataflows/alexnet/runs")
            r = conn.getresponse()
            body = r.read()
            if k >= 2:  # two warm-ups
                times.append((time.perf_counter() - t0) * 1000)
            size = len(body)
            count = len(json.loads(body)["runs"])
        conn.close()
        url = server.url + "/#/d/alexnet"
        driver = chrome()
        try:
            driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": MARKS})
            cold = page_loads(driver, url, 1)[0]  # a new browser profile: nothing cached
            warm = page_loads(driver, url, loads)
            split = [driver.execute_async_script(FETCH_PARSE) for _ in range(loads)]
        finally:
            driver.quit()
    finally:
        server.stop()
    bench_lines: list[str] = []
    if os.path.exists(bench):  # the server-side figure (in-process, no HTTP), on the same copy
        res = subprocess.run([bench, "runs", "--db", db], capture_output=True, text=True, timeout=900)
        bench_lines = [x for x in res.stdout.splitlines() if "summaries (GET" in x]

    med = statistics.median
    rows_ms = med([x["rows"] for x in warm])
    lines = [
        Line("runs", f"GET .../runs from Python ({count:,} runs, {size / 1e6:.1f} MB), median of {requests}",
             ms(med(times)), "< 50 ms", med(times) < 50),
        Line("runs", "GET .../runs from Python, max", ms(max(times))),
    ]
    for b in bench_lines:  # e.g. "runs table from summaries (GET .../runs)  12.3  15.0  10,000 runs, ..."
        parts = b.split()
        i = parts.index(".../runs)") + 1
        median, p99 = float(parts[i]), float(parts[i + 1])
        lines.append(Line("runs", "same answer built in-process (dnnprov-bench runs) med / p99",
                          f"{ms(median)} / {ms(p99)}", "< 50 ms", median < 50))
    lines += [
        Line("runs", f"page: navigation -> first rows with values, median of {loads}", ms(rows_ms), "< 1,000 ms",
             rows_ms < 1000),
        Line("runs", "page: navigation -> the frame after them (painted)", ms(med([x["painted"] for x in warm]))),
        Line("runs", "page: navigation -> main[data-ready]", ms(med([x["ready"] for x in warm]))),
        Line("runs", "page: the runs request inside it (start -> end)",
             f"{ms(med([x['runsStart'] for x in warm]))} -> {ms(med([x['runsEnd'] for x in warm]))}"),
        Line("runs", "in the page: fetch the runs answer (text) / JSON.parse it",
             f"{ms(med([x['fetch'] for x in split]))} / {ms(med([x['parse'] for x in split]))}"),
        Line("runs", "page, first load (cold cache): rows / ready", f"{ms(cold['rows'])} / {ms(cold['ready'])}",
             "< 1,000 ms", cold["rows"] < 1000),
        Line("runs", "runs shown by the table", str(warm[-1]["shown"])),
    ]
    return lines


# -- phase 3: zooming a chart of 20 runs x 10,000 epochs ----------------------------------------

ZOOM = """
const [selector, lo, hi, done] = arguments;
const u = document.querySelector(selector).__chart.u;
let drawn = null;
const hook = () => { if (drawn === null) drawn = performance.now(); };
(u.hooks.draw = u.hooks.draw || []).push(hook);
const t0 = performance.now();
u.setScale('x', {min: lo, max: hi});
const sync = performance.now();
requestAnimationFrame(() => {
  const frame = performance.now();
  setTimeout(() => {
    u.hooks.draw.splice(u.hooks.draw.indexOf(hook), 1);
    const xs = u.data[0], ys = u.data[1];  // the first run's loss: its points now in view
    let inView = 0;
    for (let i = 0; i < xs.length; i++) {
      if (xs[i] >= u.scales.x.min && xs[i] <= u.scales.x.max && ys[i] != null) inView++;
    }
    done({draw: drawn === null ? null : drawn - t0, sync: sync - t0, frame: frame - t0,
          min: u.scales.x.min, max: u.scales.x.max, inView});
  }, 0);
});
"""


def phase_zoom(binary: str, runs: int = 20, epochs: int = 10_000, zooms: int = 20, verbose: bool = False) -> list[Line]:
    work = tempfile.mkdtemp(prefix="ui-bench-zoom-")
    server = Server(binary, os.path.join(work, "zoom.sqlite"))
    driver = None
    try:
        register(server)
        t0 = time.perf_counter()
        ids = start_runs(server, runs, epochs)
        ingest = time.perf_counter() - t0
        driver = chrome()
        route = f"#/d/{TAG}/compare?runs={','.join(map(str, ids))}&y=loss"
        t0 = time.perf_counter()
        driver.get(server.url + "/" + route)
        wait(driver, READY, 60, "the compare view did not finish loading")
        wait(driver, POINTS, 60, "the loss chart has no points", LOSS_CHART)
        loaded = time.perf_counter() - t0
        points = chart_points(driver)
        joined = driver.execute_script("return document.querySelector(arguments[0]).__chart.u.data[0].length",
                                       LOSS_CHART)
        note = driver.execute_script("const n = document.querySelector('[data-metric=loss] [data-role=note]');"
                                     " return n ? n.textContent : ''")
        rng = random.Random(8)
        results = []
        for k in range(zooms + 3):  # three warm-ups
            width = rng.choice([20, 100, 500, 1000, 2500, 5000, 9000])
            lo = rng.uniform(1, epochs - width)
            r = driver.execute_async_script(ZOOM, LOSS_CHART, lo, lo + width)
            if r["draw"] is None:
                raise RuntimeError("uPlot did not draw after setScale")
            if k >= 3:
                results.append(r)
            if verbose:
                print(f"zoom {k}: x {lo:,.0f}..{lo + width:,.0f}: setScale returned after {r['sync']:.1f} ms,"
                      f" drawn after {r['draw']:.1f} ms, next frame at {r['frame']:.1f} ms", flush=True)
            time.sleep(0.1)
    finally:
        if driver:
            driver.quit()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    draw = [r["draw"] for r in results]
    frame = [r["frame"] for r in results]
    wide = [r["frame"] for r in results if r["max"] - r["min"] >= 5000]
    narrow = min(results, key=lambda r: r["max"] - r["min"])
    return [
        Line("zoom", f"store: {runs} runs x {epochs:,} epochs sent in", f"{ingest:.1f} s"),
        Line("zoom", "compare view loaded (navigation -> points drawn)", f"{loaded * 1000:,.0f} ms"),
        Line("zoom", f"loss chart: {len(points)} series (loss, val_loss), points drawn", f"{sum(points):,}"),
        Line("zoom", "  per series (server downsampled to 2,000)", f"{min(points):,}-{max(points):,}"),
        Line("zoom", "  x values after uPlot.join", f"{joined:,}"),
        Line("zoom", f"setScale -> redraw done (draw hook), median of {zooms}", ms(statistics.median(draw)),
             "< 100 ms", statistics.median(draw) < 100),
        Line("zoom", "setScale -> redraw done, p95 / max", f"{ms(pct(draw, 95))} / {ms(max(draw))}", "< 100 ms",
             pct(draw, 95) < 100),
        Line("zoom", "setScale -> next animation frame (rasterised), median", ms(statistics.median(frame)),
             "< 100 ms", statistics.median(frame) < 100),
        Line("zoom", "setScale -> next animation frame, p95 / max", f"{ms(pct(frame, 95))} / {ms(max(frame))}",
             "< 100 ms", pct(frame, 95) < 100),
        Line("zoom", f"  next frame when >= 5,000 epochs are in view ({len(wide)} zooms), median",
             ms(statistics.median(wide)) if wide else "-"),
        Line("zoom", f"  one series' points in view at the narrowest zoom ({narrow['max'] - narrow['min']:.0f} epochs)",
             str(narrow["inView"])),
        Line("zoom", "chart note", note.split(",")[0] + ", ..." if note else "(none)"),
    ]


# -- main ---------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--phase", choices=["live", "runs", "zoom", "all"], default="all")
    ap.add_argument("--server", default=os.path.join(REPO, ".build", "release", "dnnprov"),
                    help="the dnnprov binary (a release build)")
    ap.add_argument("--bench", default=None, help="dnnprov-bench (default: next to --server)")
    ap.add_argument("--runs-db", default="/tmp/bench-runs.sqlite", help="10,000 runs x 100 epochs of `alexnet`")
    ap.add_argument("--live-seconds", type=float, default=40, help="how long the 20 runs train")
    ap.add_argument("--loads", type=int, default=5, help="page loads of the runs page")
    ap.add_argument("--zooms", type=int, default=20)
    ap.add_argument("--verbose", action="store_true", help="print each zoom")
    args = ap.parse_args()
    binary = os.path.abspath(args.server)
    bench = os.path.abspath(args.bench or os.path.join(os.path.dirname(binary), "dnnprov-bench"))
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"no server binary at {binary} (swift build -c release --product dnnprov)")
    print(f"ui_bench {time.strftime('%Y-%m-%d %H:%M')}: {binary}; {os.cpu_count()} cores, "
          f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    lines: list[Line] = []
    if args.phase in ("live", "all"):
        lines += phase_live(binary, seconds=args.live_seconds)
        report(lines)
    if args.phase in ("runs", "all"):
        got = phase_runs(binary, bench, args.runs_db, loads=args.loads)
        lines += got
        report(got)
    if args.phase in ("zoom", "all"):
        got = phase_zoom(binary, zooms=args.zooms, verbose=args.verbose)
        lines += got
        report(got)
    print(f"\nload average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("summary:")
    report([x for x in lines if x.met is not None])
    return 0 if all(x.met for x in lines if x.met is not None) else 1


if __name__ == "__main__":
    sys.exit(main())
