"""Keras 3 integration: `ProvenanceCallback`, what Keras-Prov captured, without patching Keras.

    model.fit(x, y, epochs=10, callbacks=[ProvenanceCallback("alexnet")])

Each `fit` opens a new execution of the dataflow with the tasks of Keras-Prov: 1 TrainingModel
(hyperparameters, layers, one row per epoch), 2 Adaptation (one row per learning-rate change,
whatever changed it), 3 TestingModel (one row per `model.evaluate` after the fit).
"""
import datetime
import functools
import logging
import math
import os
import re
import sys
import threading
import time
import weakref

import keras

from . import client as client_mod
from .execution import start_execution
from .model import error_text, remember_sets
from .predefined import (ADAPTATION_INPUT, ADAPTATION_OUTPUT, HYPERPARAMETERS, LAYER_ATTRIBUTES,
                         TESTING_OUTPUT, TRAINING_OUTPUT, dl_transformations)

log = logging.getLogger("dnnprov")

DEFAULT_HYPERPARAMETERS = {"OPTIMIZER_NAME": True, "LEARNING_RATE": True, "DECAY": False,
                           "MOMENTUM": False, "NUM_EPOCHS": True, "BATCH_SIZE": True,
                           "NUM_LAYERS": True}
TRAINING, ADAPTATION, TESTING = "trainingmodel", "adaptation", "testingmodel"
TASK_IDS = {TRAINING: "1", ADAPTATION: "2", TESTING: "3"}
DEPENDS_ON_TRAINING = [{"transformation": TRAINING, "task": "1"}]
N, T = "NUMERIC", "TEXT"
# Keras keys that fill the fixed attributes of oTrainingModel / oTestingModel.
_FIXED_KEYS = {"loss", "accuracy", "acc"}


def attribute_name(key):
    """A Keras metric key as an attribute name: `val_loss` -> `VAL_LOSS`."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", str(key)).upper()
    return "_" + name if not name or name[0].isdigit() else name[:55]


def _num(v):
    if v is None or isinstance(v, str):
        return None
    try:
        f = float(keras.ops.convert_to_numpy(v)) if not isinstance(v, (int, float)) else float(v)
    except Exception:
        return None
    return f


def _text(v):
    if v is None:
        return None
    if isinstance(v, (list, tuple)):
        return "x".join(str(x) for x in v)
    return str(v)


def _timestamp():
    # isoformat, not strftime: strftime took ~100 µs per call inside a JAX fit (measured).
    return datetime.datetime.now().isoformat(" ", "seconds")


def _safe(method):
    """Provenance capture must never break training: errors become warnings."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception:
            log.warning("dnnprov: %s failed", method.__name__, exc_info=True)
    return wrapper


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
    """

    def __init__(self, dataflow_tag="alexnet", adaptation=True, hyperparameters=None, extra=None,
                 resources=False, adaptation_params=None):
        super().__init__()
        self.dataflow_tag = dataflow_tag.lower()
        self.adaptation = adaptation
        chosen = DEFAULT_HYPERPARAMETERS if hyperparameters is None else hyperparameters
        chosen = {str(k).upper(): bool(v) for k, v in chosen.items()}
        self._hyper = [(n, t) for n, t in HYPERPARAMETERS if chosen.get(n)]
        self.extra = dict(extra or {})
        self._extra_attrs = [(attribute_name(k), N if _is_number(v) else T, k)
                             for k, v in self.extra.items()]
        self.adaptation_params = {str(k).upper(): v for k, v in (adaptation_params or {}).items()}
        self.resources = resources
        self._gpu = _gpu_probe() if resources else None
        self._resource_attrs = []
        if resources:
            self._resource_attrs = [("CPU_TIME", N), ("RSS_MB", N)]
            if self._gpu is not None:
                self._resource_attrs += [("GPU_MEMORY_MB", N), ("GPU_UTILIZATION", N)]
        self._train_metrics = []  # (keras key, attribute name) beyond the fixed attributes
        self._test_metrics = []
        self._execution = None
        self._in_fit = False
        self._trained = False
        self._fit_frame = None
        self._fit_thread = None
        self._exc_at_begin = None
        self._last_epoch = None
        self._begin_pending = False
        self._batch_hook_pending = False
        self._epoch = 0
        self._hook = _FlushHook(self)

    # -- the dataflow ------------------------------------------------------------------

    def _training_output(self):
        return TRAINING_OUTPUT + self._resource_attrs + [(a, N) for _, a in self._train_metrics]

    def _testing_output(self):
        return TESTING_OUTPUT + [(a, N) for _, a in self._test_metrics]

    def _register(self):
        hyper = self._hyper + [(a, t) for a, t, _ in self._extra_attrs]
        spec = {"tag": self.dataflow_tag, "transformations": [
            t.get_specification() for t in dl_transformations(
                hyperparameters=hyper, training_output=self._training_output(),
                testing_output=self._testing_output(), adaptation=self.adaptation)]}
        remember_sets(spec)
        client_mod.get_client().register_dataflow(spec)

    def _emit(self, transformation, status, sets=None, error=None):
        ev = {"dataflow": self.dataflow_tag, "transformation": transformation,
              "task": TASK_IDS[transformation], "status": status, "time": time.time()}
        if transformation != TRAINING and self._trained:
            ev["dependencies"] = DEPENDS_ON_TRAINING
        if sets:
            ev["sets"] = [{"tag": tag, "_names": [n.lower() for n, _ in attrs], "elements": rows}
                          for tag, attrs, rows in sets]
        if error:
            ev["error"] = error
        self._execution.stamp(ev)
        client_mod.get_client().send_event(ev)

    # -- Keras hooks ---------------------------------------------------------------------

    def set_model(self, model):
        super().set_model(model)
        try:
            _install_wrappers(model, self)
        except Exception:
            log.warning("dnnprov: could not watch model.fit for errors", exc_info=True)

    @_safe
    def on_train_begin(self, logs=None):
        self._finish_dead_fit()
        self._in_fit = True
        self._trained = True
        self._exc_at_begin = sys.exc_info()[1]
        self._find_fit_frame()
        self._watch_optimizer()
        self._adaptation_id = 0
        self._execution = start_execution(self.dataflow_tag)
        self._register()
        client_mod.get_client().add_flush_hook(self._hook)
        self._lr_seen = None
        # The hyperparameters are read at the first training step, so that a learning rate
        # set by a scheduler for the first epoch counts as the initial one.
        self._begin_pending = True
        self._batch_hook_pending = False

    def _send_begin(self):
        self._begin_pending = False
        hyper = self._hyperparameters()
        row = [hyper.get(n) for n, _ in self._hyper] + [self.extra[k] for _, _, k in self._extra_attrs]
        sets = [("itrainingmodel", self._hyper + [(a, t) for a, t, _ in self._extra_attrs], [row]),
                ("ilayers", LAYER_ATTRIBUTES, self._layers())]
        self._emit(TRAINING, "RUNNING", sets)
        if self.adaptation:
            self._lr_seen = self._read_lr()
            sets = None
            if self.adaptation_params:
                sets = [("iadaptation", ADAPTATION_INPUT,
                         [[self.adaptation_params.get(n) for n, _ in ADAPTATION_INPUT]])]
            self._emit(ADAPTATION, "RUNNING", sets)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._epoch_t0 = time.time()
        if self.resources:
            self._cpu0 = time.process_time()
        self._batch_hook_pending = True

    def on_train_batch_begin(self, batch, logs=None):
        # Once per epoch, at its first step: after every on_epoch_begin (schedulers) and the
        # previous on_epoch_end (ReduceLROnPlateau), the learning rate about to be used.
        if self._batch_hook_pending:
            self._batch_hook_pending = False
            self._first_step()

    @_safe
    def _first_step(self):
        if self._begin_pending:
            self._send_begin()
        elif self.adaptation:
            self._check_lr(self._epoch)

    @_safe
    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._begin_pending:
            self._send_begin()
        elapsed = time.time() - getattr(self, "_epoch_t0", time.time())
        known = {k for k, _ in self._train_metrics}
        new = [k for k in logs if k not in _FIXED_KEYS and k not in known]
        if new:
            # Metrics not in the dataflow yet (val_loss, ...): extend it before the row.
            self._train_metrics += [(k, attribute_name(k)) for k in new]
            self._register()
        acc = logs.get("accuracy", logs.get("acc"))
        row = [_timestamp(), elapsed, _num(logs.get("loss")), _num(acc), epoch + 1]
        row += self._resource_values()
        row += [_num(logs.get(k)) for k, _ in self._train_metrics]
        self._last_epoch = epoch + 1
        self._emit(TRAINING, "RUNNING", [("otrainingmodel", self._training_output(), [row])])

    @_safe
    def on_train_end(self, logs=None):
        if not self._in_fit:
            return
        self._end_fit("FINISHED")

    @_safe
    def on_test_begin(self, logs=None):
        if self._in_fit and self._fit_alive():
            return  # validation during fit: its metrics come with the epoch (val_*)
        self._finish_dead_fit()
        if self._execution is None:  # evaluate without a fit before it
            self._execution = start_execution(self.dataflow_tag)
            self._register()
        self._emit(TESTING, "RUNNING")
        self._testing = True

    @_safe
    def on_test_end(self, logs=None):
        if not getattr(self, "_testing", False):
            return
        self._testing = False
        logs = logs or {}
        known = {k for k, _ in self._test_metrics}
        new = [k for k in logs if k not in _FIXED_KEYS and k not in known]
        if new:
            self._test_metrics += [(k, attribute_name(k)) for k in new]
            self._register()
        row = [_num(logs.get("accuracy", logs.get("acc"))), _num(logs.get("loss")), self._last_epoch]
        row += [_num(logs.get(k)) for k, _ in self._test_metrics]
        self._emit(TESTING, "FINISHED", [("otestingmodel", self._testing_output(), [row])])

    # -- ends and failures -------------------------------------------------------------

    def fail(self, error):
        """Ends the current training FAILED with the error (called by the fit wrapper; call
        it yourself if you drive training in an unusual way)."""
        if not self._in_fit:
            return
        text = error if isinstance(error, str) else error_text(error)
        try:
            self._end_fit("FAILED", text)
        except Exception:
            log.warning("dnnprov: could not record the failure", exc_info=True)

    def _end_fit(self, status, error=None):
        if self._begin_pending:
            self._send_begin()
        self._in_fit = False
        self._fit_frame = None
        self._unwatch_optimizer()
        self._emit(TRAINING, status, error=error)
        if self.adaptation:
            self._emit(ADAPTATION, status, error=error)

    def _find_fit_frame(self):
        """The frame of the `fit` that called us, to tell later whether it is still running."""
        self._fit_frame = None
        self._fit_thread = threading.get_ident()
        self._batch_size = None
        f = sys._getframe(1)
        while f is not None:
            if f.f_code.co_name == "fit" and f.f_locals.get("self") is self.model:
                self._fit_frame = f
                bs = f.f_locals.get("batch_size")
                if bs is None and hasattr(f.f_locals.get("x"), "shape"):
                    bs = 32  # Keras' default for array inputs
                self._batch_size = bs
                return
            f = f.f_back

    def _fit_alive(self):
        frame = self._fit_frame
        if frame is None:
            return self._in_fit
        f = sys._current_frames().get(self._fit_thread)
        while f is not None:
            if f is frame:
                return True
            f = f.f_back
        return False

    def _finish_dead_fit(self):
        """A fit that left without on_train_end and without our wrapper seeing it (the first
        fit of a model on a backend without a `finally` we can watch): it failed."""
        if self._in_fit and not self._fit_alive():
            err = getattr(sys, "last_value", None)
            self.fail(error_text(err) if err is not None
                      else "fit() stopped before the end of training (an exception interrupted it)")

    def _watch_optimizer(self):
        # The JAX trainer calls optimizer.finalize_variable_values() in a `finally`, also when
        # fit raises: the exception is visible there, so even the first fit ends FAILED with
        # its error. Instance attribute only; removed at the end of the fit.
        opt = getattr(self.model, "optimizer", None)
        orig = getattr(opt, "finalize_variable_values", None)
        if opt is None or orig is None or "finalize_variable_values" in vars(opt):
            return
        me = weakref.ref(self)

        def finalize_variable_values(*args, **kwargs):
            cb = me()
            exc = sys.exc_info()[1]
            if cb is not None and exc is not None and exc is not cb._exc_at_begin:
                cb.fail(exc)
            return orig(*args, **kwargs)

        object.__setattr__(opt, "finalize_variable_values", finalize_variable_values)
        self._watched_optimizer = opt

    def _unwatch_optimizer(self):
        opt = getattr(self, "_watched_optimizer", None)
        if opt is not None:
            vars(opt).pop("finalize_variable_values", None)
            self._watched_optimizer = None

    # -- values ------------------------------------------------------------------------

    def _optimizer(self):
        opt = getattr(self.model, "optimizer", None)
        return getattr(opt, "inner_optimizer", opt)

    def _read_lr(self):
        opt = self._optimizer()
        try:
            return float(keras.ops.convert_to_numpy(opt.learning_rate))
        except Exception:
            return None

    def _check_lr(self, epoch):
        try:
            lr = self._read_lr()
            if lr is None:
                return
            old = self._lr_seen
            self._lr_seen = lr
            if old is None or math.isclose(lr, old, rel_tol=1e-7, abs_tol=0.0):
                return
            self._adaptation_id += 1
            self._emit(ADAPTATION, "RUNNING", [("oadaptation", ADAPTATION_OUTPUT,
                                                [[lr, _timestamp(), epoch + 1, self._adaptation_id]])])
        except Exception:
            log.warning("dnnprov: learning-rate check failed", exc_info=True)

    def _hyperparameters(self):
        opt = self._optimizer()
        lr_obj = getattr(opt, "_learning_rate", None)
        if isinstance(lr_obj, keras.optimizers.schedules.LearningRateSchedule):
            lr = _num(getattr(lr_obj, "initial_learning_rate", None))
        else:
            lr = self._read_lr()
        decay = getattr(opt, "weight_decay", None)
        if decay is None:
            decay = getattr(opt, "decay", None)
        return {
            "OPTIMIZER_NAME": type(opt).__name__.lower() if opt is not None else None,
            "LEARNING_RATE": lr,
            "NUM_EPOCHS": (self.params or {}).get("epochs"),
            "NUM_LAYERS": len(self.model.layers),
            "BATCH_SIZE": getattr(self, "_batch_size", None),
            "MOMENTUM": _num(getattr(opt, "momentum", None)),
            "DECAY": _num(decay),
        }

    def _layers(self):
        rows = []
        for layer in self.model.layers:
            try:
                cfg = layer.get_config()
            except Exception:
                cfg = {}
            act = cfg.get("activation")
            if act is not None and not isinstance(act, str):
                act = getattr(act, "__name__", None) or str(act)
            try:
                params = layer.count_params() if layer.built else None
            except Exception:
                params = None
            rows.append([layer.name, type(layer).__name__, act, _num(cfg.get("units")),
                         _num(cfg.get("filters")),
                         _text(cfg.get("kernel_size") or cfg.get("pool_size")),
                         _text(cfg.get("strides")), _text(cfg.get("padding")),
                         _num(cfg.get("rate")), params])
        return rows

    def _resource_values(self):
        if not self.resources:
            return []
        out = [time.process_time() - getattr(self, "_cpu0", 0.0), _rss_mb()]
        if self._gpu is not None:
            out += self._gpu()
        return out


class _FlushHook:
    """Run at every dnnprov.flush() (and at exit): closes a fit that died unseen. Holds the
    callback weakly so a forgotten callback (and its model) can be collected."""

    def __init__(self, cb):
        self._cb = weakref.ref(cb)

    def __call__(self):
        cb = self._cb()
        if cb is not None:
            cb._finish_dead_fit()

    def __eq__(self, other):
        return isinstance(other, _FlushHook) and other._cb() is self._cb()

    def __hash__(self):
        return id(self._cb())


def provenance(model, dataflow_tag="alexnet", adaptation=False, hyps=None, **options):
    """Keras-Prov's `model.provenance(dataflow_tag=..., adaptation=..., hyps=...)` as a
    function: every later `model.fit` of this model records provenance, with no callback to
    pass. Options are those of ProvenanceCallback. Returns the callback."""
    cb = ProvenanceCallback(dataflow_tag, adaptation=adaptation, hyperparameters=hyps, **options)
    cb.set_model(model)
    object.__setattr__(model, "_dnnprov_auto", cb)  # the model keeps its callback alive
    return cb


def _install_wrappers(model, cb):
    """Thin instance-level wrappers around this model's fit and evaluate (Keras itself is not
    touched): a fit that raises ends its training FAILED with the error, and a plain
    `model.evaluate(x, y)` after a fit is captured as a TestingModel task. The wrappers call
    whichever ProvenanceCallback last saw the model."""
    object.__setattr__(model, "_dnnprov_callback", weakref.ref(cb))
    if "_dnnprov_wrapped" in vars(model):
        return
    object.__setattr__(model, "_dnnprov_wrapped", True)
    fit, evaluate = model.fit, model.evaluate

    def current():
        ref = vars(model).get("_dnnprov_callback")
        return ref() if ref is not None else None

    @functools.wraps(fit)
    def fit_wrapper(*args, **kwargs):
        c = current()
        if c is not None and vars(model).get("_dnnprov_auto") and len(args) < 6:
            cbs = list(kwargs.get("callbacks") or [])
            if not any(x is c for x in cbs):
                kwargs["callbacks"] = cbs + [c]
        try:
            return fit(*args, **kwargs)
        except BaseException as e:
            c = current()
            if c is not None:
                c.fail(e)
            raise

    @functools.wraps(evaluate)
    def evaluate_wrapper(*args, **kwargs):
        c = current()
        cbs = kwargs.get("callbacks")
        # Inside fit Keras passes its CallbackList (validation); a user call passes a list or
        # nothing: add the callback so the evaluation is recorded.
        if c is not None and c._trained and not c._in_fit and (cbs is None or isinstance(cbs, (list, tuple))):
            if not any(x is c for x in (cbs or [])):
                kwargs["callbacks"] = list(cbs or []) + [c]
        return evaluate(*args, **kwargs)

    object.__setattr__(model, "fit", fit_wrapper)
    object.__setattr__(model, "evaluate", evaluate_wrapper)


def _is_number(v):
    return isinstance(v, (int, float)) or (hasattr(v, "dtype") and getattr(v, "ndim", 1) == 0
                                           and v.dtype.kind in "biuf")


def _rss_mb():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except Exception:
        try:
            import resource
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        except Exception:
            return None


def _gpu_probe():
    """A function giving [memory MB, utilization %] of GPU 0 through NVML, or None."""
    try:
        import pynvml
        pynvml.nvmlInit()
        if pynvml.nvmlDeviceGetCount() == 0:
            return None
        handle = pynvml.nvmlDeviceGetHandleByIndex(0)
    except Exception:
        return None

    def read():
        try:
            mem = pynvml.nvmlDeviceGetMemoryInfo(handle).used / 2**20
            util = pynvml.nvmlDeviceGetUtilizationRates(handle).gpu
            return [mem, util]
        except Exception:
            return [None, None]
    return read
