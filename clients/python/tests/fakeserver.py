"""A scriptable in-process stand-in for the server, for the queue/spool/replay unit tests.

It keeps what a real server would (dataflows, events by key, skipping known keys) and can
be told to be down (503), or to refuse a given event with a 4xx and its index, or to be busy
(429 with a Retry-After header) for the next few batches.
"""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeServer:
    def __init__(self):
        self.lock = threading.Lock()
        self.status = 200          # answer for every request while not 200 (e.g. 503)
        self.reject = None         # a function event -> (status, error) or None
        self.refuse_batches = None  # a 4xx status for every batch, without an event index
        self.foreign_batches = 0   # answer this many of the next batches as another service would (404, HTML)
        self.dataflows = []        # specs, in arrival order
        self.events = []           # stored events, in order
        self.keys = set()
        self.duplicates = 0
        self.busy_batches = 0      # answer this many of the next batches 429 ...
        self.retry_after = "1"     # ... with this Retry-After header (None: no header)
        self.requests = []         # (method, path, status, time.monotonic() just before answering)
        self.auth = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _answer(self, status, body, headers=()):
                # Noted before the answer leaves: the client cannot react to it any earlier.
                with fake.lock:
                    fake.requests.append((self.command, self.path, status, time.monotonic()))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _busy(self):
                """Takes one of the `busy_batches` answers, if any is left."""
                with fake.lock:
                    if fake.busy_batches <= 0:
                        return False
                    fake.busy_batches -= 1
                headers = [] if fake.retry_after is None else [("Retry-After", fake.retry_after)]
                self._answer(429, {"error": "the server is busy"}, headers)
                return True

            def do_GET(self):
                if fake.status != 200:
                    return self._answer(fake.status, {"error": "down"})
                return self._answer(404, {"error": "not found"})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with fake.lock:
                    fake.auth.append(self.headers.get("Authorization"))
                if fake.status != 200:
                    return self._answer(fake.status, {"error": "unavailable"})
                if self.path == "/api/v1/dataflows":
                    with fake.lock:
                        fake.dataflows.append(body)
                    return self._answer(201, {"id": 1, "tag": body["tag"], "version": 1})
                if self.path == "/api/v1/batch":
                    if self._busy():
                        return
                    with fake.lock:
                        foreign = fake.foreign_batches > 0
                        fake.foreign_batches -= 1 if foreign else 0
                    if foreign:
                        page = b"<html><body>Not Found</body></html>"
                        self.send_response(404)
                        self.send_header("Content-Type", "text/html")
                        self.send_header("Content-Length", str(len(page)))
                        self.end_headers()
                        self.wfile.write(page)
                        return
                    if fake.refuse_batches:
                        return self._answer(fake.refuse_batches, {"error": "malformed"})
                    events = body["events"]
                    known = {d["tag"] for d in fake.dataflows}
                    for i, ev in enumerate(events):
                        if ev["dataflow"] not in known:
                            return self._answer(404, {"error": "unknown dataflow", "event": i})
                        bad = fake.reject(ev) if fake.reject else None
                        if bad:
                            return self._answer(bad[0], {"error": bad[1], "event": i})
                    stored = dup = 0
                    with fake.lock:
                        for ev in events:
                            if ev.get("key") in fake.keys:
                                dup += 1
                                continue
                            fake.keys.add(ev.get("key"))
                            fake.events.append(ev)
                            stored += 1
                        fake.duplicates += dup
                    return self._answer(200, {"stored": stored, "duplicates": dup})
                return self._answer(404, {"error": "not found"})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def rows(self, set_tag):
        out = []
        for ev in self.events:
            for s in ev.get("sets", []):
                if s["tag"] == set_tag:
                    out.extend(s["elements"])
        return out
