"""Training-thread cost of recording model files (ProvenanceCallback + ModelCheckpoint).

A digits CNN with a 1M-weight dense layer (a `.keras` checkpoint of about 8 MB with the SGD
momentum) is trained with a ModelCheckpoint writing one file per epoch. Variants, alternating:
  checkpoint              ModelCheckpoint only (no capture)
  checkpoint+dnnprov      ModelCheckpoint and ProvenanceCallback (which records each file:
                          stat on the training thread, SHA-256 on a background thread)
  dnnprov                 ProvenanceCallback, no checkpoint (the callback's usual cost)
Printed: the median wall time of `fit`, the time inside the callback's hooks on the training
thread per epoch and as a share of the fit (and, of it, the file checks: stat and queueing),
and the background hashing time per file.
Run:  python benchmarks/keras_model_files.py [--epochs 20 --reps 3]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _servers import dnnprov_server  # noqa: E402
from keras_overhead import timed  # noqa: E402

import dnnprov  # noqa: E402
from dnnprov import model_files  # noqa: E402
from dnnprov.keras import ProvenanceCallback  # noqa: E402


def wide_cnn():
    keras.utils.set_random_seed(1)
    m = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(1024, activation="relu"),  # 1M weights: the checkpoint is a few MB
        keras.layers.Dense(10, activation="softmax"),
    ])
    m.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
    return m


def timed_hashing():
    """Adds up the time the hashing thread spends per file."""
    spent = []
    process = model_files.process

    def wrapper(job):
        t = time.perf_counter()
        try:
            return process(job)
        finally:
            spent.append(time.perf_counter() - t)
    model_files.process = wrapper
    return spent


def timed_checks(callback):
    """Adds up the time the file checks (stat, queueing) take inside the callback's hooks."""
    callback.check_seconds = 0.0
    recorder = callback._files
    check = recorder.check

    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return check(*args, **kwargs)
        finally:
            callback.check_seconds += time.perf_counter() - t
    recorder.check = wrapper
    return callback


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()

    url, proc = dnnprov_server()
    dnnprov.configure(url=url)
    d = load_digits()
    x = (d.images / 16.0).astype("float32")[..., None]
    y = d.target.astype("int32")
    hashing = timed_hashing()
    variants = ["checkpoint", "checkpoint+dnnprov", "dnnprov"]
    walls = {k: [] for k in variants}
    hooks = {k: [] for k in variants}
    checks = {k: [] for k in variants}
    sizes = []
    try:
        for rep in range(args.reps):
            for name in variants:
                with tempfile.TemporaryDirectory(prefix="dnnprov-ckpt-") as tmp:
                    cbs = []
                    if "checkpoint" in name:
                        cbs.append(keras.callbacks.ModelCheckpoint(os.path.join(tmp, "ckpt-{epoch:02d}.keras")))
                    if "dnnprov" in name:
                        cbs.append(timed(timed_checks(ProvenanceCallback(f"modelfiles-{name.replace('+', '-')}"))))
                    m = wide_cnn()
                    t = time.perf_counter()
                    m.fit(x, y, epochs=args.epochs, batch_size=64, verbose=0, callbacks=cbs)
                    walls[name].append(time.perf_counter() - t)
                    hooks[name] += [cb.hook_seconds for cb in cbs if hasattr(cb, "hook_seconds")]
                    checks[name] += [cb.check_seconds for cb in cbs if hasattr(cb, "check_seconds")]
                    assert dnnprov.flush(120)
                    if "checkpoint" in name:
                        sizes += [os.path.getsize(os.path.join(tmp, f)) for f in os.listdir(tmp)]
            print(f"rep {rep + 1}/{args.reps} done", file=sys.stderr)
    finally:
        if proc is not None:
            proc.terminate()

    print(f"{args.epochs} epochs x {args.reps} reps; checkpoint size {statistics.median(sizes) / 1e6:.1f} MB")
    for name in variants:
        wall = statistics.median(walls[name])
        line = f"  {name:20s} fit {wall:.3f} s ({wall / args.epochs * 1000:.1f} ms/epoch)"
        if hooks[name]:
            h = statistics.median(hooks[name])
            line += (f"; hooks {h * 1000:.2f} ms/fit, {h / args.epochs * 1e6:.0f} us/epoch, "
                     f"{100 * h / wall:.3f} % of the fit")
            c = statistics.median(checks[name])
            line += f"; of which file checks {c / args.epochs * 1e6:.0f} us/epoch"
        print(line)
    if hashing:
        print(f"  hashing (background thread): median {statistics.median(hashing) * 1000:.1f} ms per file, "
              f"{len(hashing)} files")


if __name__ == "__main__":
    main()
