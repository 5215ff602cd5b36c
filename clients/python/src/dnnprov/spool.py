"""The local spool: what could not be delivered yet, in order, on disk.

One JSON-lines file per client instance, `<server hash>-<client id>.jsonl` in the spool
directory (the server hash: the first 12 hex digits of the SHA-1 of the server URL), each line
one record: `{"kind": "batch", "events": [...]}` (the events as `POST /api/v1/batch` takes them)
or `{"kind": "dataflow", "spec": {...}}` (as `POST /api/v1/dataflows` takes it). Appends are
fsync'd. README.md ("Spool files") describes the format for other readers. The owner holds an exclusive
lock on `<file>.lock` for its whole life, so a file whose lock can be taken belongs to a
process that is gone: another client for the same server adopts it (copies its records ahead
of its own) and replays it. Replaying twice is harmless: events carry idempotency keys and
dataflow registration is idempotent.
"""
from __future__ import annotations

import enum
import glob
import hashlib
import json
import logging
import os
from typing import IO, Any

fcntl: Any
try:
    import fcntl
except ImportError:  # not on POSIX: no adoption of other processes' spools
    fcntl = None

log = logging.getLogger("dnnprov")


class RecordKind(str, enum.Enum):
    """The `kind` of a spool record."""
    BATCH = "batch"        # {"kind": "batch", "events": [event, ...]}
    DATAFLOW = "dataflow"  # {"kind": "dataflow", "spec": {...}}


def server_hash(url: str) -> str:
    """The spool files' name prefix for a server URL."""
    return hashlib.sha1(url.encode()).hexdigest()[:12]


def _try_lock(path: str) -> IO[bytes] | None:
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
    def __init__(self, directory: str, url: str, client_id: str) -> None:
        self.directory = directory
        self.prefix = server_hash(url)
        self.path = os.path.join(directory, f"{self.prefix}-{client_id}.jsonl")
        self._lock: IO[bytes] | None = None
        self._file: IO[bytes] | None = None  # append handle, opened on first write
        self._read_offset = 0   # start of the first record not yet delivered
        self._size = 0
        self._url = url

    # -- writing -----------------------------------------------------------------------

    def _write_url(self) -> None:
        """`<hash>.url` beside the spool files: the server they were for, so that
        `dnnprov spool status|replay` can name it (the file names hold only its hash)."""
        path = os.path.join(self.directory, f"{self.prefix}.url")
        if os.path.exists(path):
            return
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(self._url)
        except OSError:
            pass  # only a convenience: replay can be given --to

    def _open(self) -> None:
        if self._file is None:
            os.makedirs(self.directory, exist_ok=True)
            self._write_url()
            # Lock before the spool file exists, so nobody can adopt it while we live.
            self._lock = _try_lock(self.path + ".lock")
            self._file = open(self.path, "ab")
            self._size = self._file.seek(0, os.SEEK_END)

    def append_lines(self, lines: list[bytes]) -> None:
        """Appends encoded records (bytes without newline) and fsyncs."""
        if not lines:
            return
        self._open()
        assert self._file is not None
        data = b"".join(line + b"\n" for line in lines)
        self._file.write(data)
        self._file.flush()
        os.fsync(self._file.fileno())
        self._size += len(data)

    def append(self, kind: RecordKind, payload: Any) -> None:
        self.append_lines([encode_record(kind, payload)])

    # -- reading -----------------------------------------------------------------------

    def pending(self) -> bool:
        return self._size > self._read_offset

    def peek(self) -> tuple[RecordKind, Any, int] | None:
        """The first undelivered record as (kind, payload, end offset); skips broken lines
        (a crash in the middle of a write leaves at most the last line truncated)."""
        while self.pending():
            with open(self.path, "rb") as f:
                f.seek(self._read_offset)
                line = f.readline()
            end = self._read_offset + len(line)
            try:
                rec = json.loads(line)
                kind = RecordKind(rec["kind"])
                return kind, rec["events"] if kind is RecordKind.BATCH else rec["spec"], end
            except (ValueError, KeyError, TypeError):
                log.warning("dnnprov: skipping an unreadable spool record in %s", self.path)
                self.advance(end)
        return None

    def advance(self, end: int) -> None:
        self._read_offset = end
        if self._read_offset >= self._size and self._file is not None:
            # Everything delivered: start the file over.
            self._file.truncate(0)
            self._file.flush()
            os.fsync(self._file.fileno())
            self._size = self._read_offset = 0

    # -- adoption of spools left by dead processes -------------------------------------

    def adopt_orphans(self) -> int:
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
                    log.info("dnnprov: replaying %d spooled records left by an earlier process (%s, "
                             "now in %s)", len(lines), other, self.path)
            finally:
                try:
                    os.unlink(other + ".lock")
                except OSError:
                    pass
                lock.close()
        return adopted

    def close(self) -> None:
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


def _jsonable(v: Any) -> Any:
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


def _finite(obj: Any) -> Any:
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


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes; NaN and infinities become strings, numpy values plain numbers."""
    try:
        return json.dumps(obj, separators=(",", ":"), allow_nan=False, default=_jsonable).encode()
    except ValueError:
        # Rare: a non-finite float somewhere (possibly inside a numpy value).
        plain = json.loads(json.dumps(obj, default=_jsonable))
        return json.dumps(_finite(plain), separators=(",", ":"), allow_nan=False).encode()


def encode_record(kind: RecordKind, payload: Any) -> bytes:
    """One spool line (without its newline). Events are written as the server takes them."""
    if RecordKind(kind) is RecordKind.BATCH:
        return dumps({"kind": RecordKind.BATCH.value, "events": [wire_event(e) for e in payload]})
    return dumps({"kind": RecordKind.DATAFLOW.value, "spec": payload})


def wire_event(ev: dict[str, Any]) -> dict[str, Any]:
    """The event as sent: rows that carry their attribute names (`_names`, client side) name
    them in `attributes`, so the server puts each value in its column even when other runs
    extended the dataflow in another order."""
    sets = ev.get("sets")
    if not sets or not any("_names" in s for s in sets):
        return ev
    ev = dict(ev)
    ev["sets"] = [{"tag": s["tag"], "attributes": s["_names"], "elements": s["elements"]} if "_names" in s else s
                  for s in sets]
    return ev
