"""Keras 3 integration: `ProvenanceCallback`, what Keras-Prov captured, without patching Keras.

    model.fit(x, y, epochs=10, callbacks=[ProvenanceCallback("alexnet")])

Each `fit` opens a new execution of the dataflow with the tasks of Keras-Prov: 1 TrainingModel
(hyperparameters, layers, one row per epoch), 2 Adaptation (one row per learning-rate change,
whatever changed it), 3 TestingModel (one row per `model.evaluate` after the fit).

The parts: this module (the callback and `provenance()`), `_fit` (which fit is running, and
noticing a fit that raised), `_values` (what is read from Keras), `resources` (CPU, memory,
GPU probes), `model_files` (checkpoints written during the fit: oModelFile rows, hashed off the
training thread).
"""
from __future__ import annotations

import functools
import logging
import math
import os
import sys
import time
from collections.abc import Iterable
from typing import Any, Callable, TypeVar

import keras

from . import _fit, model_files
from . import client as client_mod
from ._values import FIXED_KEYS, attribute_name, is_number, layer_rows, num, timestamp
from ._values import hyperparameters as read_hyperparameters
from ._values import learning_rate as read_learning_rate
from ._values import optimizer as model_optimizer
from .execution import Execution, start_execution
from .model import AttributeType, TaskStatus, error_text, remember_sets
from .predefined import (
    ADAPTATION_INPUT,
    ADAPTATION_OUTPUT,
    HYPERPARAMETERS,
    LAYER_ATTRIBUTES,
    MODEL_FILE_OUTPUT,
    TESTING_OUTPUT,
    TRAINING_OUTPUT,
    dl_transformations,
)
from .resources import ResourceProbe
from .training import DEFAULT_HYPERPARAMETERS, DLTask  # shared with dnnprov.training

__all__ = ["DEFAULT_HYPERPARAMETERS", "DLTask", "ProvenanceCallback", "attribute_name", "provenance"]

log = logging.getLogger("dnnprov")

N, T = AttributeType.NUMERIC, AttributeType.TEXT
Attrs = list[tuple[str, AttributeType]]
F = TypeVar("F", bound=Callable[..., Any])


# The tags and ids as plain values (kept for code that used them).
TRAINING, ADAPTATION, TESTING = (t.transformation for t in DLTask)
TASK_IDS = {t.transformation: t.task_id for t in DLTask}
DEPENDS_ON_TRAINING = [{"transformation": TRAINING, "task": DLTask.TRAINING.task_id}]


def _safe(method: F) -> F:
    """Provenance capture must never break training: errors become warnings."""
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception:
            log.warning("dnnprov: %s failed", method.__name__, exc_info=True)
    return wrapper  # type: ignore[return-value]


class ProvenanceCallback(keras.callbacks.Callback):
    """Captures a Keras 3 training as DNNProv-Df provenance.

    Args:
        dataflow_tag: the dataflow (one per model family / experiment).
        adaptation: capture learning-rate changes as Adaptation tasks.
        hyperparameters: which of OPTIMIZER_NAME, LEARNING_RATE, DECAY, MOMENTUM, NUM_EPOCHS,
            BATCH_SIZE, NUM_LAYERS to store (the Keras-Prov dictionary).
        extra: more values for iTrainingModel, e.g. {"DROPOUT": 0.4, "FILTER": "grayscale"}.
        resources: add CPU_TIME and RSS_MB (and GPU figures when available) per epoch.
        adaptation_params: the iAdaptation row, e.g. {"EPOCHS_DROP": 10, "DROP": 0.5,
            "INITIAL_LRATE": 0.002}.
        files: model files the user's own code writes during the fit (paths, or templates with
            `{epoch}` like ModelCheckpoint's), recorded like the checkpoints of the fit's
            `keras.callbacks.ModelCheckpoint`s: oModelFile rows (PATH, SIZE, SHA256, EPOCH,
            TIMESTAMP), hashed off the training thread. See also `record_file`.
    """

    def __init__(self, dataflow_tag: str = "alexnet", adaptation: bool = True,
                 hyperparameters: dict[str, bool] | None = None, extra: dict[str, Any] | None = None,
                 resources: bool = False, adaptation_params: dict[str, Any] | None = None,
                 files: Iterable[str | os.PathLike[str]] | None = None) -> None:
        super().__init__()
        self.dataflow_tag = dataflow_tag.lower()
        self.adaptation = adaptation
        chosen = DEFAULT_HYPERPARAMETERS if hyperparameters is None else hyperparameters
        chosen = {str(k).upper(): bool(v) for k, v in chosen.items()}
        self._hyper = [(n, t) for n, t in HYPERPARAMETERS if chosen.get(n)]
        self.extra = dict(extra or {})
        self._extra_attrs = [(attribute_name(k), N if is_number(v) else T, k) for k, v in self.extra.items()]
        self.adaptation_params = {str(k).upper(): v for k, v in (adaptation_params or {}).items()}
        self.resources = resources
        self._probe: ResourceProbe | None = ResourceProbe() if resources else None
        self._resource_attrs = self._probe.attributes if self._probe is not None else []
        self._train_metrics: list[tuple[str, str]] = []  # (keras key, attribute name) beyond the fixed ones
        self._test_metrics: list[tuple[str, str]] = []
        self._execution: Execution | None = None
        self._in_fit = False
        self._trained = False
        self._testing = False
        self._tracker = _fit.FitTracker()
        self._exc_at_begin: BaseException | None = None
        self._watched_optimizer: Any = None
        self._last_epoch: int | None = None
        self._begin_pending = False
        self._batch_hook_pending = False
        self._epoch = 0
        self._epoch_t0 = time.time()
        self._lr_seen: float | None = None
        self._adaptation_id = 0
        self._hook = _fit.FlushHook(self)
        self._files = model_files.FileRecorder(files or ())
        self._model_files = False  # whether the dataflow has oModelFile (once there is a file to record)
        self._files_epoch: int | None = None  # the epoch whose files are still to be looked for
        self._files_logs: dict[str, Any] = {}
        self._file_sink: model_files.Sink | None = None

    # -- the dataflow ------------------------------------------------------------------

    def _training_output(self) -> Attrs:
        return TRAINING_OUTPUT + self._resource_attrs + [(a, N) for _, a in self._train_metrics]

    def _testing_output(self) -> Attrs:
        return TESTING_OUTPUT + [(a, N) for _, a in self._test_metrics]

    def _register(self) -> None:
        hyper = self._hyper + [(a, t) for a, t, _ in self._extra_attrs]
        spec = {"tag": self.dataflow_tag, "transformations": [
            t.get_specification() for t in dl_transformations(
                hyperparameters=hyper, training_output=self._training_output(),
                testing_output=self._testing_output(), adaptation=self.adaptation,
                model_files=self._model_files)]}
        remember_sets(spec)
        client_mod.get_client().register_dataflow(spec)

    def _emit(self, task: DLTask, status: TaskStatus, sets: list[tuple[str, Attrs, list[list[Any]]]] | None = None,
              error: str | None = None, files: list[dict[str, str]] | None = None,
              execution: Execution | None = None) -> None:
        ev: dict[str, Any] = {"dataflow": self.dataflow_tag, "transformation": task.transformation,
                              "task": task.task_id, "status": status.value, "time": time.time()}
        if task is not DLTask.TRAINING and self._trained:
            ev["dependencies"] = DEPENDS_ON_TRAINING
        if sets:
            ev["sets"] = [{"tag": tag, "_names": [n.lower() for n, _ in attrs], "elements": rows}
                          for tag, attrs, rows in sets]
        if files:
            ev["files"] = files
        if error:
            ev["error"] = error
        if execution is None:
            if self._execution is None:
                self._execution = start_execution(self.dataflow_tag)
            execution = self._execution
        execution.stamp(ev)
        client_mod.get_client().send_event(ev)

    # -- Keras hooks ---------------------------------------------------------------------

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        try:
            _fit.install_wrappers(model, self)
        except Exception:
            log.warning("dnnprov: could not watch model.fit for errors", exc_info=True)

    @_safe
    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._finish_dead_fit()
        self._in_fit = True
        self._trained = True
        self._exc_at_begin = sys.exc_info()[1]
        self._lr_seen = None
        self._adaptation_id = 0
        # The hyperparameters are read at the first training step, so that a learning rate
        # set by a scheduler for the first epoch counts as the initial one.
        self._begin_pending = True
        self._batch_hook_pending = False
        self._tracker.find(self.model)
        self._watch_optimizer()
        self._execution = start_execution(self.dataflow_tag)
        self._start_files()
        self._register()
        client_mod.get_client().add_flush_hook(self._hook)
        if self._files.active:
            client_mod.get_client().add_flush_hook(model_files.flush_hook)

    def _send_begin(self) -> None:
        self._begin_pending = False
        hyper = read_hyperparameters(self.model, (self.params or {}).get("epochs"), self._tracker.batch_size)
        row = [hyper.get(n) for n, _ in self._hyper] + [self.extra[k] for _, _, k in self._extra_attrs]
        sets = [("itrainingmodel", self._hyper + [(a, t) for a, t, _ in self._extra_attrs], [row]),
                ("ilayers", LAYER_ATTRIBUTES, layer_rows(self.model))]
        self._emit(DLTask.TRAINING, TaskStatus.RUNNING, sets)
        if self.adaptation:
            self._lr_seen = self._read_lr()
            adaptation_sets = None
            if self.adaptation_params:
                adaptation_sets = [("iadaptation", ADAPTATION_INPUT,
                         [[self.adaptation_params.get(n) for n, _ in ADAPTATION_INPUT]])]
            self._emit(DLTask.ADAPTATION, TaskStatus.RUNNING, adaptation_sets)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._files_epoch is not None:  # what callbacks after this one saved last epoch
            self._check_files()
        self._epoch = epoch
        self._epoch_t0 = time.time()
        if self._probe is not None:
            self._probe.start_epoch()
        self._batch_hook_pending = True

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        # Once per epoch, at its first step: after every on_epoch_begin (schedulers) and the
        # previous on_epoch_end (ReduceLROnPlateau), the learning rate about to be used.
        if self._batch_hook_pending:
            self._batch_hook_pending = False
            self._first_step()

    @_safe
    def _first_step(self) -> None:
        if self._begin_pending:
            self._send_begin()
        elif self.adaptation:
            self._check_lr(self._epoch)

    @_safe
    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        if self._begin_pending:
            self._send_begin()
        elapsed = time.time() - self._epoch_t0
        known = {k for k, _ in self._train_metrics}
        new = [k for k in logs if k not in FIXED_KEYS and k not in known]
        if new:
            # Metrics not in the dataflow yet (val_loss, ...): extend it before the row.
            self._train_metrics += [(k, attribute_name(k)) for k in new]
            self._register()
        acc = logs.get("accuracy", logs.get("acc"))
        row = [timestamp(), elapsed, num(logs.get("loss")), num(acc), epoch + 1]
        row += self._probe.values() if self._probe is not None else []
        row += [num(logs.get(k)) for k, _ in self._train_metrics]
        self._last_epoch = epoch + 1
        self._emit(DLTask.TRAINING, TaskStatus.RUNNING, [("otrainingmodel", self._training_output(), [row])])
        if self._files.active:  # what callbacks before this one saved (again at the next epoch's start)
            self._files_epoch, self._files_logs = epoch, dict(logs)
            self._files.check(epoch, self._files_logs, self._file_sink or self._send_model_file)

    @_safe
    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if not self._in_fit:
            return
        self._end_fit(TaskStatus.FINISHED)

    @_safe
    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        if self._in_fit and self._fit_alive():
            return  # validation during fit: its metrics come with the epoch (val_*)
        self._finish_dead_fit()
        if self._execution is None:  # evaluate without a fit before it
            self._execution = start_execution(self.dataflow_tag)
            self._register()
        self._emit(DLTask.TESTING, TaskStatus.RUNNING)
        self._testing = True

    @_safe
    def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
        if not self._testing:
            return
        self._testing = False
        logs = logs or {}
        known = {k for k, _ in self._test_metrics}
        new = [k for k in logs if k not in FIXED_KEYS and k not in known]
        if new:
            self._test_metrics += [(k, attribute_name(k)) for k in new]
            self._register()
        row = [num(logs.get("accuracy", logs.get("acc"))), num(logs.get("loss")), self._last_epoch]
        row += [num(logs.get(k)) for k, _ in self._test_metrics]
        self._emit(DLTask.TESTING, TaskStatus.FINISHED, [("otestingmodel", self._testing_output(), [row])])

    # -- ends and failures -------------------------------------------------------------

    def fail(self, error: BaseException | str) -> None:
        """Ends the current training FAILED with the error (called by the fit wrapper; call
        it yourself if you drive training in an unusual way)."""
        if not self._in_fit:
            return
        text = error if isinstance(error, str) else error_text(error)
        try:
            self._end_fit(TaskStatus.FAILED, text)
        except Exception:
            log.warning("dnnprov: could not record the failure", exc_info=True)

    def _end_fit(self, status: TaskStatus, error: str | None = None) -> None:
        if self._begin_pending:
            self._send_begin()
        if self._files_epoch is not None:
            self._check_files()
        self._in_fit = False
        self._tracker.forget()
        self._unwatch_optimizer()
        self._emit(DLTask.TRAINING, status, error=error)
        if self.adaptation:
            self._emit(DLTask.ADAPTATION, status, error=error)

    def _fit_alive(self) -> bool:
        return self._tracker.alive(default=self._in_fit)

    def _finish_dead_fit(self) -> None:
        """A fit that left without on_train_end and without our wrapper seeing it (the first
        fit of a model on a backend without a `finally` we can watch): it failed."""
        if self._in_fit and not self._fit_alive():
            err = getattr(sys, "last_value", None)
            self.fail(error_text(err) if err is not None
                      else "fit() stopped before the end of training (an exception interrupted it)")

    def _watch_optimizer(self) -> None:
        opt = getattr(self.model, "optimizer", None)
        if _fit.watch_optimizer(self, opt):
            self._watched_optimizer = opt

    def _unwatch_optimizer(self) -> None:
        _fit.unwatch_optimizer(self._watched_optimizer)
        self._watched_optimizer = None

    # -- model files ---------------------------------------------------------------------

    def record_file(self, path: str | os.PathLike[str], epoch: int | None = None) -> bool:
        """Records a model file written by your own code, at any time (during the fit or after
        it, e.g. `model.save("final.keras")`), as an oModelFile row of the current (or last) fit's
        TrainingModel task: path, size, SHA-256 (computed on a background thread), `epoch`
        (1-based, as oTrainingModel's EPOCH; default the last finished epoch), modification time.
        Returns whether it was queued (False, with a warning, when the file does not exist or
        there was no fit yet); never raises."""
        try:
            if not self._trained or self._execution is None:
                log.warning("dnnprov: record_file(%r): no fit has started, so there is no training to "
                            "link the file to; not recorded", os.fspath(path))
                return False
            self._enable_model_files()
            sink = self._file_sink or self._send_model_file
            return self._files.record(path, self._last_epoch if epoch is None else epoch, sink)
        except Exception:
            log.warning("dnnprov: record_file failed", exc_info=True)
            return False

    def _start_files(self) -> None:
        """At the start of a fit: the paths to watch (ModelCheckpoints of the fit, `files`)."""
        self._files_epoch = None
        try:
            checkpoints = [model_files.PathTemplate(c.filepath, model_files.FileOrigin.CHECKPOINT)
                           for c in self._tracker.callbacks if isinstance(c, keras.callbacks.ModelCheckpoint)]
        except Exception:
            log.warning("dnnprov: could not look for ModelCheckpoint callbacks", exc_info=True)
            checkpoints = []
        self._files.start_fit(checkpoints)
        execution = self._execution
        self._file_sink = lambda f: self._send_model_file(f, execution)
        if self._files.active:
            self._model_files = True

    def _enable_model_files(self) -> None:
        if not self._model_files:
            self._model_files = True
            self._register()
        client_mod.get_client().add_flush_hook(model_files.flush_hook)  # once per client

    def _check_files(self) -> None:
        epoch, self._files_epoch = self._files_epoch, None
        if epoch is not None:
            self._files.check(epoch, self._files_logs, self._file_sink or self._send_model_file)

    def _send_model_file(self, f: model_files.ModelFile, execution: Execution | None = None) -> None:
        """On the hashing thread: the file's row and `files` entry, for the fit that wrote it."""
        self._emit(DLTask.TRAINING, TaskStatus.RUNNING, [("omodelfile", MODEL_FILE_OUTPUT, [f.row()])],
                   files=[f.file_entry()], execution=execution)

    # -- learning-rate adaptations -------------------------------------------------------

    def _read_lr(self) -> float | None:
        return read_learning_rate(model_optimizer(self.model))

    def _check_lr(self, epoch: int) -> None:
        try:
            lr = self._read_lr()
            if lr is None:
                return
            old = self._lr_seen
            self._lr_seen = lr
            if old is None or math.isclose(lr, old, rel_tol=1e-7, abs_tol=0.0):
                return
            self._adaptation_id += 1
            self._emit(DLTask.ADAPTATION, TaskStatus.RUNNING, [
                ("oadaptation", ADAPTATION_OUTPUT, [[lr, timestamp(), epoch + 1, self._adaptation_id]])])
        except Exception:
            log.warning("dnnprov: learning-rate check failed", exc_info=True)


def provenance(model: Any, dataflow_tag: str = "alexnet", adaptation: bool = False,
               hyps: dict[str, bool] | None = None, **options: Any) -> ProvenanceCallback:
    """Keras-Prov's `model.provenance(dataflow_tag=..., adaptation=..., hyps=...)` as a
    function: every later `model.fit` of this model records provenance, with no callback to
    pass. Options are those of ProvenanceCallback. Returns the callback."""
    cb = ProvenanceCallback(dataflow_tag, adaptation=adaptation, hyperparameters=hyps, **options)
    cb.set_model(model)
    object.__setattr__(model, "_dnnprov_auto", cb)  # the model keeps its callback alive
    return cb
