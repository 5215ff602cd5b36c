"""Framework-neutral training capture: the rows of the Keras callback, from any training loop.

    run = TrainingRun("mnist", hyperparameters={"OPTIMIZER_NAME": "sgd", "LEARNING_RATE": 0.1},
                      layers=[{"NAME": "fc1", "TYPE": "Linear", "UNITS": 128}], framework="torch")
    with run:
        for epoch in range(10):
            ...
            run.step(loss=...)             # optional, per step (oTrainingStep)
            run.epoch(loss=..., accuracy=...)
            run.learning_rate(opt_lr)      # an Adaptation row when it changed
        run.test(loss=..., accuracy=...)

The dataflow is the one the Keras callback registers (DNNProv-Df / Keras-Prov): TrainingModel
(task "1": iTrainingModel, iLayers -> oTrainingModel, oModelFile, oTrainingStep), Adaptation
(task "2": iAdaptation -> oAdaptation), TestingModel (task "3": oTestingModel); every run is a new
execution named like the callback's. Nothing here raises into the training loop (a failure is
logged once per method and capture carries on) and nothing touches the network on the calling
thread: rows are enqueued on the client, whose sender thread sends (or spools) them. Step rows are
buffered and sent as one event per epoch (or per second / 1000 steps), so `step` costs a few
microseconds.
"""
from __future__ import annotations

import datetime
import enum
import functools
import logging
import math
import os
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, Callable, TypeVar

from . import client as client_mod
from . import model_files
from ._values import attribute_name, is_number, num, text, timestamp
from .execution import Execution, start_execution
from .model import AttributeType, Set, SetType, TaskStatus, error_text, remember_sets
from .predefined import (
    ADAPTATION_INPUT,
    ADAPTATION_OUTPUT,
    HYPERPARAMETERS,
    LAYER_ATTRIBUTES,
    MODEL_FILE_OUTPUT,
    TESTING_OUTPUT,
    TRAINING_OUTPUT,
    attrs,
    dl_transformations,
)
from .resources import ResourceProbe

__all__ = ["DEFAULT_HYPERPARAMETERS", "DLTask", "STEP_OUTPUT", "TrainingRun", "safe"]

log = logging.getLogger("dnnprov")

N, T = AttributeType.NUMERIC, AttributeType.TEXT
Attrs = list[tuple[str, AttributeType]]
F = TypeVar("F", bound=Callable[..., Any])

# Keras-Prov's choice of hyperparameters when the user makes none.
DEFAULT_HYPERPARAMETERS = {"OPTIMIZER_NAME": True, "LEARNING_RATE": True, "DECAY": False,
                           "MOMENTUM": False, "NUM_EPOCHS": True, "BATCH_SIZE": True,
                           "NUM_LAYERS": True}
# One row per training step (only in dataflows that recorded steps), then the step's metrics.
STEP_OUTPUT: Attrs = [("STEP", N), ("EPOCH", N), ("TIMESTAMP", T), ("LOSS", N), ("ACCURACY", N)]
# Metric keys that fill the fixed LOSS / ACCURACY attributes.
_FIXED = {"loss": "LOSS", "accuracy": "ACCURACY", "acc": "ACCURACY"}
_STEP_BUFFER = 1000      # steps per event at most
_STEP_INTERVAL = 1.0     # seconds between step events at most (checked at each step)


class DLTask(enum.Enum):
    """The tasks of a training: (transformation tag, task id)."""
    TRAINING = ("trainingmodel", "1")
    ADAPTATION = ("adaptation", "2")
    TESTING = ("testingmodel", "3")

    @property
    def transformation(self) -> str:
        return self.value[0]

    @property
    def task_id(self) -> str:
        return self.value[1]


DEPENDS_ON_TRAINING = [{"transformation": DLTask.TRAINING.transformation, "task": DLTask.TRAINING.task_id}]


def safe(method: F) -> F:
    """Capture must never break training: an exception becomes a warning (the first time for
    each method of each object, then debug)."""
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception:
            warned = self.__dict__.setdefault("_dnnprov_warned", set())
            first = method.__name__ not in warned
            warned.add(method.__name__)
            (log.warning if first else log.debug)("dnnprov: %s failed (training goes on)", method.__name__,
                                                   exc_info=True)
            return None
    return wrapper  # type: ignore[return-value]


_minute: tuple[int, str] = (-1, "")  # (minute since the epoch, its local "YYYY-MM-DD HH:MM:")


def _local_time(t: float) -> str:
    """Local time to the second, as `timestamp()`; the minute is formatted once (a cold
    `datetime.fromtimestamp` took ~15 µs inside a training loop)."""
    global _minute
    sec = int(t)
    minute = sec // 60
    cached = _minute
    if cached[0] != minute:
        cached = _minute = (minute, datetime.datetime.fromtimestamp(minute * 60).isoformat(" ", "seconds")[:-2])
    return f"{cached[1]}{sec % 60:02d}"


def _upper_keys(d: Mapping[str, Any] | None) -> dict[str, Any]:
    return {attribute_name(k): v for k, v in (d or {}).items()}


class _Metrics:
    """The metric attributes of one output set beyond its fixed ones, in first-seen order."""

    def __init__(self) -> None:
        self.extra: list[str] = []  # attribute names
        self._known: dict[str, str | None] = {}  # user key -> extra attribute name (None: fixed)

    def add(self, keys: Mapping[str, Any]) -> bool:
        """Learns the keys; returns whether the set gained attributes."""
        if keys.keys() <= self._known.keys():
            return False
        grew = False
        for k in keys:
            if k in self._known:
                continue
            fixed = _FIXED.get(k.lower())
            name = None if fixed else attribute_name(k)
            if name is not None and name in ("EPOCH", "STEP", "TIMESTAMP", "ELAPSED_TIME"):
                name = "METRIC_" + name
            self._known[k] = name
            if name is not None and name not in self.extra:
                self.extra.append(name)
                grew = True
        return grew

    def values(self, metrics: Mapping[str, Any]) -> tuple[float | None, float | None, list[float | None]]:
        """(loss, accuracy, the extra attributes' values)."""
        loss = acc = None
        by_name: dict[str, float | None] = {}
        for k, v in metrics.items():
            name = self._known.get(k)
            if name is None:
                if _FIXED.get(k.lower()) == "LOSS":
                    loss = num(v)
                else:
                    acc = num(v)
            else:
                by_name[name] = num(v)
        return loss, acc, [by_name.get(n) for n in self.extra]


class TrainingRun:
    """One training (one execution of the dataflow), driven by the caller.

    Args:
        dataflow: the dataflow tag (one per model family / experiment).
        hyperparameters: the iTrainingModel row, e.g. {"OPTIMIZER_NAME": "adam", "LEARNING_RATE":
            0.001, "NUM_EPOCHS": 10, "BATCH_SIZE": 32, "DROPOUT": 0.4}; names are upper-cased
            (Keras-Prov's names first, in their order, then the others).
        layers: the iLayers rows, one mapping per layer with NAME, TYPE and any of ACTIVATION,
            UNITS, FILTERS, KERNEL_SIZE, STRIDES, PADDING, DROPOUT_RATE, PARAMS; other keys
            (IN_FEATURES, ...) become more attributes of iLayers.
        framework: e.g. "torch" or "torch 2.5.1": added to the execution info (framework,
            framework_version).
        execution: the execution's name (default `<dataflow>-<time>-<pid>-<random>`).
        adaptation: record learning-rate changes as the Adaptation task.
        client: the client to enqueue on (default the shared one, `dnnprov.get_client()`).
        resources: add CPU_TIME and RSS_MB (and GPU figures) to each epoch row.
        adaptation_params: the iAdaptation row (EPOCHS_DROP, DROP, INITIAL_LRATE).
    """

    def __init__(self, dataflow: str, *, hyperparameters: Mapping[str, Any] | None = None,
                 layers: Sequence[Mapping[str, Any]] | None = None, framework: str | None = None,
                 execution: str | None = None, adaptation: bool = True, client: client_mod.Client | None = None,
                 resources: bool = False, adaptation_params: Mapping[str, Any] | None = None) -> None:
        self.dataflow = dataflow.lower()
        self.hyperparameters = _upper_keys(hyperparameters)
        self.layers = [_upper_keys(layer) for layer in (layers or [])]
        self.framework = framework
        self.execution_name = execution
        self.adaptation = adaptation
        self.adaptation_params = _upper_keys(adaptation_params)
        self._client = client
        self._probe: ResourceProbe | None = ResourceProbe() if resources else None
        self._execution: Execution | None = None
        self._started = False
        self._finished = False
        self._epoch = 0                 # epochs recorded so far (the last EPOCH)
        self._step = 0                  # steps recorded so far
        self._t_last = time.time()      # the end of the previous epoch (or the start)
        self._lr_seen: float | None = None
        self._adaptation_id = 0
        self._train = _Metrics()
        self._test = _Metrics()
        self._steps = _Metrics()
        self._step_rows: list[list[Any]] = []
        self._step_t0 = 0.0
        self._has_steps = False
        self._model_files = False
        self._files = model_files.FileRecorder()
        self._lock = threading.Lock()   # the hashing thread emits file rows too
        self._names: dict[str, list[str]] = {}  # set tag -> attribute names (lower case), until _register
        known = [n for n, _ in HYPERPARAMETERS]
        self._hyper: Attrs = [(n, t) for n, t in HYPERPARAMETERS if n in self.hyperparameters]
        self._hyper += [(n, N if is_number(v) else T) for n, v in self.hyperparameters.items() if n not in known]
        layer_names = [n for n, _ in LAYER_ATTRIBUTES]
        more: dict[str, list[Any]] = {}  # NUMERIC when every value given is a number
        for layer in self.layers:
            for k, v in layer.items():
                if k not in layer_names:
                    more.setdefault(k, [])
                    if v is not None:
                        more[k].append(v)
        self._layer_attrs: Attrs = LAYER_ATTRIBUTES + [
            (k, N if vs and all(is_number(v) for v in vs) else T) for k, vs in more.items()]

    # -- the dataflow and events -------------------------------------------------------

    @property
    def client(self) -> client_mod.Client:
        return self._client if self._client is not None else client_mod.get_client()

    @property
    def execution(self) -> Execution | None:
        return self._execution

    def _training_output(self) -> Attrs:
        res = self._probe.attributes if self._probe is not None else []
        return TRAINING_OUTPUT + res + [(a, N) for a in self._train.extra]

    def _step_output(self) -> Attrs:
        return STEP_OUTPUT + [(a, N) for a in self._steps.extra]

    def _testing_output(self) -> Attrs:
        return TESTING_OUTPUT + [(a, N) for a in self._test.extra]

    def _register(self) -> None:
        transformations = dl_transformations(
            hyperparameters=self._hyper, training_output=self._training_output(),
            testing_output=self._testing_output(), adaptation=self.adaptation, model_files=self._model_files)
        self._names.clear()
        specs = [t.get_specification() for t in transformations]
        specs[0]["sets"] = [s for s in specs[0]["sets"] if s["tag"] != "ilayers"] + [
            _set_spec("iLayers", "INPUT", self._layer_attrs)]
        if self._has_steps:
            specs[0]["sets"].append(_set_spec("oTrainingStep", "OUTPUT", self._step_output()))
        spec = {"tag": self.dataflow, "transformations": specs}
        remember_sets(spec)
        self.client.register_dataflow(spec)

    def _names_of(self, tag: str, attrs: Attrs) -> list[str]:
        names = self._names.get(tag)
        if names is None or len(names) != len(attrs):
            names = self._names[tag] = [n.lower() for n, _ in attrs]
        return list(names)

    def _emit(self, task: DLTask, status: TaskStatus, sets: list[tuple[str, Attrs, list[list[Any]]]] | None = None,
              error: str | None = None, files: list[dict[str, str]] | None = None) -> None:
        ev: dict[str, Any] = {"dataflow": self.dataflow, "transformation": task.transformation,
                              "task": task.task_id, "status": status.value, "time": time.time()}
        if task is not DLTask.TRAINING:
            ev["dependencies"] = DEPENDS_ON_TRAINING
        if sets:
            ev["sets"] = [{"tag": tag, "_names": self._names_of(tag, attrs), "elements": rows}
                          for tag, attrs, rows in sets]
        if files:
            ev["files"] = files
        if error:
            ev["error"] = error
        assert self._execution is not None
        with self._lock:
            self._execution.stamp(ev)
        info = ev.get("execution_info")
        if info is not None and self.framework:
            # In `hardware`, where the server keeps the environment (the PROV export reads
            # framework, framework_version and the frameworks' names there).
            name, _, version = self.framework.partition(" ")
            hw = dict(info.get("hardware") or {}, framework=name)
            if version:
                hw["framework_version"] = hw[name] = version
            info["hardware"] = hw
        self.client.send_event(ev)

    # -- the training ------------------------------------------------------------------

    @safe
    def start(self) -> None:
        """Registers (or extends) the dataflow and begins the TrainingModel task with the
        hyperparameters and layers (and the Adaptation task). Called by `with`; once."""
        if self._started:
            return
        self._started = True
        self._execution = start_execution(self.dataflow, self.execution_name)
        self._register()
        self._t_last = time.time()
        if self._probe is not None:
            self._probe.start_epoch()
        row = [self.hyperparameters.get(n) for n, _ in self._hyper]
        layer_rows = [[_layer_value(layer.get(n)) for n, _ in self._layer_attrs] for layer in self.layers]
        self._emit(DLTask.TRAINING, TaskStatus.RUNNING, [("itrainingmodel", self._hyper, [row]),
                                                         ("ilayers", self._layer_attrs, layer_rows)])
        if self.adaptation:
            lr = num(self.hyperparameters.get("LEARNING_RATE"))
            self._lr_seen = lr
            sets = None
            if self.adaptation_params:
                sets = [("iadaptation", ADAPTATION_INPUT,
                         [[self.adaptation_params.get(n) for n, _ in ADAPTATION_INPUT]])]
            self._emit(DLTask.ADAPTATION, TaskStatus.RUNNING, sets)

    def _ready(self) -> bool:
        if not self._started:
            self.start()
        return self._execution is not None and not self._finished

    @safe
    def epoch(self, epoch: int | None = None, **metrics: Any) -> None:
        """One oTrainingModel row: TIMESTAMP, ELAPSED_TIME (seconds since the previous epoch
        row, or the start), LOSS, ACCURACY, EPOCH (1-based; the next one when None), resources,
        then the other metrics (upper-cased: val_loss -> VAL_LOSS; new names extend the set)."""
        if not self._ready():
            return
        now = time.time()
        self._epoch = self._epoch + 1 if epoch is None else int(epoch)
        self._flush_steps()
        if self._train.add(metrics):
            self._register()
        loss, acc, extra = self._train.values(metrics)
        row = [_local_time(now), now - self._t_last, loss, acc, self._epoch]
        if self._probe is not None:
            row += self._probe.values()
            self._probe.start_epoch()
        row += extra
        self._t_last = now
        self._emit(DLTask.TRAINING, TaskStatus.RUNNING, [("otrainingmodel", self._training_output(), [row])])

    def step(self, step: int | None = None, **metrics: Any) -> None:
        """One oTrainingStep row: STEP (1-based, counted when None), EPOCH (the epoch in
        progress, 1-based), TIMESTAMP, LOSS, ACCURACY, then the other metrics. Buffered: sent
        with the next epoch row, or every second / 1000 steps."""
        try:
            if not self._started or self._finished:
                if not self._ready():
                    return
            self._step = self._step + 1 if step is None else int(step)
            now = time.time()
            if not self._step_rows:
                self._step_t0 = now
            self._step_rows.append([self._step, self._epoch + 1, now, metrics])
            if len(self._step_rows) >= _STEP_BUFFER or now - self._step_t0 >= _STEP_INTERVAL:
                self._flush_steps()
        except Exception:
            self._warn_once("step")

    def _flush_steps(self) -> None:
        rows, self._step_rows = self._step_rows, []
        if not rows:
            return
        grew = not self._has_steps
        self._has_steps = True
        for r in rows:
            grew = self._steps.add(r[3]) or grew
        if grew:
            self._register()
        out = []
        stamps: dict[int, str] = {}  # formatted once per second
        for s, e, t, m in rows:
            loss, acc, extra = self._steps.values(m)
            sec = int(t)
            ts = stamps.get(sec)
            if ts is None:
                ts = stamps[sec] = _local_time(sec)
            out.append([s, e, ts, loss, acc] + extra)
        self._emit(DLTask.TRAINING, TaskStatus.RUNNING, [("otrainingstep", self._step_output(), out)])

    def learning_rate(self, lr: float, epoch: int | None = None) -> None:
        """Records `lr` as an Adaptation row (NEW_LRATE, TIMESTAMP, EPOCH_ID, ADAPTATION_ID) when it
        differs from the last rate seen (the LEARNING_RATE hyperparameter at first). EPOCH_ID is
        the 1-based epoch that trains with it (default: the epoch in progress)."""
        try:
            if not self.adaptation:
                return
            lr = float(lr)
            old = self._lr_seen
            if old is not None and (lr == old or math.isclose(lr, old, rel_tol=1e-7, abs_tol=0.0)):
                return
            self._lr_seen = lr
            if old is None or not self._ready():
                return
            self._adaptation_id += 1
            self._emit(DLTask.ADAPTATION, TaskStatus.RUNNING, [
                ("oadaptation", ADAPTATION_OUTPUT,
                 [[lr, timestamp(), self._epoch + 1 if epoch is None else int(epoch), self._adaptation_id]])])
        except Exception:
            self._warn_once("learning_rate")

    @safe
    def test(self, **metrics: Any) -> None:
        """A TestingModel task with one oTestingModel row: ACCURACY, LOSS, EPOCH (the last
        epoch recorded), then the other metrics. Also after `finish`."""
        if not self._started:
            self.start()
        if self._execution is None:
            return
        self._flush_steps()
        if self._test.add(metrics):
            self._register()
        loss, acc, extra = self._test.values(metrics)
        self._emit(DLTask.TESTING, TaskStatus.RUNNING)
        self._emit(DLTask.TESTING, TaskStatus.FINISHED,
                   [("otestingmodel", self._testing_output(), [[acc, loss, self._epoch or None] + extra])])

    def record_file(self, path: str | os.PathLike[str], epoch: int | None = None) -> bool:
        """Records a model file as an oModelFile row (PATH, SIZE, SHA256, EPOCH, TIMESTAMP) of
        this run's TrainingModel task; the file is read and hashed on a background thread.
        `epoch` default: the last epoch recorded. Returns whether it was queued; never raises."""
        try:
            if not self._started:
                self.start()
            if self._execution is None:
                return False
            if not self._model_files:
                self._model_files = True
                self._register()
                self.client.add_flush_hook(model_files.flush_hook)
            return self._files.record(path, (self._epoch or None) if epoch is None else epoch, self._send_file)
        except Exception:
            self._warn_once("record_file")
            return False

    def _send_file(self, f: model_files.ModelFile) -> None:
        """On the hashing thread."""
        self._emit(DLTask.TRAINING, TaskStatus.RUNNING, [("omodelfile", MODEL_FILE_OUTPUT, [f.row()])],
                   files=[f.file_entry()])

    @safe
    def finish(self, error: BaseException | str | None = None) -> None:
        """Ends the training FINISHED, or FAILED with the error (`Type: message`). Once."""
        if not self._started:
            self.start()
        if self._finished or self._execution is None:
            return
        self._flush_steps()
        self._finished = True
        status = TaskStatus.FINISHED if error is None else TaskStatus.FAILED
        text_ = None if error is None else (error if isinstance(error, str) else error_text(error))
        self._emit(DLTask.TRAINING, status, error=text_)
        if self.adaptation:
            self._emit(DLTask.ADAPTATION, status, error=text_)

    def __enter__(self) -> TrainingRun:
        self.start()
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.finish(exc)  # never swallows the exception

    def _warn_once(self, what: str) -> None:
        warned = self.__dict__.setdefault("_dnnprov_warned", set())
        first = what not in warned
        warned.add(what)
        (log.warning if first else log.debug)("dnnprov: %s failed (training goes on)", what, exc_info=True)


def _set_spec(tag: str, kind: str, pairs: Attrs) -> dict[str, Any]:
    return Set(tag, SetType(kind), attrs(pairs)).get_specification()


def _layer_value(v: Any) -> Any:
    if v is None or isinstance(v, (str, bool)):
        return v
    if isinstance(v, (int, float)) or is_number(v):
        return num(v)
    return text(v)
