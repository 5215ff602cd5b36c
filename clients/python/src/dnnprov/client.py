"""The process-wide capture client: enqueue (never blocks), flush, exit handling."""
import atexit
import itertools
import logging
import threading
import time
import uuid

from . import config
from .sender import DATAFLOW, EVENT, Sender
from .spool import Spool
from .transport import Transport

log = logging.getLogger("dnnprov")


class Client:
    """Owns the queue, the sender thread and the spool file for one server URL.

    `send_event` is the hot path: it stamps an idempotency key `<client uuid>-<sequence>`
    and appends to a deque; the network is only ever touched by the sender thread.
    """

    def __init__(self, url=None, token=None, spool_dir=None, batch_size=None, interval=None,
                 max_queue=None, ca_file=None):
        self.url = (url or config.server_url()).rstrip("/")
        self.id = uuid.uuid4().hex
        self._seq = itertools.count(1)
        self.spool = Spool(spool_dir or config.spool_dir(), self.url, self.id)
        self.transport = Transport(self.url, token if token is not None else config.token(),
                                   ca_file=ca_file if ca_file is not None else config.ca_file())
        self.sender = Sender(self.transport, self.spool,
                             batch_size=batch_size or config.batch_size(),
                             interval=config.batch_interval() if interval is None else interval,
                             max_queue=max_queue or config.max_queue())
        self._put = self.sender.put
        self._flush_hooks = []
        self._closed = False
        self.sender.start()

    # -- capture (called from the training code) -----------------------------------------

    def send_event(self, event):
        event["key"] = f"{self.id}-{next(self._seq)}"
        self._put(EVENT, event)

    def register_dataflow(self, spec):
        self._put(DATAFLOW, spec)

    # -- synchronisation -----------------------------------------------------------------

    def add_flush_hook(self, fn):
        """`fn()` runs at the start of every flush (e.g. to close a training that died)."""
        if fn not in self._flush_hooks:
            self._flush_hooks.append(fn)

    def flush(self, timeout=None):
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

    def close(self, timeout=None):
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
        self.transport.close()
        self.spool.close()
        return done

    def stats(self):
        return dict(self.sender.stats)


_client = None
_client_lock = threading.Lock()


def get_client():
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


def set_client(client):
    """Replaces the shared client (tests; custom URL). Returns the previous one."""
    global _client
    with _client_lock:
        old, _client = _client, client
    return old


def configure(url=None, token=None, spool_dir=None, ca_file=None, **options):
    """Starts a new shared client with these settings (the old one is flushed and closed).
    `ca_file`: PEM CA certificate(s) to trust for https (default DNNPROV_CA_FILE).
    Options: batch_size, interval (seconds), max_queue (events held in memory)."""
    old = set_client(Client(url=url, token=token, spool_dir=spool_dir, ca_file=ca_file, **options))
    atexit.register(_at_exit)
    if old is not None:
        old.close(config.exit_timeout())
    return _client


def flush(timeout=None):
    """Waits until everything captured so far is stored by the server or spooled."""
    return get_client().flush(timeout)


def _at_exit():
    c = _client
    if c is None or c._closed:
        return
    t0 = time.monotonic()
    try:
        c.close(config.exit_timeout())
    except Exception:
        log.warning("dnnprov: error at exit", exc_info=True)
    log.debug("dnnprov: exit flush took %.3fs", time.monotonic() - t0)
