"""Model files: which files a training wrote (checkpoints), with their size and SHA-256.

Framework independent; the Keras callback uses it (`dnnprov.keras`), and any other helper can.
The training thread only `stat`s the candidate paths at epoch ends (a few microseconds each)
and queues what is new or changed; one daemon thread per process reads and hashes the files and
hands each result to the sink the caller gave (which enqueues an event). Nothing here raises
into training: a file removed or unreadable before it was hashed is logged once per kind of
problem (per recorder) and skipped.
"""
from __future__ import annotations

import collections
import datetime
import enum
import glob
import hashlib
import logging
import os
import re
import stat
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Callable, Union

from . import config

log = logging.getLogger("dnnprov")

PathLike = Union[str, "os.PathLike[str]"]

# Read this much at a time while hashing (hashlib releases the GIL on large updates).
CHUNK = 1 << 20
# File times come from a coarse clock (up to a tick behind the wall clock): a file written just
# after a fit began may look a little older than the fit.
CLOCK_SLACK_NS = 50_000_000
_FIELD = re.compile(r"\{[^{}]*\}")


class FileOrigin(enum.Enum):
    """Why a file is recorded."""
    CHECKPOINT = "checkpoint"  # the `filepath` of a keras.callbacks.ModelCheckpoint of the fit
    DECLARED = "declared"      # a path given to the callback (`files=[...]`), written by user code
    RECORDED = "recorded"      # an explicit `record_file(path)`


class Problem(enum.Enum):
    """What can go wrong with a file; each kind is logged once per recorder."""
    MISSING = "does not exist"
    VANISHED = "was removed before it could be hashed"
    UNREADABLE = "could not be read"
    NOT_A_FILE = "is not a regular file (a directory?), so it is not recorded"
    CHANGED = "was rewritten while it was being hashed (the newer version is recorded when it is found)"
    SINK_FAILED = "was hashed but could not be recorded"
    CHECK_FAILED = "could not be checked"


class ProblemLog:
    """Logs the first problem of each kind as a warning, later ones at debug level."""

    def __init__(self) -> None:
        self._seen: set[Problem] = set()
        self._lock = threading.Lock()

    def report(self, problem: Problem, path: str, error: BaseException | None = None) -> None:
        with self._lock:
            first = problem not in self._seen
            self._seen.add(problem)
        detail = f": {type(error).__name__}: {error}" if error is not None else ""
        if first:
            log.warning("dnnprov: model file %s %s%s (training goes on; further problems of this kind "
                        "are logged at debug level)", path, problem.value, detail)
        else:
            log.debug("dnnprov: model file %s %s%s", path, problem.value, detail)


@dataclass(frozen=True)
class Stamp:
    """What tells one write of a file from another."""
    mtime_ns: int
    size: int
    inode: int

    @classmethod
    def of(cls, st: os.stat_result) -> Stamp:
        return cls(st.st_mtime_ns, st.st_size, st.st_ino)


@dataclass(frozen=True)
class ModelFile:
    """A hashed file: one oModelFile row (see predefined.MODEL_FILE_OUTPUT)."""
    path: str
    size: int
    sha256: str
    epoch: int | None
    timestamp: str  # the file's modification time, local, "YYYY-MM-DD HH:MM:SS"
    origin: FileOrigin

    def row(self) -> list[Any]:
        return [self.path, self.size, self.sha256, self.epoch, self.timestamp]

    def file_entry(self) -> dict[str, str]:
        """The task event's `files` entry: name and directory."""
        return {"name": os.path.basename(self.path), "path": os.path.dirname(self.path)}


Sink = Callable[[ModelFile], None]


@dataclass(frozen=True)
class Job:
    path: str
    epoch: int | None
    origin: FileOrigin
    sink: Sink
    problems: ProblemLog


def sha256_of(path: str) -> tuple[str, int, os.stat_result]:
    """(hex digest, bytes read, stat of the open file). Raises `ChangedWhileReading` when the
    file was rewritten meanwhile (the digest would be of neither version)."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                break
            h.update(chunk)
            size += len(chunk)
    if size != st.st_size or Stamp.of(os.stat(path)) != Stamp.of(st):
        raise ChangedWhileReading(path)
    return h.hexdigest(), size, st


class ChangedWhileReading(OSError):
    pass


def _local_time(mtime: float) -> str:
    return datetime.datetime.fromtimestamp(mtime).isoformat(" ", "seconds")


def process(job: Job) -> ModelFile | None:
    """Hashes the job's file and gives the result to its sink (on the hashing thread)."""
    try:
        digest, size, st = sha256_of(job.path)
    except FileNotFoundError as e:
        job.problems.report(Problem.VANISHED, job.path, e)
        return None
    except ChangedWhileReading:
        job.problems.report(Problem.CHANGED, job.path)
        return None
    except IsADirectoryError as e:
        job.problems.report(Problem.NOT_A_FILE, job.path, e)
        return None
    except OSError as e:
        job.problems.report(Problem.UNREADABLE, job.path, e)
        return None
    mf = ModelFile(job.path, size, digest, job.epoch, _local_time(st.st_mtime), job.origin)
    try:
        job.sink(mf)
    except Exception as e:
        job.problems.report(Problem.SINK_FAILED, job.path, e)
        return None
    return mf


class Hasher:
    """One daemon thread that hashes queued files in order (started on first use)."""

    def __init__(self) -> None:
        self._jobs: collections.deque[Job] = collections.deque()
        self._cond = threading.Condition()
        self._pending = 0
        self._thread: threading.Thread | None = None

    def submit(self, job: Job) -> None:
        with self._cond:
            self._jobs.append(job)
            self._pending += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="dnnprov-model-files", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Waits until every file queued so far is hashed and handed over (False on timeout)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout)

    @property
    def pending(self) -> int:
        return self._pending

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._jobs))
                job = self._jobs.popleft()
            try:
                process(job)
            except Exception:  # process() handles what it expects; this is a last resort
                log.warning("dnnprov: hashing %s failed", job.path, exc_info=True)
            finally:
                with self._cond:
                    self._pending -= 1
                    self._cond.notify_all()


HASHER = Hasher()


def wait(timeout: float | None = None) -> bool:
    """Waits until the files queued so far (by any recorder of the process) are hashed and
    their rows enqueued."""
    return HASHER.wait(timeout)


def flush_hook() -> None:
    """For `Client.add_flush_hook`: every `dnnprov.flush()` (and the exit flush) first waits,
    up to DNNPROV_EXIT_TIMEOUT seconds, for the files queued so far."""
    if not wait(config.exit_timeout()):
        log.warning("dnnprov: %d model files were still being hashed after %.1fs; their rows may be missing",
                    HASHER.pending, config.exit_timeout())


class PathTemplate:
    """A path to watch, possibly with Keras-style fields: `ckpt-{epoch:02d}-{val_loss:.2f}.keras`
    is formatted with the 1-based epoch and the epoch's logs, as ModelCheckpoint does; when that
    fails (a `{batch}` field, a metric not in the logs) the files matching the pattern are
    checked instead."""

    def __init__(self, template: PathLike, origin: FileOrigin) -> None:
        self.template = os.fspath(template)
        self.origin = origin
        self.templated = bool(_FIELD.search(self.template))
        self.pattern = _FIELD.sub("*", glob.escape(self.template)) if self.templated else None

    def paths(self, epoch: int, logs: Mapping[str, Any]) -> list[str]:
        if not self.templated:
            return [self.template]
        try:
            return [self.template.format(epoch=epoch + 1, **logs)]
        except Exception:
            return glob.glob(self.pattern or "")

    def __repr__(self) -> str:
        return f"PathTemplate({self.template!r}, {self.origin.name})"


class FileRecorder:
    """Finds the files one training wrote and queues them for hashing.

    `start_fit(templates)` at the start of each fit; `check(epoch, logs, sink)` after each epoch
    (0-based, as Keras counts; stored 1-based like oTrainingModel's EPOCH) and at the end of the
    fit; `record(path, epoch, sink)` for a file the user names. A file is queued when it was
    written during the fit (modification time) and differs (time, size, inode) from what was
    last queued for that path, so a `save_best_only` checkpoint is recorded each time it is
    rewritten and only then.
    """

    def __init__(self, declared: Iterable[PathLike] = ()) -> None:
        self.declared = [PathTemplate(p, FileOrigin.DECLARED) for p in declared]
        self.templates: list[PathTemplate] = []
        self.problems = ProblemLog()
        self._seen: dict[str, Stamp] = {}
        self._since_ns = 0

    @property
    def active(self) -> bool:
        """Whether this fit has paths to watch."""
        return bool(self.templates)

    def start_fit(self, templates: Iterable[PathTemplate] = ()) -> None:
        self.templates = self.declared + list(templates)
        self._since_ns = time.time_ns() - CLOCK_SLACK_NS

    def check(self, epoch: int, logs: Mapping[str, Any], sink: Sink) -> int:
        """Queues the watched files written since they were last seen; returns how many.
        Never raises."""
        queued = 0
        for t in self.templates:
            try:
                for path in t.paths(epoch, logs):
                    queued += self._check_path(path, epoch + 1, t.origin, sink)
            except Exception as e:
                self.problems.report(Problem.CHECK_FAILED, t.template, e)
        return queued

    def _check_path(self, path: str, epoch: int, origin: FileOrigin, sink: Sink) -> int:
        try:
            st = os.stat(path)
        except OSError:
            return 0  # not written (yet): save_best_only, or a checkpoint later in the callback list
        if st.st_mtime_ns < self._since_ns:
            return 0  # left by an earlier run
        path = os.path.abspath(path)
        if not stat.S_ISREG(st.st_mode):
            self.problems.report(Problem.NOT_A_FILE, path)
            return 0
        stamp = Stamp.of(st)
        if self._seen.get(path) == stamp:
            return 0
        self._seen[path] = stamp
        HASHER.submit(Job(path, epoch, origin, sink, self.problems))
        return 1

    def record(self, path: PathLike, epoch: int | None, sink: Sink) -> bool:
        """Queues `path` (whenever it was written) unless this very write was queued already.
        Returns whether it was queued; never raises."""
        try:
            p = os.path.abspath(os.fspath(path))
            try:
                st = os.stat(p)
            except FileNotFoundError as e:
                self.problems.report(Problem.MISSING, p, e)
                return False
            if not stat.S_ISREG(st.st_mode):
                self.problems.report(Problem.NOT_A_FILE, p)
                return False
            stamp = Stamp.of(st)
            if self._seen.get(p) == stamp:
                return False
            self._seen[p] = stamp
            HASHER.submit(Job(p, epoch, FileOrigin.RECORDED, sink, self.problems))
            return True
        except Exception as e:
            self.problems.report(Problem.CHECK_FAILED, str(path), e)
            return False


__all__ = ["FileOrigin", "FileRecorder", "ModelFile", "PathTemplate", "Problem", "Sink", "flush_hook", "sha256_of",
           "wait"]
