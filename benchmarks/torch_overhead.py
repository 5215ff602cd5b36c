"""Training overhead of dnnprov.torch on a plain PyTorch loop, measured side by side.

A small CPU MLP (64-128-64-10, sklearn's digits, batch 32: 57 steps per epoch, one torch thread)
is trained for 20 epochs with a StepLR scheduler:
  none            no capture
  dnnprov/epoch   `with dnnprov.torch.run(...)`, `run.epoch(loss=, accuracy=)` per epoch (and the
                  optimizer step hook that follows the learning rate)
  dnnprov/step    the same plus `run.step(loss=)` at every step
  mlflow/epoch    `mlflow.log_params` at the start, `mlflow.log_metrics` per epoch, to a local
                  `mlflow server` (MLflow has no autolog for plain loops)
  mlflow/step     the same plus `mlflow.log_metrics` at every step
Variants alternate over the repetitions; the median wall time of the loop is printed with the
overhead against `none`, and the time spent inside the capture calls on the training thread
(the direct cost, which wall-time differences of a few percent cannot resolve).
Run:  python benchmarks/torch_overhead.py [--epochs 20 --reps 5]
"""
import argparse
import functools
import os
import statistics
import sys
import time

os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")

import torch  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _servers import dnnprov_server, mlflow_server  # noqa: E402

import dnnprov  # noqa: E402
import dnnprov.torch  # noqa: E402


class Clock:
    """Adds up the time spent in the wrapped capture calls, by kind: "run" (start and end, once
    per loop), "epoch", "step"."""

    def __init__(self):
        self.seconds = {"run": 0.0, "epoch": 0.0, "step": 0.0}

    def wrap(self, kind, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[kind] += time.perf_counter() - t
        return wrapper


class NoCapture:
    def __init__(self, clock, model, opt, sched, args):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def step(self, **metrics):
        pass

    def epoch(self, **metrics):
        pass


class Dnnprov:
    def __init__(self, clock, model, opt, sched, args, per_step=False):
        self.run = dnnprov.torch.run("bench-torch", model, opt, scheduler=sched, epochs=args.epochs,
                                     batch_size=args.batch_size)
        # (the optimizer's step hook is not wrapped: after each epoch's first step it returns at
        # once, ~0.1 µs, less than a wrapper would add; see micro() for its cost)
        self.epoch = clock.wrap("epoch", self.run.epoch)
        self.step = clock.wrap("step", self.run.step) if per_step else (lambda **m: None)
        self.enter, self.exit = clock.wrap("run", self.run.__enter__), clock.wrap("run", self.run.__exit__)

    def __enter__(self):
        self.enter()
        return self

    def __exit__(self, *exc):
        self.exit(*exc)


class MLflow:
    def __init__(self, clock, model, opt, sched, args, per_step=False):
        import mlflow
        self.mlflow, self.opt, self.args, self.n = mlflow, opt, args, 0
        self.epochs_done, self.t0 = 0, time.time()
        self.epoch = clock.wrap("epoch", self._epoch)
        self.step = clock.wrap("step", self._step) if per_step else (lambda **m: None)
        self.enter, self.exit = clock.wrap("run", self._enter), clock.wrap("run", self._exit)

    def _enter(self):
        self.mlflow.start_run()
        self.mlflow.log_params({"optimizer_name": type(self.opt).__name__.lower(),
                                "learning_rate": self.opt.param_groups[0]["lr"], "num_epochs": self.args.epochs,
                                "batch_size": self.args.batch_size})

    def _exit(self, *exc):
        self.mlflow.end_run()

    def _epoch(self, **metrics):
        self.epochs_done += 1
        now = time.time()
        values = dict(metrics, elapsed_time=now - self.t0, learning_rate=self.opt.param_groups[0]["lr"])
        self.t0 = now
        self.mlflow.log_metrics(values, step=self.epochs_done)

    def _step(self, **metrics):
        self.n += 1
        self.mlflow.log_metrics({k: float(v) for k, v in metrics.items()}, step=self.n)

    def __enter__(self):
        self.enter()
        return self

    def __exit__(self, *exc):
        self.exit(*exc)


def make_model():
    torch.manual_seed(1)
    return torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64), torch.nn.ReLU(),
                               torch.nn.Dropout(0.1), torch.nn.Linear(64, 10))


def train(capture_cls, x, y, args):
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
    loss_fn = torch.nn.CrossEntropyLoss()
    clock = Clock()
    batches = [(x[i:i + args.batch_size], y[i:i + args.batch_size]) for i in range(0, len(x), args.batch_size)]
    t0 = time.perf_counter()
    with capture_cls(clock, model, opt, sched, args) as run:
        for _ in range(args.epochs):
            total, correct = 0.0, 0
            for xb, yb in batches:
                opt.zero_grad()
                out = model(xb)
                loss = loss_fn(out, yb)
                loss.backward()
                opt.step()
                lv = loss.item()
                total += lv * len(xb)
                correct += (out.argmax(1) == yb).sum().item()
                run.step(loss=lv)
            sched.step()
            run.epoch(loss=total / len(x), accuracy=correct / len(x))
    return time.perf_counter() - t0, clock


def micro(args):
    """The cost of each call on its own (no server needed: it only enqueues)."""
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    with dnnprov.torch.run("bench-micro", model, opt) as run:
        n = 20000
        t = time.perf_counter()
        for _ in range(n):
            run.step(loss=0.5)
        step_us = (time.perf_counter() - t) / n * 1e6
        run._lr_pending = False
        t = time.perf_counter()
        for _ in range(n):
            run._before_step(opt, (), {})
        hook_us = (time.perf_counter() - t) / n * 1e6
        m = 2000
        t = time.perf_counter()
        for _ in range(m):
            run.epoch(loss=0.5, accuracy=0.9)
        epoch_us = (time.perf_counter() - t) / m * 1e6  # includes sending the 10 buffered steps per epoch
    return (f"  micro: run.step {step_us:.2f} µs, optimizer hook after the epoch's first step {hook_us:.2f} µs, "
            f"run.epoch {epoch_us:.1f} µs (with {n // m} buffered steps to send)")


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

    url, dnnprov_proc = dnnprov_server()
    dnnprov.configure(url=url)
    ml_url, ml_proc = mlflow_server()
    variants = {
        "none": NoCapture,
        "dnnprov/epoch": Dnnprov,
        "dnnprov/step": functools.partial(Dnnprov, per_step=True),
    }
    if ml_url:
        import mlflow
        mlflow.set_tracking_uri(ml_url)
        mlflow.set_experiment("torch-overhead")
        variants["mlflow/epoch"] = MLflow
        variants["mlflow/step"] = functools.partial(MLflow, per_step=True)
    else:
        print("mlflow not available (pip install mlflow; it needs the `mlflow` command): skipped")

    times = {k: [] for k in variants}
    inside = {k: [] for k in variants}
    flush_times = []
    try:
        train(NoCapture, x, y, args)  # warm-up
        for rep in range(args.reps):
            for name, cls in variants.items():
                wall, clock = train(cls, x, y, args)
                times[name].append(wall)
                inside[name].append(clock.seconds)
                if name.startswith("dnnprov"):
                    t1 = time.perf_counter()
                    dnnprov.flush(60)
                    flush_times.append(time.perf_counter() - t1)
            print(f"repetition {rep + 1}/{args.reps}: " + ", ".join(f"{k} {v[-1]:.3f}s" for k, v in times.items()),
                  flush=True)
        micro_line = micro(args)
        dnnprov.flush(60)
    finally:
        for p in (dnnprov_proc, ml_proc):
            if p is not None:
                p.terminate()

    steps = -(-len(x) // args.batch_size)
    base = statistics.median(times["none"])
    n_steps = args.epochs * steps
    print(f"\nMLP on digits, {args.epochs} epochs x {steps} steps, batch {args.batch_size}, {args.threads} torch "
          f"thread(s), torch {torch.__version__}, {args.reps} alternating repetitions; medians:")
    print(f"  {'variant':14s} {'loop':>9s} {'overhead':>9s}   {'start+end':>10s} {'epoch calls':>12s} "
          f"{'step calls':>11s} {'per epoch':>10s} {'per step':>9s} {'share':>8s}")
    for name in times:
        med = statistics.median(times[name])
        run_s, ep_s, st_s = (statistics.median(c[k] for c in inside[name]) for k in ("run", "epoch", "step"))
        share = (ep_s + st_s) / base
        print(f"  {name:14s} {med:8.3f}s {100 * (med - base) / base:+8.2f}%   {run_s * 1000:8.2f}ms "
              f"{ep_s * 1000:10.2f}ms {st_s * 1000:9.2f}ms {ep_s / args.epochs * 1e6:8.0f}µs "
              f"{st_s / n_steps * 1e6:7.2f}µs {100 * share:7.3f}%")
    print(f"  baseline: {base / args.epochs * 1000:.2f} ms per epoch, {base / n_steps * 1e6:.0f} µs per step")
    print("  start+end, epoch calls, step calls: time inside the capture calls on the training thread;"
          " share: (epoch + step calls) / the baseline loop (start+end is once per run)")
    print(micro_line)
    if flush_times:
        print(f"  (dnnprov flush after the loop, not included above: median "
              f"{statistics.median(flush_times) * 1000:.1f} ms)")
    print(f"  client stats: {dnnprov.get_client().stats()}")


if __name__ == "__main__":
    main()
