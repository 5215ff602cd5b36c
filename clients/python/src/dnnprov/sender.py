"""The background sender: one ordered queue, batches, retries, the spool.

The logical queue is the spool file (oldest) followed by the in-memory deque (newest); only
the sender thread moves items from one to the other, so order is kept: dataflow registrations
always reach the server before the events that need them, and replayed data before newer data.
"""
from __future__ import annotations

import collections
import enum
import logging
import threading
import time
from typing import Any

from . import spool as spool_mod
from .spool import RecordKind, Spool
from .transport import Response, Transport, explain

log = logging.getLogger("dnnprov")


class Item(enum.Enum):
    """What an entry of the in-memory queue holds."""
    EVENT = "event"          # a task event (dict)
    DATAFLOW = "dataflow"    # a dataflow specification (dict)
    MARKER = "marker"        # a flush marker (threading.Event), set once what is ahead is handled


class Outcome(enum.Enum):
    """How one delivery ended."""
    DONE = "done"    # acknowledged, or refused for good (logged)
    RETRY = "retry"  # server down, 5xx, 429, 401/403: keep it (spooled) and try later


EVENT, DATAFLOW, MARKER = Item.EVENT, Item.DATAFLOW, Item.MARKER
DONE, RETRY = Outcome.DONE, Outcome.RETRY

MAX_BACKOFF = 2.0
# The longest wait a server's Retry-After can impose: a bogus header (a date far ahead) must
# not stall delivery for hours; the spool holds the data meanwhile.
MAX_RETRY_AFTER = 60.0
# Refusals that mean "this client is not allowed" (no token, wrong token, role too low):
# every request would get the same answer, so they are reported once, not once per batch.
AUTH_REFUSALS = (401, 403)


def _record_kind(kind: Item) -> RecordKind:
    return RecordKind.DATAFLOW if kind is Item.DATAFLOW else RecordKind.BATCH


class Sender:
    """Moves the queue to the server, or to the spool. With `transport=None` (no usable server
    URL) nothing is sent: everything captured goes to the spool, for a later replay."""

    def __init__(self, transport: Transport | None, spool: Spool, batch_size: int = 500,
                 interval: float = 0.2, max_queue: int = 50000) -> None:
        self.transport = transport
        self.spool = spool
        self.batch_size = batch_size
        self.interval = interval
        self.max_queue = max_queue
        self.queue: collections.deque[tuple[Item, Any]] = collections.deque()
        self.wake = threading.Event()
        self._backoff = 0.0
        self._retry_at = 0.0
        self._server_delay = 0.0  # Retry-After of the last refusal, until _failed() applies it
        self._auth_warned: set[int] = set()
        self._stop = False
        self._inflight: tuple[Item, Any] | None = None  # being delivered, for the exit path
        self._io_lock = threading.Lock()  # spool writes: sender thread, or exit path once it gave up
        self.stats: collections.Counter[str] = collections.Counter()
        self.thread = threading.Thread(target=self._run, name="dnnprov-sender", daemon=True)

    def start(self) -> None:
        self.thread.start()

    @property
    def failing(self) -> bool:
        return self._backoff > 0

    @property
    def offline(self) -> bool:
        """No server to send to (the URL is unusable): everything goes to the spool."""
        return self.transport is None

    @property
    def server(self) -> str:
        """The server as log messages show it (a token in the URL's path hidden)."""
        t = self.transport
        return "(none)" if t is None else getattr(t, "display_url", t.url)

    # -- producer side -------------------------------------------------------------------

    def put(self, kind: Item, payload: Any) -> None:
        self.queue.append((kind, payload))
        if len(self.queue) >= self.batch_size and not self.wake.is_set():
            self.wake.set()

    def marker(self) -> threading.Event:
        """An event set once everything enqueued before it is acknowledged or spooled."""
        ev = threading.Event()
        self.queue.append((MARKER, ev))
        self.wake.set()
        return ev

    # -- sender thread -------------------------------------------------------------------

    def _run(self) -> None:
        if not self.offline:
            try:
                with self._io_lock:
                    self.spool.adopt_orphans()
            except Exception:
                log.warning("dnnprov: could not adopt earlier spool files into %s", self.spool.path,
                            exc_info=True)
        while not self._stop:
            try:
                self._step()
            except Exception:
                # Never let the thread die: a bug here must not lose what is queued.
                log.warning("dnnprov: sender error (undelivered data is kept in %s)", self.spool.path,
                            exc_info=True)
                self._failed()

    def _step(self) -> None:
        if self.offline:
            # Nowhere to send: keep everything in the spool, as for a server that is down.
            self._spill_all()
            self.wake.wait(self.interval)
            self.wake.clear()
            return
        if self.failing or len(self.queue) > self.max_queue:
            self._spill_all()
        if self.failing:
            delay = self._retry_at - time.monotonic()
            if delay > 0:
                self.wake.wait(delay)
                self.wake.clear()
                return
        if self.spool.pending():
            rec = self.spool.peek()
            if rec is None:
                return
            record_kind, payload, end = rec
            kind = DATAFLOW if record_kind is RecordKind.DATAFLOW else EVENT
            self._inflight = (kind, payload)
            outcome = self._deliver(kind, payload)
            self._inflight = None
            if outcome is DONE:
                with self._io_lock:
                    self.spool.advance(end)
                self._succeeded()
            else:
                self._failed()
            return
        if not self.queue:
            self.wake.wait(self.interval)
            self.wake.clear()
            return
        kind, payload, markers = self._take()
        if payload is not None:
            self._inflight = (kind, payload)
            outcome = self._deliver(kind, payload)
            if outcome is RETRY:
                with self._io_lock:
                    self.spool.append(_record_kind(kind), payload)
                self.stats["spooled"] += 1
                self._failed()
            else:
                self._succeeded()
            self._inflight = None
        for m in markers:
            m.set()

    def _take(self) -> tuple[Item, Any, list[threading.Event]]:
        """The next unit to deliver: one dataflow registration, or a batch of consecutive
        events; plus the flush markers passed on the way."""
        q = self.queue
        markers: list[threading.Event] = []
        events: list[dict[str, Any]] = []
        while q:
            kind, payload = q[0]
            if kind == MARKER:
                q.popleft()
                markers.append(payload)
            elif kind == DATAFLOW:
                if events:
                    break
                q.popleft()
                return DATAFLOW, payload, markers
            else:
                q.popleft()
                events.append(payload)
                if len(events) >= self.batch_size:
                    break
        return EVENT, (events or None), markers

    def _spill_all(self) -> None:
        """Moves the whole in-memory queue to the spool (server down, or queue too long)."""
        lines: list[bytes] = []
        markers: list[threading.Event] = []
        events: list[dict[str, Any]] = []
        q = self.queue
        while q:
            kind, payload = q.popleft()
            if kind == MARKER:
                markers.append(payload)
                continue
            if kind == DATAFLOW:
                if events:
                    lines.append(spool_mod.encode_record(RecordKind.BATCH, events))
                    events = []
                lines.append(spool_mod.encode_record(RecordKind.DATAFLOW, payload))
            else:
                events.append(payload)
                if len(events) >= self.batch_size:
                    lines.append(spool_mod.encode_record(RecordKind.BATCH, events))
                    events = []
        if events:
            lines.append(spool_mod.encode_record(RecordKind.BATCH, events))
        if lines:
            with self._io_lock:
                self.spool.append_lines(lines)
            self.stats["spooled"] += len(lines)
        for m in markers:
            m.set()

    def _succeeded(self) -> None:
        self._backoff = 0.0

    def _failed(self) -> None:
        self._backoff = min(MAX_BACKOFF, self._backoff * 2 if self._backoff else 0.1)
        # A busy server's Retry-After is a floor for the next attempt, not a hint: sending
        # earlier only gets another 429 and adds to its load.
        delay = max(self._backoff, self._server_delay)
        self._server_delay = 0.0
        self._retry_at = time.monotonic() + delay

    # -- delivery ------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: bytes) -> Response:
        """The server's answer; status None when it could not be reached."""
        try:
            if self.transport is None:
                raise OSError("no usable server URL")
            resp = self.transport.request(method, path, body)
        except Exception as e:  # connection refused, reset, timeout, DNS, TLS...
            if not self.failing:
                log.warning("dnnprov: %s; spooling to %s and retrying", explain(e, self.server),
                            self.spool.path)
            return Response(None, None, None)
        if resp.status in (429, 503) and resp.retry_after is not None:
            self._server_delay = min(MAX_RETRY_AFTER, resp.retry_after)
        return resp

    def _busy(self, status: int | None, answer: Any) -> None:
        """Logs a retryable answer (5xx, 429) once per failure streak."""
        if status is None or self.failing:
            return
        if self._server_delay:
            log.warning("dnnprov: server answered %s (%s); waiting %.1fs as it asks (Retry-After), "
                        "data kept in the spool %s", status, answer, self._server_delay, self.spool.path)
        else:
            log.warning("dnnprov: server answered %s (%s); spooling to %s and retrying", status, answer,
                        self.spool.path)

    def _refused_auth(self, status: int, answer: Any, what: str) -> None:
        """A 401/403: the data stays in the spool (the user's data: a run with the right token,
        or a replay, sends it), reported once per status and client."""
        error = answer.get("error") if isinstance(answer, dict) else answer
        if status in self._auth_warned:
            log.debug("dnnprov: %s refused (%s): %s", what, status, error)
            return
        self._auth_warned.add(status)
        hint = ("set DNNPROV_TOKEN (or token=) to a writer token" if status == 401
                else "the token's role or dataflows do not allow this")
        log.warning("dnnprov: server %s refused %s (%s: %s); %s. The data is kept in the spool %s "
                    "and sent once the server accepts it; further refusals are not logged again",
                    self.server, what, status, error, hint, self.spool.path)

    def _not_dnnprov(self, status: int) -> None:
        """A 4xx that is no dnnprov refusal (another service on that port, a proxy's 404): the
        data stays in the spool, as for a server that is down."""
        if not self.failing:
            log.warning("dnnprov: %s does not answer like a dnnprov server (HTTP %s); spooling to %s",
                        getattr(self.transport, "display_url", self.transport.url), status, self.spool.path)

    def _deliver(self, kind: Item, payload: Any) -> Outcome:
        if kind == DATAFLOW:
            return self._deliver_dataflow(payload)
        return self._deliver_batch(list(payload))

    def _deliver_dataflow(self, spec: dict[str, Any]) -> Outcome:
        status, body, _ = self._request("POST", "/api/v1/dataflows", spool_mod.dumps(spec))
        if status is None or status >= 500 or status == 429:
            self._busy(status, body)
            return RETRY
        if status in AUTH_REFUSALS:
            self._refused_auth(status, body, f"dataflow {spec.get('tag')!r}")
            return RETRY
        if status >= 400 and not _is_refusal(body):
            self._not_dnnprov(status)
            return RETRY
        if status >= 400:
            log.warning("dnnprov: dataflow %r refused (%s): %s", spec.get("tag"), status, body)
            return DONE
        self.stats["dataflows"] += 1
        return DONE

    def _deliver_batch(self, events: list[dict[str, Any]]) -> Outcome:
        while events:
            body = spool_mod.dumps({"events": [spool_mod.wire_event(e) for e in events]})
            status, answer, _ = self._request("POST", "/api/v1/batch", body)
            if status is None or status >= 500 or status == 429:
                self._busy(status, answer)
                return RETRY
            if status < 300:
                self.stats["events"] += len(events)
                if isinstance(answer, dict):
                    self.stats["duplicates"] += int(answer.get("duplicates") or 0)
                    if answer.get("warnings"):
                        log.warning("dnnprov: server warnings: %s", answer["warnings"])
                return DONE
            if status == 413 and len(events) > 1:
                half = len(events) // 2
                for part in (events[:half], events[half:]):
                    if self._deliver_batch(part) is RETRY:
                        return RETRY  # resending the part already stored is harmless (keys)
                return DONE
            bad = answer.get("event") if isinstance(answer, dict) else None
            if status in AUTH_REFUSALS and not isinstance(bad, int):
                self._refused_auth(status, answer, f"a batch of {len(events)} events")
                return RETRY
            if not _is_refusal(answer):
                self._not_dnnprov(status)
                return RETRY
            if isinstance(bad, int) and 0 <= bad < len(events):
                log.warning("dnnprov: event dropped by the server (%s %s): %s", status,
                            answer.get("error"), _describe(events[bad]))
                self.stats["dropped"] += 1
                del events[bad]
                continue
            log.warning("dnnprov: batch of %d events refused (%s): %s", len(events), status, answer)
            self.stats["dropped"] += len(events)
            return DONE
        return DONE

    # -- shutdown ------------------------------------------------------------------------

    def emergency_spool(self) -> int:
        """At exit, when the sender could not finish in time: write what is in flight and
        what is queued to the spool from this thread (a later process replays it; anything
        also delivered meanwhile is skipped by its key)."""
        with self._io_lock:
            lines: list[bytes] = []
            inflight = self._inflight
            if inflight is not None:
                kind, payload = inflight
                lines.append(spool_mod.encode_record(_record_kind(kind), payload))
            events: list[dict[str, Any]] = []
            for kind, payload in list(self.queue):
                if kind == EVENT:
                    events.append(payload)
                elif kind == DATAFLOW:
                    if events:
                        lines.append(spool_mod.encode_record(RecordKind.BATCH, events))
                        events = []
                    lines.append(spool_mod.encode_record(RecordKind.DATAFLOW, payload))
            if events:
                lines.append(spool_mod.encode_record(RecordKind.BATCH, events))
            self.queue.clear()
            self.spool.append_lines(lines)
            return len(lines)

    def stop(self) -> None:
        self._stop = True
        self.wake.set()


def _describe(ev: dict[str, Any]) -> str:
    return (f"{ev.get('dataflow')}/{ev.get('transformation')} task {ev.get('task')} "
            f"({ev.get('status')}, key {ev.get('key')})")


def _is_refusal(answer: Any) -> bool:
    """Whether a 4xx answer is dnnprov's own refusal (`{"error": "...", ...}`)."""
    return isinstance(answer, dict) and isinstance(answer.get("error"), str)
