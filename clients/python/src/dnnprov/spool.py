"""The local spool: what could not be delivered yet, in order, on disk.

One JSON-lines file per client instance, `<server hash>-<client id>.jsonl` in the spool
directory, each line one record: `{"kind": "batch", "events": [...]}` or
`{"kind": "dataflow", "spec": {...}}`. Appends are fsync'd. The owner holds an exclusive
lock on `<file>.lock` for its whole life, so a file whose lock can be taken belongs to a
process that is gone: another client for the same server adopts it (copies its records ahead
of its own) and replays it. Replaying twice is harmless: events carry idempotency keys and
dataflow registration is idempotent.
"""
import glob
import hashlib
import json
import logging
import os

try:
    import fcntl
except ImportError:  # not on POSIX: no adoption of other processes' spools
    fcntl = None

log = logging.getLogger("dnnprov")


def server_hash(url):
    return hashlib.sha1(url.encode()).hexdigest()[:12]


def _try_lock(path):
    """An exclusively locked file object, or None when another process holds the lock."""
    if fcntl is None:
        return None
    f = open(path, "a+b")
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        return None
    return f


class Spool:
    def __init__(self, directory, url, client_id):
        self.directory = directory
        self.prefix = server_hash(url)
        self.path = os.path.join(directory, f"{self.prefix}-{client_id}.jsonl")
        self._lock = None
        self._file = None       # append handle, opened on first write
        self._read_offset = 0   # start of the first record not yet delivered
        self._size = 0

    # -- writing -----------------------------------------------------------------------

    def _open(self):
        if self._file is None:
            os.makedirs(self.directory, exist_ok=True)
            # Lock before the spool file exists, so nobody can adopt it while we live.
            self._lock = _try_lock(self.path + ".lock")
            self._file = open(self.path, "ab")
            self._size = self._file.seek(0, os.SEEK_END)

    def append_lines(self, lines):
        """Appends encoded records (bytes without newline) and fsyncs."""
        if not lines:
            return
        self._open()
        data = b"".join(line + b"\n" for line in lines)
        self._file.write(data)
        self._file.flush()
        os.fsync(self._file.fileno())
        self._size += len(data)

    def append(self, kind, payload):
        self.append_lines([encode_record(kind, payload)])

    # -- reading -----------------------------------------------------------------------

    def pending(self):
        return self._size > self._read_offset

    def peek(self):
        """The first undelivered record as (kind, payload, end offset); skips broken lines
        (a crash in the middle of a write leaves at most the last line truncated)."""
        while self.pending():
            with open(self.path, "rb") as f:
                f.seek(self._read_offset)
                line = f.readline()
            end = self._read_offset + len(line)
            try:
                rec = json.loads(line)
                return rec["kind"], rec.get("events") if rec["kind"] == "batch" else rec["spec"], end
            except (ValueError, KeyError, TypeError):
                log.warning("dnnprov: skipping an unreadable spool record in %s", self.path)
                self.advance(end)
        return None

    def advance(self, end):
        self._read_offset = end
        if self._read_offset >= self._size:
            # Everything delivered: start the file over.
            self._file.truncate(0)
            self._file.flush()
            os.fsync(self._file.fileno())
            self._size = self._read_offset = 0

    # -- adoption of spools left by dead processes -------------------------------------

    def adopt_orphans(self):
        """Copies the records of spool files for the same server whose owner is gone to the
        end of ours (they are older than anything we hold in memory). Returns the count."""
        if fcntl is None or not os.path.isdir(self.directory):
            return 0
        adopted = 0
        for other in sorted(glob.glob(os.path.join(self.directory, self.prefix + "-*.jsonl")),
                            key=lambda p: os.path.getmtime(p) if os.path.exists(p) else 0):
            if other == self.path:
                continue
            lock = _try_lock(other + ".lock")
            if lock is None:
                continue  # its owner is alive, or someone else is adopting it
            try:
                if not os.path.exists(other):
                    continue
                with open(other, "rb") as f:
                    lines = [ln.rstrip(b"\n") for ln in f if ln.strip()]
                self.append_lines(lines)
                os.unlink(other)
                adopted += len(lines)
                if lines:
                    log.info("dnnprov: replaying %d spooled records left by an earlier process (%s)",
                             len(lines), os.path.basename(other))
            finally:
                try:
                    os.unlink(other + ".lock")
                except OSError:
                    pass
                lock.close()
        return adopted

    def close(self):
        """Releases the lock; removes the files when nothing is left to deliver."""
        if self._file is not None:
            empty = not self.pending()
            self._file.close()
            self._file = None
            if empty:
                for p in (self.path, self.path + ".lock"):
                    try:
                        os.unlink(p)
                    except OSError:
                        pass
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def _jsonable(v):
    """JSON fallback for values the training code hands us (numpy scalars, arrays, dates)."""
    item = getattr(v, "item", None)
    if callable(item):
        try:
            return item()
        except (TypeError, ValueError):
            pass
    tolist = getattr(v, "tolist", None)
    if callable(tolist):
        return tolist()
    isoformat = getattr(v, "isoformat", None)
    if callable(isoformat):
        return str(v)
    return str(v)


def _finite(obj):
    """Replaces non-finite floats by the strings the server reads as NaN / infinities."""
    if isinstance(obj, float):
        if obj != obj:
            return "NaN"
        if obj in (float("inf"), float("-inf")):
            return "Infinity" if obj > 0 else "-Infinity"
        return obj
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def dumps(obj):
    """Compact JSON bytes; NaN and infinities become strings, numpy values plain numbers."""
    try:
        return json.dumps(obj, separators=(",", ":"), allow_nan=False, default=_jsonable).encode()
    except ValueError:
        # Rare: a non-finite float somewhere (possibly inside a numpy value).
        plain = json.loads(json.dumps(obj, default=_jsonable))
        return json.dumps(_finite(plain), separators=(",", ":"), allow_nan=False).encode()


def encode_record(kind, payload):
    if kind == "batch":
        return dumps({"kind": "batch", "events": payload})
    return dumps({"kind": kind, "spec": payload})
