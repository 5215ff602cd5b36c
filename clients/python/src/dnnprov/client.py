"""The process-wide capture client: enqueue (never blocks), flush, exit handling."""
from __future__ import annotations

import atexit
import itertools
import logging
import threading
import time
import uuid
from typing import Any, Callable

from . import config
from .sender import Item, Sender
from .spool import Spool
from .transport import Transport

log = logging.getLogger("dnnprov")


class Client:
    """Owns the queue, the sender thread and the spool file for one server URL.

    `send_event` is the hot path: it stamps an idempotency key `<client uuid>-<sequence>`
    and appends to a deque; the network is only ever touched by the sender thread.

    An unusable URL (`localhost:22000`, without its scheme) never raises: it is reported in one
    warning, and everything captured is kept in the spool file, for a replay to deliver.
    """

    def __init__(self, url: str | None = None, token: str | None = None, spool_dir: str | None = None,
                 batch_size: int | None = None, interval: float | None = None,
                 max_queue: int | None = None, ca_file: str | None = None) -> None:
        source = "url="
        if not url:
            url, source = config.server_url_setting()
        self.url = url.rstrip("/")
        self.id = uuid.uuid4().hex
        self._seq = itertools.count(1)
        self.spool = Spool(spool_dir or config.spool_dir(), self.url, self.id)
        problem = config.url_problem(self.url)
        self.transport: Transport | None = None
        if problem is None:
            try:
                self.transport = Transport(self.url, token if token is not None else config.token(),
                                           ca_file=ca_file if ca_file is not None else config.ca_file())
            except ValueError as e:
                problem = str(e)
        if problem is not None:
            log.warning("dnnprov: %s %r is not a usable server URL: %s. Nothing is sent by this process; "
                        "what it captures is kept in the spool file %s, for `dnnprov spool replay` "
                        "to deliver once the URL is right", source, self.url, problem, self.spool.path)
        self.sender = Sender(self.transport, self.spool,
                             batch_size=batch_size or config.batch_size(),
                             interval=config.batch_interval() if interval is None else interval,
                             max_queue=max_queue or config.max_queue())
        self._put = self.sender.put
        self._flush_hooks: list[Callable[[], None]] = []
        self._closed = False
        self.sender.start()

    # -- capture (called from the training code) -----------------------------------------

    def send_event(self, event: dict[str, Any]) -> None:
        event["key"] = f"{self.id}-{next(self._seq)}"
        self._put(Item.EVENT, event)

    def register_dataflow(self, spec: dict[str, Any]) -> None:
        self._put(Item.DATAFLOW, spec)

    # -- synchronisation -----------------------------------------------------------------

    def add_flush_hook(self, fn: Callable[[], None]) -> None:
        """`fn()` runs at the start of every flush (e.g. to close a training that died)."""
        if fn not in self._flush_hooks:
            self._flush_hooks.append(fn)

    def flush(self, timeout: float | None = None) -> bool:
        """Waits until everything enqueued so far is acknowledged by the server or written to
        the spool. Returns False if the timeout ran out first."""
        for hook in list(self._flush_hooks):
            try:
                hook()
            except Exception:
                log.warning("dnnprov: flush hook failed", exc_info=True)
        if not self.sender.thread.is_alive():
            return not self.sender.queue
        return self.sender.marker().wait(timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Flushes, stops the sender and releases the spool (at exit)."""
        if self._closed:
            return True
        self._closed = True
        done = self.flush(timeout)
        if not done:
            n = self.sender.emergency_spool()
            log.warning("dnnprov: server did not acknowledge everything within %.1fs; "
                        "%d records left in %s for the next run to replay",
                        timeout or 0, n, self.spool.path)
        self.sender.stop()
        self.sender.thread.join(1.0)
        if self.transport is not None:
            self.transport.close()
        self.spool.close()
        return done

    def stats(self) -> dict[str, int]:
        return dict(self.sender.stats)


_client: Client | None = None
_client_lock = threading.Lock()


def get_client() -> Client:
    """The shared client, created (with its sender thread) on first use."""
    global _client
    c = _client
    if c is None:
        with _client_lock:
            if _client is None:
                _client = Client()
                atexit.register(_at_exit)
            c = _client
    return c


def set_client(client: Client | None) -> Client | None:
    """Replaces the shared client (tests; custom URL). Returns the previous one."""
    global _client
    with _client_lock:
        old, _client = _client, client
    return old


def configure(url: str | None = None, token: str | None = None, spool_dir: str | None = None,
              ca_file: str | None = None, **options: Any) -> Client:
    """Starts a new shared client with these settings (the old one is flushed and closed).
    `ca_file`: PEM CA certificate(s) to trust for https (default DNNPROV_CA_FILE).
    Options: batch_size, interval (seconds), max_queue (events held in memory)."""
    old = set_client(Client(url=url, token=token, spool_dir=spool_dir, ca_file=ca_file, **options))
    atexit.register(_at_exit)
    if old is not None:
        old.close(config.exit_timeout())
    return get_client()


def flush(timeout: float | None = None) -> bool:
    """Waits until everything captured so far is stored by the server or spooled."""
    return get_client().flush(timeout)


def _at_exit() -> None:
    c = _client
    if c is None or c._closed:
        return
    t0 = time.monotonic()
    try:
        c.close(config.exit_timeout())
    except Exception:
        log.warning("dnnprov: error at exit", exc_info=True)
    log.debug("dnnprov: exit flush took %.3fs", time.monotonic() - t0)
