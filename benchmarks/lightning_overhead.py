"""Training overhead of dnnprov.lightning.DnnprovLogger on a Lightning Trainer.fit, side by side.

A small CPU MLP (64-128-64-10, sklearn's digits with 1,437 training and 360 validation images,
batch 32: 45 steps per epoch, one torch thread) is fit for 20 epochs with a StepLR scheduler,
validating every epoch, no checkpoints, no progress bar:
  none            Trainer(logger=False)
  null            Trainer(logger=NullLogger()): a logger that does nothing (what Lightning itself
                  spends on having a logger: collecting the logged values for it)
  null+cb         the same plus an empty Callback (what Lightning spends dispatching its ~8 hooks
                  per batch to one more callback; DnnprovLogger adds one, as MLflow's autolog does)
  dnnprov/epoch   Trainer(logger=DnnprovLogger(...)); the module logs per epoch only
  dnnprov/step    the same, the module also logs train_loss per step, log_every_n_steps=1
  mlflow/epoch    mlflow.pytorch.autolog() (log_every_n_epoch=1; log_models, checkpoint and
                  log_datasets off, so that it records metrics and parameters as dnnprov does)
                  to a local `mlflow server` (SQLite), with Trainer's default logger off
  mlflow/step     the same with log_every_n_step=1
Every variant runs the same LightningModule (its `self.log` calls are part of the baseline; the
step variants log per step in `none` too). Variants alternate over the repetitions; the median
wall time of `fit` is printed with its overhead against the baseline of the same logging mode,
and, for dnnprov, the time spent inside the logger and its hooks on the training thread.
Run:  python benchmarks/lightning_overhead.py [--epochs 20 --reps 5]
"""
import argparse
import functools
import logging
import os
import statistics
import sys
import time
import warnings

os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
if os.path.exists(os.path.join(os.path.dirname(sys.executable), "mlflow")):  # the venv's mlflow server
    os.environ.setdefault("MLFLOW_BIN", os.path.join(os.path.dirname(sys.executable), "mlflow"))
warnings.filterwarnings("ignore")

import lightning.pytorch as pl  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _servers import dnnprov_server, mlflow_server  # noqa: E402

import dnnprov  # noqa: E402
from dnnprov.lightning import DnnprovLogger  # noqa: E402
from dnnprov.torch import TorchRun  # noqa: E402

for name in ("lightning", "lightning.pytorch", "lightning.fabric", "pytorch_lightning", "mlflow"):
    logging.getLogger(name).setLevel(logging.ERROR)


class MLP(pl.LightningModule):
    def __init__(self, per_step=False, lr=0.05):
        super().__init__()
        self.save_hyperparameters()
        torch.manual_seed(1)
        self.net = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64),
                                       torch.nn.ReLU(), torch.nn.Dropout(0.1), torch.nn.Linear(64, 10))

    def training_step(self, batch, batch_idx):
        x, y = batch
        out = self.net(x)
        loss = torch.nn.functional.cross_entropy(out, y)
        self.log("train_loss", loss, on_step=self.hparams.per_step, on_epoch=True)
        self.log("train_acc", (out.argmax(1) == y).float().mean(), on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        out = self.net(x)
        self.log("val_loss", torch.nn.functional.cross_entropy(out, y))
        self.log("val_acc", (out.argmax(1) == y).float().mean())

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=0.9)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)}


class Clock:
    """Time spent inside the wrapped methods (the logger's and its hooks')."""

    def __init__(self):
        self.seconds = 0.0

    def wrap(self, obj, name):
        fn = getattr(obj, name)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - t
        setattr(obj, name, wrapper)


class NullLogger(pl.loggers.Logger):
    name, version = "null", "0"

    def log_hyperparams(self, params, *args, **kwargs):
        pass

    def log_metrics(self, metrics, step=None):
        pass


class EmptyCallback(pl.Callback):
    pass


CLOCK = Clock()
_before_step = TorchRun._before_step


def _timed_before_step(self, *args):
    """The optimizer step pre-hook of TorchRun (follows the learning rate), timed."""
    t = time.perf_counter()
    try:
        return _before_step(self, *args)
    finally:
        CLOCK.seconds += time.perf_counter() - t


TorchRun._before_step = _timed_before_step


def dnnprov_logger(clock):
    lg = DnnprovLogger("bench-lightning")
    for name in ("log_hyperparams", "log_graph", "log_metrics", "finalize", "after_save_checkpoint"):
        clock.wrap(lg, name)
    for name in ("on_train_start", "on_train_epoch_start", "on_train_batch_start", "on_validation_start",
                 "on_validation_end", "on_train_epoch_end", "on_exception"):
        clock.wrap(lg.callback, name)
    return lg


def fit(variant, per_step, loaders, args):
    import mlflow.pytorch
    clock = CLOCK
    clock.seconds = 0.0
    logger, callbacks = False, []
    if variant.startswith("null"):
        logger = NullLogger()
        callbacks = [EmptyCallback()] if variant == "null+cb" else []
    elif variant == "dnnprov":
        logger = dnnprov_logger(clock)
    elif variant == "mlflow":
        mlflow.pytorch.autolog(log_every_n_epoch=1, log_every_n_step=1 if per_step else None, log_models=False,
                               log_datasets=False, checkpoint=False, silent=True)
    trainer = pl.Trainer(max_epochs=args.epochs, accelerator="cpu", devices=1, logger=logger,
                         enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False,
                         log_every_n_steps=1, num_sanity_val_steps=0, callbacks=callbacks)
    model = MLP(per_step=per_step)
    t0 = time.perf_counter()
    try:
        trainer.fit(model, *loaders)
    finally:
        wall = time.perf_counter() - t0
        if variant == "mlflow":
            mlflow.pytorch.autolog(disable=True)
    return wall, clock.seconds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    d = load_digits()
    x = torch.tensor(d.data / 16.0, dtype=torch.float32)
    y = torch.tensor(d.target, dtype=torch.long)
    ds = torch.utils.data.TensorDataset
    train = torch.utils.data.DataLoader(ds(x[:1437], y[:1437]), batch_size=args.batch_size, shuffle=False)
    val = torch.utils.data.DataLoader(ds(x[1437:], y[1437:]), batch_size=256)
    loaders = (train, val)

    url, dnnprov_proc = dnnprov_server()
    dnnprov.configure(url=url)
    ml_url, ml_proc = mlflow_server()
    variants = [("none", False), ("null", False), ("null+cb", False), ("dnnprov", False),
                ("none", True), ("null", True), ("null+cb", True), ("dnnprov", True)]
    if ml_url:
        import mlflow
        mlflow.set_tracking_uri(ml_url)
        mlflow.set_experiment("lightning-overhead")
        variants += [("mlflow", False), ("mlflow", True)]
    else:
        print("mlflow not available (pip install mlflow; it needs the `mlflow` command): skipped")

    def label(v, per_step):
        return f"{v}/{'step' if per_step else 'epoch'}"

    times = {label(*v): [] for v in variants}
    inside = {label(*v): [] for v in variants}
    try:
        fit("none", False, loaders, args)  # warm-up
        for rep in range(args.reps):
            order = variants if rep % 2 == 0 else variants[::-1]
            for v, per_step in order:
                wall, ins = fit(v, per_step, loaders, args)
                times[label(v, per_step)].append(wall)
                inside[label(v, per_step)].append(ins)
                if v == "dnnprov":
                    dnnprov.flush(60)
            print(f"repetition {rep + 1}/{args.reps}: " + ", ".join(f"{k} {t[-1]:.3f}s" for k, t in times.items()),
                  flush=True)
    finally:
        for p in (dnnprov_proc, ml_proc):
            if p is not None:
                p.terminate()

    steps = -(-1437 // args.batch_size)
    print(f"\nLightning {pl.__version__} fit of an MLP on digits, {args.epochs} epochs x {steps} steps "
          f"(+ validation), batch {args.batch_size}, {args.threads} torch thread(s), torch {torch.__version__}, "
          f"{args.reps} alternating repetitions; medians:")
    print(f"  {'variant':14s} {'fit':>9s} {'vs none':>9s} {'vs null':>9s} {'min':>9s} {'in logger':>10s} "
          f"{'share':>8s} {'per epoch':>10s}"
          f" {'per step':>9s}")
    for name in times:
        base = statistics.median(times["none/" + name.split("/")[1]])
        med = statistics.median(times[name])
        ins = statistics.median(inside[name])
        null = statistics.median(times["null/" + name.split("/")[1]])
        extra = (med - null) if name.startswith("mlflow") else ins
        print(f"  {name:14s} {med:8.3f}s {100 * (med - base) / base:+8.2f}% {100 * (med - null) / null:+8.2f}% "
              f"{min(times[name]):8.3f}s {ins * 1000:8.1f}ms "
              f"{100 * ins / base:7.3f}% {extra / args.epochs * 1e3:8.2f}ms "
              f"{extra / (args.epochs * steps) * 1e6:7.1f}µs")
    print("  vs none, vs null: median fit time against `none` / `null` of the same logging mode;"
          " in logger: time inside DnnprovLogger and its hooks on the training thread (share: of `none`);"
          " per epoch, per step: dnnprov from the time inside (with the optimizer step hook), mlflow from"
          " the wall-time difference with `null`")


if __name__ == "__main__":
    main()
