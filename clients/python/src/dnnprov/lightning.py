"""PyTorch Lightning: `DnnprovLogger`, the rows of the Keras callback from a Lightning `Trainer`.

    trainer = Trainer(max_epochs=10, logger=DnnprovLogger("mnist"))
    trainer.fit(model, train_loader, val_loader)
    trainer.test(model, test_loader)

Each `fit` is a new execution of the dataflow (a `dnnprov.torch.TorchRun` on the framework-neutral
`dnnprov.training.TrainingRun`): TrainingModel (iTrainingModel: the chosen hyperparameters read from
the first optimizer, the data loader and the module's `hparams`; iLayers: the leaf modules;
oTrainingModel: one row per epoch with what Lightning reports at the epoch's end, train and
validation; oTrainingStep: the metrics logged per step; oModelFile: each file a `ModelCheckpoint`
saves), Adaptation (one row per learning-rate change, seen at the first optimizer step that uses
it) and TestingModel (`trainer.test`). The training ends FINISHED, or FAILED with the error when
`fit` raises (Lightning's `on_exception` and `finalize("failed")`).

Lightning gives a logger no trainer; the logger finds it in `log_graph(model)`, which the Trainer
calls at the start of each `fit`/`test`, and adds its hooks (a `Callback`) to `trainer.callbacks`.
With `Trainer(enable_autolog_hparams=False)` that call does not happen: pass the hooks yourself,
`Trainer(logger=lg, callbacks=[lg.callback])`.
"""
from __future__ import annotations

import logging
import math
import os
import time
import weakref
from collections.abc import Mapping
from typing import Any

try:  # the unified package (`pip install lightning`), else the standalone one
    import lightning.pytorch as pl
    from lightning.pytorch.callbacks import Callback
    from lightning.pytorch.loggers import Logger
    from lightning.pytorch.utilities import rank_zero_only
except ImportError:  # pragma: no cover - pytorch_lightning only
    import pytorch_lightning as pl  # type: ignore[no-redef]
    from pytorch_lightning.callbacks import Callback  # type: ignore[no-redef]
    from pytorch_lightning.loggers import Logger  # type: ignore[no-redef]
    from pytorch_lightning.utilities import rank_zero_only  # type: ignore[no-redef]

from . import client as client_mod
from ._values import is_number, num
from .torch import TorchRun
from .training import DEFAULT_HYPERPARAMETERS, safe

__all__ = ["DnnprovLogger", "metric_name"]

log = logging.getLogger("dnnprov")


def metric_name(key: str, prefix: str = "train_") -> str:
    """A Lightning metric key as the Keras-style key the rows use: `train_loss` -> `loss`,
    `train/acc` -> `accuracy`, `val_acc` -> `val_accuracy` (with `prefix` "test_":
    `test_loss` -> `loss`)."""
    k = key.replace("/", "_")
    if prefix and k.startswith(prefix) and len(k) > len(prefix):
        k = k[len(prefix):]
    if k == "acc" or k.endswith("_acc"):
        k += "uracy"
    return k


def _scalar(v: Any) -> float | None:
    if getattr(v, "ndim", 0) not in (0, None) and getattr(v, "numel", lambda: 1)() != 1:
        return None
    return num(v)


def _scalars(metrics: Mapping[str, Any], skip: Any = ()) -> dict[str, float]:
    out = {}
    for k, v in metrics.items():
        if k in skip or k == "epoch":
            continue
        x = _scalar(v)
        if x is not None:
            out[k] = x
    return out


class _Hooks(Callback):
    """The logger's view of the trainer (a Lightning logger gets no trainer of its own)."""

    def __init__(self, logger: DnnprovLogger) -> None:
        self._logger = weakref.proxy(logger)
        self.trainer: Any = None
        self.in_batches = False      # between the first training batch and the epoch's validation/end
        self.in_validation = False   # a validation inside fit (not the sanity check)
        self.val_keys: set[str] = set()
        self.val_now: dict[str, float] = {}
        self.error: BaseException | None = None

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        self.trainer = trainer
        self.error = None
        if trainer.is_global_zero:
            self._logger._start(trainer, pl_module)

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        self.val_now = {}
        self.in_batches = False

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int) -> None:
        self.in_batches = True

    def on_validation_start(self, trainer: Any, pl_module: Any) -> None:
        self.in_batches = False
        self.in_validation = not trainer.sanity_checking and trainer.state.fn == "fit"

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        self.in_validation = False

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        self.in_batches = False
        if trainer.is_global_zero:
            self._logger._epoch_end(trainer)

    def on_test_end(self, trainer: Any, pl_module: Any) -> None:
        if trainer.is_global_zero:
            self._logger._test_end(trainer, pl_module)

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        self.error = exception


class DnnprovLogger(Logger):
    """A Lightning logger that records the training as DNNProv-Df provenance.

    Args:
        dataflow: the dataflow tag (one per model family / experiment).
        hyperparameters: Keras-Prov's choice ({"OPTIMIZER_NAME": True, "MOMENTUM": True, ...};
            default the Keras callback's) and/or values ({"DROPOUT": 0.4}). The module's `hparams`
            (`save_hyperparameters()`) are added as more iTrainingModel attributes (upper-cased);
            a name mapped to False leaves one out.
        log_hparams: add the module's hparams (numbers, strings, booleans) to iTrainingModel.
        adaptation: record learning-rate changes as the Adaptation task.
        adaptation_params: the iAdaptation row (EPOCHS_DROP, DROP, INITIAL_LRATE); default read
            from a StepLR-like scheduler.
        resources: add CPU_TIME and RSS_MB (and GPU figures) to each epoch row.
        checkpoints: record each file a ModelCheckpoint saves (oModelFile: path, size, SHA-256).
        execution: the execution's name (default `<dataflow>-<time>-<pid>-<random>`).
        client: the dnnprov client (default the shared one).
    """

    def __init__(self, dataflow: str = "lightning", *, hyperparameters: Mapping[str, Any] | None = None,
                 log_hparams: bool = True, adaptation: bool = True,
                 adaptation_params: Mapping[str, Any] | None = None, resources: bool = False,
                 checkpoints: bool = True, execution: str | None = None,
                 client: client_mod.Client | None = None) -> None:
        super().__init__()
        self.dataflow = dataflow.lower()
        self.chosen = {str(k).upper(): v for k, v in
                       (DEFAULT_HYPERPARAMETERS if hyperparameters is None else hyperparameters).items()}
        self.log_hparams = log_hparams
        self.adaptation = adaptation
        self.adaptation_params = dict(adaptation_params or {})
        self.resources = resources
        self.checkpoints = checkpoints
        self.execution_name = execution
        self.client = client
        self.callback = _Hooks(self)
        self.run: TorchRun | None = None   # the current (or last) fit's run
        self._hparams: dict[str, Any] = {}
        self._open = False                 # a fit is being recorded
        self._version = time.strftime("%Y%m%d-%H%M%S")

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (`ddp_spawn` pickles the trainer): without the run, hooks and client."""
        state = self.__dict__.copy()
        state.update(run=None, _open=False, callback=None, client=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.callback = _Hooks(self)

    # -- Logger API ------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.dataflow

    @property
    def version(self) -> str:
        return self._version

    @property
    def experiment(self) -> TorchRun | None:
        """The current (or last) fit's run."""
        return self.run

    @rank_zero_only
    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        try:
            items = vars(params).items() if not isinstance(params, Mapping) else params.items()
            for k, v in items:
                if isinstance(v, bool):
                    self._hparams[str(k).upper()] = str(v).lower()
                elif isinstance(v, str) or is_number(v):
                    self._hparams[str(k).upper()] = v if isinstance(v, str) else num(v)
        except Exception:
            log.warning("dnnprov: could not read the hyperparameters", exc_info=True)

    def log_graph(self, model: Any, input_array: Any = None) -> None:
        """Called by the Trainer at the start of each fit/test: the moment to add the hooks."""
        try:
            trainer = model.trainer
            if self.callback not in trainer.callbacks:
                trainer.callbacks.append(self.callback)
            self.callback.trainer = trainer
        except Exception:
            log.warning("dnnprov: could not add the logger's hooks to the trainer; pass "
                        "callbacks=[logger.callback] to the Trainer", exc_info=True)

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        hooks = self.callback
        try:
            if hooks.in_validation:
                val = _scalars(metrics)
                hooks.val_keys.update(val)
                hooks.val_now.update(val)
            elif hooks.in_batches and self.run is not None:
                step_metrics = {metric_name(k[:-5] if k.endswith("_step") else k): v
                                for k, v in _scalars(metrics).items()}
                if step_metrics:
                    self.run.step(None if step is None else step + 1, **step_metrics)
        except Exception:
            log.warning("dnnprov: log_metrics failed", exc_info=True)

    @rank_zero_only
    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        if not self.checkpoints or self.run is None:
            return
        try:
            path = getattr(checkpoint_callback, "_last_checkpoint_saved", None) or checkpoint_callback.last_model_path
            trainer = self.callback.trainer
            epoch = trainer.current_epoch + 1 if trainer is not None else None
            if path and os.path.isfile(path):
                self.run.record_file(path, epoch)
        except Exception:
            log.warning("dnnprov: could not record the checkpoint", exc_info=True)

    @rank_zero_only
    def finalize(self, status: str) -> None:
        run = self.run
        if run is None or not self._open:
            return
        self._open = False
        if status == "success":
            run.finish()
        else:
            err = self.callback.error
            run.finish(err if err is not None else f"training ended with Lightning status {status!r}")

    # -- from the hooks --------------------------------------------------------------------

    def _new_run(self, trainer: Any, pl_module: Any, training: bool) -> TorchRun:
        optimizer = trainer.optimizers[0] if training and trainer.optimizers else None
        configs = (getattr(trainer, "lr_scheduler_configs", None) or []) if training else []
        scheduler = configs[0].scheduler if configs else None
        chosen = dict(self.chosen)
        if self.log_hparams:
            for k, v in self._hparams.items():
                chosen.setdefault(k, v)
        group = optimizer.param_groups[0] if optimizer is not None and optimizer.param_groups else {}
        if chosen.get("LEARNING_RATE") is True and "initial_lr" in group:  # before a warm-up changed it
            chosen["LEARNING_RATE"] = num(group["initial_lr"])
        epochs = trainer.max_epochs if training and trainer.max_epochs not in (None, -1) else None
        version = getattr(pl, "__version__", "")
        run = TorchRun(self.dataflow, pl_module, optimizer, hyperparameters=chosen, scheduler=scheduler,
                       epochs=epochs, batch_size=_batch_size(trainer) if training else None,
                       adaptation=self.adaptation, resources=self.resources,
                       adaptation_params=self.adaptation_params or None, execution=self.execution_name,
                       client=self.client)
        run.framework = f"lightning {version}".strip()
        return run

    def _start(self, trainer: Any, pl_module: Any) -> None:
        try:
            if self.run is not None and self._open:
                self.run.finish("a new fit started before this one ended")
            self._open = False
            self.callback.val_keys = set()
            self.run = self._new_run(trainer, pl_module, training=True)
            self.run.start()
            self._open = True
        except Exception:
            log.warning("dnnprov: could not start recording the training (training goes on)", exc_info=True)

    @safe
    def _epoch_end(self, trainer: Any) -> None:
        if self.run is None:
            return
        cm = trainer.callback_metrics
        hooks = self.callback
        keys = set(cm)
        metrics: dict[str, float] = {}
        for k, v in _scalars(cm, hooks.val_keys).items():
            if (k.endswith("_step") and k[:-5] in keys) or (k.endswith("_epoch") and k[:-6] in keys):
                continue
            metrics[metric_name(k[:-6] if k.endswith("_epoch") else k)] = v
        for k, v in hooks.val_now.items():
            metrics[metric_name(k)] = v
        self.run.epoch(trainer.current_epoch + 1, **metrics)

    @safe
    def _test_end(self, trainer: Any, pl_module: Any) -> None:
        metrics = {metric_name(k, "test_"): v for k, v in _scalars(trainer.callback_metrics).items()}
        if self.run is None:  # test without a fit before it
            self.run = self._new_run(trainer, pl_module, training=False)
            self.run.start()
            self.run.test(**metrics)
            self.run.finish()
        else:
            self.run.test(**metrics)


def _batch_size(trainer: Any) -> int | None:
    try:
        loader = trainer.train_dataloader
        loader = getattr(loader, "loaders", loader)
        if isinstance(loader, (list, tuple)):
            loader = loader[0]
        if isinstance(loader, Mapping):
            loader = next(iter(loader.values()))
        bs = getattr(loader, "batch_size", None)
        if bs is None:
            bs = getattr(getattr(loader, "batch_sampler", None), "batch_size", None)
        return int(bs) if bs is not None and not (isinstance(bs, float) and math.isnan(bs)) else None
    except Exception:
        return None
