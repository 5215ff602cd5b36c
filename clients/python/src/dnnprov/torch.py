"""PyTorch plain loops: what the Keras callback captures, from a `with` block.

    with dnnprov.torch.run("mnist", model, optimizer, scheduler=scheduler,
                           hyperparameters={"OPTIMIZER_NAME": True, "LEARNING_RATE": True,
                                            "MOMENTUM": True}, epochs=10, batch_size=64) as run:
        for epoch in range(10):
            for x, y in loader:
                ...
                optimizer.step()
                run.step(loss=loss.item())           # optional: one oTrainingStep row per step
            scheduler.step()
            run.epoch(loss=epoch_loss, accuracy=acc)  # one oTrainingModel row per epoch
        run.test(loss=test_loss, accuracy=test_acc)   # TestingModel
        run.save(model.state_dict(), "mnist.pt")      # torch.save, then an oModelFile row

The hyperparameters are read from the optimizer's first parameter group (OPTIMIZER_NAME,
LEARNING_RATE, MOMENTUM, DECAY = weight decay, BETA_1, BETA_2, EPSILON, NESTEROV, DAMPENING) and
the model (NUM_LAYERS: its leaf modules), plus NUM_EPOCHS and BATCH_SIZE when given;
`hyperparameters` chooses which (Keras-Prov's dictionary of True/False; default the Keras
callback's choice) and may also give values (`{"DROPOUT": 0.4}`). The leaf modules are the layers
(iLayers). The learning rate is read at the first optimizer step of each epoch (a step pre-hook
on the optimizer; the Keras callback reads it at each epoch's first batch): a change (any
scheduler, or code that sets `param_groups[0]["lr"]`) is an Adaptation row for that epoch. A
change within an epoch (a per-step scheduler) shows at the next epoch. An exception out of the `with` block ends the
training FAILED with its error, and goes on to the caller.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import torch

from . import client as client_mod
from ._values import num
from .training import DEFAULT_HYPERPARAMETERS, TrainingRun, safe

__all__ = ["TorchRun", "read_hyperparameters", "read_layers", "run"]

log = logging.getLogger("dnnprov")

# Optimizer settings (param_groups keys) and their attribute names.
_GROUP_KEYS = {"MOMENTUM": "momentum", "DECAY": "weight_decay", "WEIGHT_DECAY": "weight_decay",
               "EPSILON": "eps", "DAMPENING": "dampening", "NESTEROV": "nesterov", "ALPHA": "alpha",
               "RHO": "rho", "AMSGRAD": "amsgrad", "LR_DECAY": "lr_decay"}
_ACTIVATIONS = torch.nn.modules.activation.__name__


def read_hyperparameters(model: Any, optimizer: Any, *, epochs: int | None = None,
                    batch_size: int | None = None) -> dict[str, Any]:
    """Every hyperparameter that can be read: OPTIMIZER_NAME, LEARNING_RATE, NUM_EPOCHS,
    NUM_LAYERS, BATCH_SIZE, then the optimizer's settings (MOMENTUM, DECAY, BETA_1, ...)."""
    out: dict[str, Any] = {}
    group: Mapping[str, Any] = {}
    if optimizer is not None:
        out["OPTIMIZER_NAME"] = type(optimizer).__name__.lower()
        groups = getattr(optimizer, "param_groups", None) or [{}]
        group = groups[0]
        out["LEARNING_RATE"] = num(group.get("lr"))
    out["NUM_EPOCHS"] = epochs
    out["NUM_LAYERS"] = len(_leaves(model)) if model is not None else None
    out["BATCH_SIZE"] = batch_size
    for name, key in _GROUP_KEYS.items():
        v = group.get(key)
        if isinstance(v, bool):
            out[name] = str(v).lower()
        elif v is not None:
            out[name] = num(v)
    betas = group.get("betas")
    if isinstance(betas, (list, tuple)) and len(betas) == 2:
        out["BETA_1"], out["BETA_2"] = num(betas[0]), num(betas[1])
    return out


def _leaves(model: Any) -> list[tuple[str, Any]]:
    return [(n or type(m).__name__.lower(), m) for n, m in model.named_modules() if not any(True for _ in m.children())]


def _setting(m: Any, *names: str) -> Any:
    for n in names:
        v = getattr(m, n, None)
        if v is not None:
            return v
    return None


def read_layers(model: Any) -> list[dict[str, Any]]:
    """One iLayers row per leaf module: NAME (its qualified name), TYPE, ACTIVATION (for an
    activation module), UNITS (out features / hidden size), FILTERS (out channels), KERNEL_SIZE,
    STRIDES, PADDING, DROPOUT_RATE, PARAMS, IN_FEATURES (in features / channels / input size)."""
    rows = []
    for name, m in _leaves(model):
        kind = type(m).__name__
        act = kind.lower() if type(m).__module__ == _ACTIVATIONS else None
        padding = getattr(m, "padding", None)
        p = getattr(m, "p", None) if "Dropout" in kind else getattr(m, "dropout", None)
        rows.append({
            "NAME": name, "TYPE": kind, "ACTIVATION": act,
            "UNITS": _setting(m, "out_features", "hidden_size", "num_embeddings", "embed_dim"),
            "FILTERS": getattr(m, "out_channels", None),
            "KERNEL_SIZE": getattr(m, "kernel_size", None),
            "STRIDES": getattr(m, "stride", None),
            "PADDING": padding if isinstance(padding, (str, tuple, list, int)) else None,
            "DROPOUT_RATE": p if isinstance(p, (int, float)) and not isinstance(p, bool) else None,
            "PARAMS": sum(t.numel() for t in m.parameters(recurse=False)),
            "IN_FEATURES": _setting(m, "in_features", "in_channels", "input_size", "embedding_dim",
                                    "num_features"),
        })
    return rows


def _choose(chosen: Mapping[str, Any] | None, available: Mapping[str, Any]) -> dict[str, Any]:
    """Keras-Prov's selection: True takes the value read (None when it cannot be read), False
    leaves it out, anything else is the value itself."""
    out: dict[str, Any] = {}
    for k, v in (DEFAULT_HYPERPARAMETERS if chosen is None else chosen).items():
        name = str(k).upper()
        if v is True:
            out[name] = available.get(name)
        elif v is not False:
            out[name] = v
    return out


def _adaptation_params(scheduler: Any) -> dict[str, Any]:
    """iAdaptation from a StepLR-like scheduler: EPOCHS_DROP, DROP, INITIAL_LRATE."""
    if scheduler is None:
        return {}
    base = getattr(scheduler, "base_lrs", None) or [None]
    out = {"EPOCHS_DROP": num(getattr(scheduler, "step_size", None)), "DROP": num(getattr(scheduler, "gamma", None)),
           "INITIAL_LRATE": num(base[0])}
    return out if any(v is not None for v in out.values()) else {}


class TorchRun(TrainingRun):
    """A TrainingRun that reads its hyperparameters and layers from a torch model and optimizer
    and follows the optimizer's learning rate. Made by `run()`."""

    def __init__(self, dataflow: str, model: Any = None, optimizer: Any = None, *,
                 hyperparameters: Mapping[str, Any] | None = None, scheduler: Any = None,
                 epochs: int | None = None, batch_size: int | None = None, adaptation: bool = True,
                 resources: bool = False, adaptation_params: Mapping[str, Any] | None = None,
                 execution: str | None = None, client: client_mod.Client | None = None) -> None:
        hyper: dict[str, Any] = {}
        rows: list[dict[str, Any]] = []
        params: dict[str, Any] = {}
        try:
            hyper = _choose(hyperparameters, read_hyperparameters(
                model, optimizer, epochs=epochs, batch_size=batch_size))
            rows = read_layers(model) if model is not None else []
            params = _adaptation_params(scheduler)
        except Exception:
            log.warning("dnnprov: could not read the model or optimizer (training goes on)", exc_info=True)
        params.update(adaptation_params or {})
        super().__init__(dataflow, hyperparameters=hyper, layers=rows, framework=f"torch {torch.__version__}",
                         execution=execution, adaptation=adaptation, client=client, resources=resources,
                         adaptation_params=params)
        self.model = model
        self.optimizer = optimizer
        self.scheduler = scheduler
        self._hook: Any = None
        self._hook_lr: Any = None
        self._lr_pending = False

    @safe
    def start(self) -> None:
        first = not self._started
        super().start()
        if first and self.adaptation and self.optimizer is not None:
            self._hook_lr = self._group_lr()
            if self._lr_seen is None:
                self._lr_seen = num(self._hook_lr)
            register = getattr(self.optimizer, "register_step_pre_hook", None)
            if register is not None:
                self._lr_pending = True
                self._hook = register(self._before_step)

    def _group_lr(self) -> Any:
        return self.optimizer.param_groups[0]["lr"]

    def _before_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        """Before the first optimizer.step() of each epoch: the rate the epoch trains with (as the
        Keras callback, which reads it at the first batch of each epoch)."""
        if not self._lr_pending:
            return
        self._lr_pending = False
        try:
            lr = optimizer.param_groups[0]["lr"]
            if lr is not self._hook_lr and lr != self._hook_lr:
                self._hook_lr = lr
                self.learning_rate(num(lr))
        except Exception:
            self._warn_once("learning-rate hook")

    def epoch(self, epoch: int | None = None, **metrics: Any) -> None:
        if self._hook is None and self.adaptation and self.optimizer is not None and self._started:
            self._lr_pending = True  # no step hook (old torch): check at each epoch's end
            self._before_step(self.optimizer, (), {})
        super().epoch(epoch, **metrics)
        self._lr_pending = True  # the next epoch's first step reads the rate

    def save(self, obj: Any, path: str | os.PathLike[str], epoch: int | None = None, **kwargs: Any) -> bool:
        """`torch.save(obj, path, **kwargs)` (its errors are the caller's), then `record_file`:
        an oModelFile row with the file's size and SHA-256, hashed in the background."""
        torch.save(obj, path, **kwargs)
        return self.record_file(path, epoch)

    @safe
    def finish(self, error: BaseException | str | None = None) -> None:
        if self._hook is not None:
            self._hook.remove()
            self._hook = None
        super().finish(error)


def run(dataflow: str, model: Any = None, optimizer: Any = None, *, hyperparameters: Mapping[str, Any] | None = None,
        scheduler: Any = None, epochs: int | None = None, batch_size: int | None = None, adaptation: bool = True,
        resources: bool = False, adaptation_params: Mapping[str, Any] | None = None, execution: str | None = None,
        client: client_mod.Client | None = None) -> TorchRun:
    """A TorchRun: use it as `with dnnprov.torch.run(...) as run:` (or call `start()` and
    `finish(error)` yourself). See the module's documentation."""
    return TorchRun(dataflow, model, optimizer, hyperparameters=hyperparameters, scheduler=scheduler,
                    epochs=epochs, batch_size=batch_size, adaptation=adaptation, resources=resources,
                    adaptation_params=adaptation_params, execution=execution, client=client)
