"""Resource probes for the Keras callback (`ProvenanceCallback(resources=True)`): CPU time and
resident memory of the process per epoch, and GPU memory and utilization through NVML when
`pynvml` is installed and sees a GPU."""
from __future__ import annotations

import os
import time
from typing import Callable

from .model import AttributeType

GpuReader = Callable[[], "list[float | None]"]


class ResourceProbe:
    """The per-epoch resource attributes of oTrainingModel and their values."""

    def __init__(self) -> None:
        self._gpu = gpu_probe()
        self._cpu0 = time.process_time()

    @property
    def attributes(self) -> list[tuple[str, AttributeType]]:
        """(name, type) of the values `values()` returns, in order."""
        names = ["CPU_TIME", "RSS_MB"]
        if self._gpu is not None:
            names += ["GPU_MEMORY_MB", "GPU_UTILIZATION"]
        return [(n, AttributeType.NUMERIC) for n in names]

    def start_epoch(self) -> None:
        self._cpu0 = time.process_time()

    def values(self) -> list[float | None]:
        """CPU seconds since `start_epoch`, resident MB, then the GPU figures if any."""
        out: list[float | None] = [time.process_time() - self._cpu0, rss_mb()]
        if self._gpu is not None:
            out += self._gpu()
        return out


def rss_mb() -> float | None:
    """The process' resident memory in MB (peak RSS where /proc is missing), or None."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except Exception:
        try:
            import resource
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        except Exception:
            return None


def gpu_probe() -> GpuReader | None:
    """A function giving [memory MB, utilization %] of GPU 0 through NVML, or None."""
    try:
        import pynvml
        pynvml.nvmlInit()
        if pynvml.nvmlDeviceGetCount() == 0:
            return None
        handle = pynvml.nvmlDeviceGetHandleByIndex(0)
    except Exception:
        return None

    def read() -> list[float | None]:
        try:
            mem = pynvml.nvmlDeviceGetMemoryInfo(handle).used / 2**20
            util = pynvml.nvmlDeviceGetUtilizationRates(handle).gpu
            return [mem, float(util)]
        except Exception:
            return [None, None]
    return read
