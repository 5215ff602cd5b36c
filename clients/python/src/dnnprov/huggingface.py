"""Hugging Face Transformers: `DnnprovCallback`, the rows of the Keras callback from a `Trainer`.

    trainer = Trainer(model, args, train_dataset=..., eval_dataset=...,
                      callbacks=[DnnprovCallback("bert")])
    trainer.train()
    trainer.evaluate()            # TestingModel

or, once `dnnprov.huggingface` is imported, `TrainingArguments(..., report_to="dnnprov")` (the
dataflow is then `DNNPROV_DATAFLOW`, else the model's `config.model_type`).

Each `train()` is a new execution of the dataflow (a `dnnprov.training.TrainingRun`): TrainingModel
(iTrainingModel: the chosen hyperparameters from `TrainingArguments` and the optimizer, plus
LR_SCHEDULER_TYPE, WARMUP_STEPS; iLayers: the leaf modules; oTrainingModel: one row per epoch with
the last training values logged in it (`loss`, `grad_norm`, `learning_rate`) and its evaluation
(`eval_loss` -> VAL_LOSS, `eval_accuracy` -> VAL_ACCURACY); oTrainingStep: each log of the
`logging_strategy="steps"` kind; oModelFile: the files of each checkpoint directory `on_save`),
Adaptation (each logged learning rate that differs from the one before) and TestingModel
(`trainer.evaluate()` after `train()`). The row of an epoch is sent when the next epoch begins or
training ends (the Trainer logs and evaluates after `on_epoch_end`). The training ends FINISHED, or
FAILED with the error when `train()` raises: the callback wraps the `train` method of the Trainer
it was given to (found at `on_init_end`); a callback added later with `trainer.add_callback` sees
the failure only at the Trainer's next `train()` ("ended without on_train_end").
"""
from __future__ import annotations

import functools
import logging
import math
import os
import re
import sys
from collections.abc import Mapping
from typing import Any

import transformers
from transformers import TrainerCallback

from . import client as client_mod
from ._values import num
from .torch import read_hyperparameters as torch_hyperparameters
from .torch import read_layers as torch_layers
from .training import DEFAULT_HYPERPARAMETERS, TrainingRun, safe

__all__ = ["DnnprovCallback", "register"]

log = logging.getLogger("dnnprov")

# Logged values that are not metrics of the model (timing, counters).
_NOT_METRICS = re.compile(r"(^|_)(runtime|samples_per_second|steps_per_second|tokens_per_second|total_flos)$")
_SKIP = frozenset({"epoch", "step", "num_input_tokens_seen"})


def _text(v: Any) -> Any:
    return getattr(v, "value", v) if v is not None else None


def _metrics(logs: Mapping[str, Any], prefix: str = "", to: str = "") -> dict[str, float]:
    """Numbers of a log or an evaluation, `prefix` replaced by `to` (eval_loss -> val_loss)."""
    out = {}
    for k, v in logs.items():
        if k in _SKIP or _NOT_METRICS.search(k):
            continue
        x = num(v)
        if x is None:
            continue
        if prefix and k.startswith(prefix):
            k = to + k[len(prefix):]
        out[k] = x
    return out


def _eval_prefix(metrics: Mapping[str, Any]) -> str:
    for k in metrics:
        if k.endswith("_runtime") or k.endswith("_loss"):
            return k.rsplit("_", 1)[0] + "_"
    return "eval_"


class DnnprovCallback(TrainerCallback):
    """A `transformers.TrainerCallback` that records training as DNNProv-Df provenance.

    Args:
        dataflow: the dataflow tag (default `DNNPROV_DATAFLOW`, else the model's model_type).
        hyperparameters: Keras-Prov's choice ({"OPTIMIZER_NAME": True, "MOMENTUM": True, ...};
            default the Keras callback's) and/or values ({"DROPOUT": 0.1}). LR_SCHEDULER_TYPE
            and WARMUP_STEPS are added unless mapped to False.
        adaptation: record learning-rate changes as the Adaptation task.
        adaptation_params: the iAdaptation row (EPOCHS_DROP, DROP, INITIAL_LRATE).
        resources: add CPU_TIME and RSS_MB (and GPU figures) to each epoch row.
        checkpoints: record the files of each saved checkpoint (oModelFile: path, size, SHA-256).
        execution: the execution's name (default `<dataflow>-<time>-<pid>-<random>`).
        client: the dnnprov client (default the shared one).
    """

    def __init__(self, dataflow: str | None = None, *, hyperparameters: Mapping[str, Any] | None = None,
                 adaptation: bool = True, adaptation_params: Mapping[str, Any] | None = None,
                 resources: bool = False, checkpoints: bool = True, execution: str | None = None,
                 client: client_mod.Client | None = None) -> None:
        self.dataflow = dataflow
        self.chosen = {str(k).upper(): v for k, v in
                       (DEFAULT_HYPERPARAMETERS if hyperparameters is None else hyperparameters).items()}
        self.adaptation = adaptation
        self.adaptation_params = dict(adaptation_params or {})
        self.resources = resources
        self.checkpoints = checkpoints
        self.execution_name = execution
        self.client = client
        self.run: TrainingRun | None = None   # the current (or last) train()'s run
        self._training = False
        self._epochs = 0                      # epochs ended in this train()
        self._epoch_ended = False             # its row waits for the logs after on_epoch_end
        self._epoch_metrics: dict[str, float] = {}

    # -- the run ---------------------------------------------------------------------------

    def _new_run(self, args: Any, state: Any, model: Any, optimizer: Any) -> TrainingRun:
        inner = getattr(optimizer, "optimizer", optimizer)  # accelerate's AcceleratedOptimizer
        epochs = getattr(state, "num_train_epochs", None) or args.num_train_epochs
        available = torch_hyperparameters(model, inner, epochs=int(epochs) if epochs else None,
                                          batch_size=args.per_device_train_batch_size)
        available["LEARNING_RATE"] = args.learning_rate
        available["DECAY"] = args.weight_decay
        extra = {"LR_SCHEDULER_TYPE": _text(args.lr_scheduler_type), "WARMUP_STEPS": num(args.warmup_steps)}
        if getattr(args, "warmup_ratio", None):
            extra["WARMUP_RATIO"] = num(args.warmup_ratio)
        hyper: dict[str, Any] = {}
        for name, v in self.chosen.items():
            if v is True:
                hyper[name] = available.get(name)
            elif v is not False:
                hyper[name] = v
        for name, v in extra.items():
            if self.chosen.get(name, True) is True:
                hyper.setdefault(name, v)
        dataflow = self.dataflow or os.environ.get("DNNPROV_DATAFLOW") or _model_tag(model)
        return TrainingRun(dataflow, hyperparameters=hyper, layers=torch_layers(model) if model is not None else [],
                           framework=f"transformers {transformers.__version__}", execution=self.execution_name,
                           adaptation=self.adaptation, client=self.client, resources=self.resources,
                           adaptation_params=self.adaptation_params or None)

    def _flush_epoch(self) -> None:
        if self._epoch_ended and self.run is not None:
            self._epoch_ended = False
            self.run.epoch(self._epochs, **self._epoch_metrics)
            self._epoch_metrics = {}

    def fail(self, error: BaseException | str) -> None:
        """Ends the current training FAILED with the error (called when `train()` raises)."""
        if self._training and self.run is not None:
            self._training = False
            self.run.finish(error)

    # -- TrainerCallback -------------------------------------------------------------------

    def on_init_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        _watch(_calling_trainer(), self)

    @safe
    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, optimizer: Any = None,
                       **kwargs: Any) -> None:
        if self._training:  # the previous train() left without on_train_end, unseen
            self.fail("train() ended without on_train_end (an exception interrupted it)")
        _watch(_calling_trainer(), self)
        if not state.is_world_process_zero:
            return
        self._epochs, self._epoch_ended, self._epoch_metrics = 0, False, {}
        self.run = self._new_run(args, state, model, optimizer)
        self.run.start()
        self._training = True

    def on_epoch_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self._training:
            self._flush_epoch()

    def on_epoch_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self._training:
            self._epochs += 1
            self._epoch_ended = True

    @safe
    def on_log(self, args: Any, state: Any, control: Any, logs: Mapping[str, Any] | None = None,
               **kwargs: Any) -> None:
        if not self._training or self.run is None or not logs:
            return
        if "train_runtime" in logs or any(k.startswith("eval_") for k in logs):
            return  # the summary at the end of train(), or an evaluation (on_evaluate has it)
        lr = logs.get("learning_rate")
        if lr is not None and self.adaptation:
            self.run.learning_rate(num(lr))
        metrics = _metrics(logs)
        if _text(args.logging_strategy) == "steps":
            self.run.step(state.global_step, **metrics)
        self._epoch_metrics.update(metrics)

    @safe
    def on_evaluate(self, args: Any, state: Any, control: Any, metrics: Mapping[str, Any] | None = None,
                    model: Any = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero or not metrics:
            return
        prefix = _eval_prefix(metrics)
        if self._training:  # an evaluation during train(): the epoch's VAL_* values
            self._epoch_metrics.update(_metrics(metrics, prefix, "val_"))
            return
        values = _metrics(metrics, prefix, "")
        if self.run is None:  # evaluate() without a train() before it
            self.run = self._new_run(args, state, model, None)
            self.run.start()
            self.run.test(**values)
            self.run.finish()
        else:
            self.run.test(**values)

    @safe
    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not self.checkpoints or not self._training or self.run is None or not state.is_world_process_zero:
            return
        prefix = transformers.trainer_utils.PREFIX_CHECKPOINT_DIR
        folder = os.path.join(args.output_dir, f"{prefix}-{state.global_step}")
        if not os.path.isdir(folder):
            return
        epoch = math.ceil(state.epoch) if state.epoch else None
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                self.run.record_file(path, epoch)

    @safe
    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not self._training or self.run is None:
            return
        self._flush_epoch()
        self._training = False
        self.run.finish()


def _model_tag(model: Any) -> str:
    tag = getattr(getattr(model, "config", None), "model_type", None) or type(model).__name__
    return re.sub(r"[^a-z0-9_]", "_", str(tag).lower()) or "huggingface"


def _calling_trainer() -> Any:
    """The `transformers.Trainer` whose method is calling the callback (found on the stack)."""
    f = sys._getframe(1)
    for _ in range(12):
        if f is None:
            break
        obj = f.f_locals.get("self")
        if isinstance(obj, transformers.Trainer):
            return obj
        f = f.f_back
    return None


def _watch(trainer: Any, callback: DnnprovCallback) -> None:
    """Wraps `trainer.train` (on the instance) so that an exception out of it ends the training
    FAILED with the error; the exception goes on to the caller."""
    if trainer is None or getattr(trainer, "_dnnprov_watched", False):
        return
    original = trainer.train

    @functools.wraps(original)
    def train(*args: Any, **kwargs: Any) -> Any:
        try:
            return original(*args, **kwargs)
        except BaseException as e:
            for cb in trainer.callback_handler.callbacks:
                if isinstance(cb, DnnprovCallback):
                    try:
                        cb.fail(e)
                    except Exception:
                        log.warning("dnnprov: could not record the failure", exc_info=True)
            raise

    try:
        trainer.train = train
        trainer._dnnprov_watched = True
    except Exception:
        log.warning("dnnprov: could not watch Trainer.train for errors", exc_info=True)


def register() -> bool:
    """Lets `TrainingArguments(report_to="dnnprov")` use DnnprovCallback (done on import).
    transformers has no public registry of integrations: this adds an entry to its
    `INTEGRATION_TO_CALLBACK` table; returns whether it could."""
    try:
        from transformers.integrations import integration_utils
        integration_utils.INTEGRATION_TO_CALLBACK["dnnprov"] = DnnprovCallback
        return True
    except Exception:
        log.warning("dnnprov: could not register report_to='dnnprov' with transformers", exc_info=True)
        return False


register()
