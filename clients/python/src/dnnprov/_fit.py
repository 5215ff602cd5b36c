"""Fit tracking for the Keras callback: which `fit` is running, whether it is still alive, and
how a fit that raises is noticed (Keras tells callbacks nothing when `fit` fails)."""
from __future__ import annotations

import functools
import sys
import threading
import weakref
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .keras import ProvenanceCallback


class FitTracker:
    """The frame of the `fit` that called the callback, to tell later whether it still runs
    (a fit that left without `on_train_end` failed), and the batch size it was given."""

    def __init__(self) -> None:
        self._frame: FrameType | None = None
        self._thread: int | None = None
        self.batch_size: int | None = None
        self.callbacks: list[Any] = []  # the fit's callbacks (to find its ModelCheckpoints)

    def find(self, model: Any) -> None:
        """Called from `on_train_begin`: looks up the stack for `model.fit`."""
        self._frame = None
        self._thread = threading.get_ident()
        self.batch_size = None
        self.callbacks = []
        f: FrameType | None = sys._getframe(1)
        while f is not None:
            if f.f_code.co_name == "fit" and f.f_locals.get("self") is model:
                self._frame = f
                bs = f.f_locals.get("batch_size")
                if bs is None and hasattr(f.f_locals.get("x"), "shape"):
                    bs = 32  # Keras' default for array inputs
                self.batch_size = bs
                cbs = f.f_locals.get("callbacks")
                cbs = getattr(cbs, "callbacks", cbs)
                self.callbacks = list(cbs) if isinstance(cbs, (list, tuple)) else []
                return
            f = f.f_back

    def forget(self) -> None:
        self._frame = None

    def alive(self, default: bool) -> bool:
        """Whether the fit found by `find` is still on its thread's stack; `default` when it
        was not found."""
        frame = self._frame
        if frame is None or self._thread is None:
            return default
        f = sys._current_frames().get(self._thread)
        while f is not None:
            if f is frame:
                return True
            f = f.f_back
        return False


def watch_optimizer(cb: ProvenanceCallback, opt: Any) -> bool:
    """The JAX trainer calls `optimizer.finalize_variable_values()` in a `finally`, also when
    fit raises: the exception is visible there, so even the first fit ends FAILED with its
    error. Instance attribute only; `unwatch_optimizer` removes it. Returns whether installed."""
    orig = getattr(opt, "finalize_variable_values", None)
    if opt is None or orig is None or "finalize_variable_values" in vars(opt):
        return False
    me = weakref.ref(cb)

    def finalize_variable_values(*args: Any, **kwargs: Any) -> Any:
        c = me()
        exc = sys.exc_info()[1]
        if c is not None and exc is not None and exc is not c._exc_at_begin:
            c.fail(exc)
        return orig(*args, **kwargs)

    object.__setattr__(opt, "finalize_variable_values", finalize_variable_values)
    return True


def unwatch_optimizer(opt: Any) -> None:
    if opt is not None:
        vars(opt).pop("finalize_variable_values", None)


class FlushHook:
    """Run at every dnnprov.flush() (and at exit): closes a fit that died unseen. Holds the
    callback weakly so a forgotten callback (and its model) can be collected."""

    def __init__(self, cb: ProvenanceCallback) -> None:
        self._cb = weakref.ref(cb)

    def __call__(self) -> None:
        cb = self._cb()
        if cb is not None:
            cb._finish_dead_fit()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FlushHook) and other._cb() is self._cb()

    def __hash__(self) -> int:
        return id(self._cb())


def install_wrappers(model: Any, cb: ProvenanceCallback) -> None:
    """Thin instance-level wrappers around this model's fit and evaluate (Keras itself is not
    touched): a fit that raises ends its training FAILED with the error, and a plain
    `model.evaluate(x, y)` after a fit is captured as a TestingModel task. The wrappers call
    whichever ProvenanceCallback last saw the model. The model holds it (strongly: a callback
    created inline in `fit(callbacks=[...])` must still record the `evaluate` that follows)."""
    object.__setattr__(model, "_dnnprov_callback", cb)
    if "_dnnprov_wrapped" in vars(model):
        return
    object.__setattr__(model, "_dnnprov_wrapped", True)
    fit, evaluate = model.fit, model.evaluate

    def current() -> ProvenanceCallback | None:
        return vars(model).get("_dnnprov_callback")

    @functools.wraps(fit)
    def fit_wrapper(*args: Any, **kwargs: Any) -> Any:
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
    def evaluate_wrapper(*args: Any, **kwargs: Any) -> Any:
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


