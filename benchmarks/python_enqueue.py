"""Cost of one capture call in the training thread (target: median < 10 us), while the sender
thread ships the events to a live server. Run:  python benchmarks/python_enqueue.py [--n 50000]

  event          Client.send_event(dict): key stamping and the deque append
  task.save      the DNNProv API: DataSet + Element + Task.save() (builds the event too)
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _servers import dnnprov_server  # noqa: E402

import dnnprov  # noqa: E402


def report(name, times):
    times.sort()
    n = len(times)
    print(f"  {name:10s} median {statistics.median(times) * 1e6:6.2f} us   "
          f"p99 {times[int(n * 0.99)] * 1e6:6.2f} us   max {times[-1] * 1e6:8.1f} us   ({n} calls)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=50000)
    args = ap.parse_args()
    url, proc = dnnprov_server()
    try:
        # Room for the whole burst in memory: this measures the call, not the spill to disk.
        client = dnnprov.configure(url=url, max_queue=2 * args.n)
        df = dnnprov.Dataflow("bench-enqueue", True)
        df.save()
        clock = time.perf_counter

        base = {"dataflow": "bench-enqueue", "execution": df.execution.name, "transformation": "trainingmodel",
                "task": "1", "status": "RUNNING"}
        events = [dict(base, sets=[{"tag": "otrainingmodel", "elements": [["t", 1.0, 0.5, 0.5, i]]}])
                  for i in range(args.n)]
        t_event = []
        for ev in events:
            t0 = clock()
            client.send_event(ev)
            t_event.append(clock() - t0)
        dnnprov.flush(120)

        task = dnnprov.Task(1, "bench-enqueue", "TrainingModel")
        task.begin()
        t_task = []
        for i in range(args.n):
            t0 = clock()
            task.add_dataset(dnnprov.DataSet("oTrainingModel", [dnnprov.Element(["t", 1.0, 0.5, 0.5, i])]))
            task.save()
            t_task.append(clock() - t0)
        task.end()
        t0 = time.perf_counter()
        dnnprov.flush(120)
        drain = time.perf_counter() - t0

        print(f"capture call cost (server {url}):")
        report("event", t_event)
        report("task.save", t_task)
        print(f"  flush after the last call: {drain * 1000:.0f} ms; client stats {client.stats()}")
    finally:
        if proc is not None:
            proc.terminate()


if __name__ == "__main__":
    main()
