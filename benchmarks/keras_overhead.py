"""Training overhead of provenance capture, measured side by side.

The digits CNN is trained for 30 epochs:
  none            no capture
  dnnprov         ProvenanceCallback (per-epoch capture, asynchronous)
  mlflow          a callback logging the same values per epoch with MLflow (synchronous HTTP
                  to a local `mlflow server`), when mlflow is installed
  dnnprov/batch   a callback sending one row per batch through the DNNProv API
  mlflow/batch    the same with MLflow's log_metrics, when mlflow is installed
Variants alternate over 5 repetitions; the median wall time of `fit` is printed with the
overhead against `none`. Run:  python benchmarks/keras_overhead.py [--epochs 30 --reps 5]
"""
import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")

import keras  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _servers import dnnprov_server, mlflow_server  # noqa: E402

import dnnprov  # noqa: E402
from dnnprov.keras import ProvenanceCallback  # noqa: E402


def digits_cnn():
    keras.utils.set_random_seed(1)
    m = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.25),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    m.compile(optimizer=keras.optimizers.Adam(0.002), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
    return m


class EpochClock(keras.callbacks.Callback):
    """Notes when the first epoch (which includes JIT compilation) ends."""

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            self.first = time.perf_counter()


def timed(callback):
    """Adds up the time the callback's hooks take on the training thread: the direct cost of
    capture, which wall-time differences (±5 % noise on this small model) cannot resolve."""
    callback.hook_seconds = 0.0
    for name in ("on_train_begin", "on_epoch_begin", "on_epoch_end", "on_train_end",
                 "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end"):
        if getattr(type(callback), name) is getattr(keras.callbacks.Callback, name):
            continue  # not overridden: wrapping a batch hook would make Keras call it every step
        fn = getattr(callback, name)

        def wrapper(*args, _fn=fn, **kwargs):
            t = time.perf_counter()
            try:
                return _fn(*args, **kwargs)
            finally:
                callback.hook_seconds += time.perf_counter() - t
        setattr(callback, name, wrapper)
    return callback


class MLflowEpochs(keras.callbacks.Callback):
    """What the ProvenanceCallback records, logged the MLflow way."""

    def __init__(self, per_batch=False):
        super().__init__()
        self.per_batch = per_batch
        self.step = 0

    def on_train_begin(self, logs=None):
        import mlflow
        self.mlflow = mlflow
        mlflow.start_run()
        opt = self.model.optimizer
        mlflow.log_params({"optimizer_name": type(opt).__name__.lower(),
                           "learning_rate": float(keras.ops.convert_to_numpy(opt.learning_rate)),
                           "num_epochs": self.params.get("epochs"), "num_layers": len(self.model.layers)})

    def on_epoch_begin(self, epoch, logs=None):
        self.t0 = time.time()

    def on_epoch_end(self, epoch, logs=None):
        values = {k: float(v) for k, v in (logs or {}).items()}
        values["elapsed_time"] = time.time() - self.t0
        self.mlflow.log_metrics(values, step=epoch + 1)

    def on_train_batch_end(self, batch, logs=None):
        if self.per_batch:
            self.step += 1
            self.mlflow.log_metrics({k: float(v) for k, v in (logs or {}).items()}, step=self.step)

    def on_train_end(self, logs=None):
        self.mlflow.end_run()


class DnnprovBatches(keras.callbacks.Callback):
    """Per-batch capture with the DNNProv API: one oBatch row per training step."""

    def __init__(self):
        super().__init__()
        df = dnnprov.Dataflow("bench-batches")
        t = dnnprov.Transformation("Training")
        t.set_sets([dnnprov.Set("oBatch", dnnprov.SetType.OUTPUT, [
            dnnprov.Attribute(n, dnnprov.AttributeType.NUMERIC) for n in ("STEP", "LOSS", "ACCURACY")])])
        df.add_transformation(t)
        self.df = df

    def on_train_begin(self, logs=None):
        self.df.save()
        self.task = dnnprov.Task(1, "bench-batches", "Training")
        self.task.begin()
        self.step = 0

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        logs = logs or {}
        self.task.add_dataset(dnnprov.DataSet("oBatch", [dnnprov.Element(
            [self.step, logs.get("loss"), logs.get("accuracy")])]))
        self.task.save()

    def on_train_end(self, logs=None):
        self.task.end()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args()

    d = load_digits()
    x = (d.images / 16.0).astype("float32")[..., None]
    y = d.target

    url, dnnprov_proc = dnnprov_server()
    dnnprov.configure(url=url)
    ml_url, ml_proc = mlflow_server()
    if ml_url:
        import mlflow
        mlflow.set_tracking_uri(ml_url)
        mlflow.set_experiment("keras-overhead")
    else:
        print("mlflow not available (pip install mlflow; it needs the `mlflow` command): skipped")

    variants = {
        "none": lambda: [],
        "dnnprov": lambda: [timed(ProvenanceCallback("bench-epochs", adaptation=True))],
        "dnnprov/batch": lambda: [DnnprovBatches()],
    }
    if ml_url:
        variants["mlflow"] = lambda: [timed(MLflowEpochs())]
        variants["mlflow/batch"] = lambda: [MLflowEpochs(per_batch=True)]

    times = {k: [] for k in variants}
    steady = {k: [] for k in variants}
    flush_times = []
    hooks = {k: [] for k in variants}
    try:
        # One untimed warm-up (JIT caches, imports).
        digits_cnn().fit(x, y, epochs=1, batch_size=args.batch_size, verbose=0)
        for rep in range(args.reps):
            for name, callbacks in variants.items():
                model = digits_cnn()
                clock = EpochClock()
                cbs = [clock] + callbacks()
                t0 = time.perf_counter()
                model.fit(x, y, epochs=args.epochs, batch_size=args.batch_size, verbose=0, callbacks=cbs)
                t1 = time.perf_counter()
                times[name].append(t1 - t0)
                hooks[name] += [cb.hook_seconds for cb in cbs if hasattr(cb, "hook_seconds")]
                steady[name].append(t1 - clock.first)
                if name.startswith("dnnprov"):
                    t1 = time.perf_counter()
                    dnnprov.flush(60)
                    flush_times.append(time.perf_counter() - t1)
            print(f"repetition {rep + 1}/{args.reps}: " +
                  ", ".join(f"{k} {v[-1]:.3f}s" for k, v in times.items()), flush=True)
    finally:
        for p in (dnnprov_proc, ml_proc):
            if p is not None:
                p.terminate()

    steps = -(-len(x) // args.batch_size)
    base = statistics.median(times["none"])
    base_steady = statistics.median(steady["none"])
    print(f"\ndigits CNN, {args.epochs} epochs x {steps} steps, batch {args.batch_size}, "
          f"{args.reps} alternating repetitions; median wall times:")
    print(f"  {'variant':14s} {'fit()':>9s} {'overhead':>9s}   {'epochs 2..N':>11s} {'overhead':>9s}")
    for name in times:
        med, med_s = statistics.median(times[name]), statistics.median(steady[name])
        print(f"  {name:14s} {med:8.3f}s {100 * (med - base) / base:+8.2f}%   "
              f"{med_s:10.3f}s {100 * (med_s - base_steady) / base_steady:+8.2f}%")
    print("  (epochs 2..N leaves out the first epoch, which holds the JIT compilation)")
    for name, secs in hooks.items():
        if secs:
            med = statistics.median(secs)
            print(f"  {name}: time inside the callback's hooks on the training thread: median {med * 1000:.2f} ms "
                  f"per fit, {med / args.epochs * 1e6:.0f} µs per epoch = {100 * med / base:.3f}% of the fit")
    print(f"  (dnnprov flush after fit, not included above: median {statistics.median(flush_times) * 1000:.1f} ms)")
    print(f"  client stats: {dnnprov.get_client().stats()}")


if __name__ == "__main__":
    main()
