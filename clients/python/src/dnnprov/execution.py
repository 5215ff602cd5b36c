"""Executions: one run of an instrumented script for one dataflow; tasks join the current one."""
from __future__ import annotations

import datetime
import getpass
import os
import platform
import secrets
import shutil
import socket
import sys
import threading
from typing import Any

_current: dict[str, Execution] = {}  # dataflow tag (lower case) -> Execution
_lock = threading.Lock()
_info: dict[str, Any] | None = None


class Execution:
    """Named `<dataflow>-<ISO time>-<pid>-<random>`. Its first event carries the execution
    info (user, host, script, python, hardware)."""

    def __init__(self, dataflow_tag: str, name: str | None = None) -> None:
        self.dataflow = dataflow_tag.lower()
        if name is None:
            now = datetime.datetime.now().isoformat(timespec="seconds")
            name = f"{self.dataflow}-{now}-{os.getpid()}-{secrets.token_hex(3)}"
        self.name = name
        self.info_sent = False

    def stamp(self, event: dict[str, Any]) -> dict[str, Any]:
        """Adds the execution to an event (and the info, on the first one)."""
        event["execution"] = self.name
        if not self.info_sent:
            self.info_sent = True
            event["execution_info"] = execution_info()
        return event

    def __repr__(self) -> str:
        return f"Execution({self.name!r})"


def start_execution(dataflow_tag: str, name: str | None = None) -> Execution:
    """Opens a new execution of the dataflow; later tasks of that dataflow join it."""
    ex = Execution(dataflow_tag, name)
    with _lock:
        _current[ex.dataflow] = ex
    return ex


def current_execution(dataflow_tag: str) -> Execution:
    """The open execution of the dataflow, opening one when there is none."""
    ex = _current.get(dataflow_tag.lower())
    if ex is None:
        with _lock:
            ex = _current.get(dataflow_tag.lower())
            if ex is None:
                ex = _current[dataflow_tag.lower()] = Execution(dataflow_tag)
    return ex


def execution_info() -> dict[str, Any]:
    global _info
    if _info is None:
        try:
            user = getpass.getuser()
        except Exception:
            user = None
        script = sys.argv[0] if sys.argv and sys.argv[0] else None
        if script and script not in ("-c", "-m") and os.path.exists(script):
            script = os.path.abspath(script)
        _info = {
            "user": user,
            "host": socket.gethostname(),
            "script": script,
            "python": platform.python_version(),
            "hardware": hardware(),
        }
    return dict(_info)


def hardware() -> dict[str, Any]:
    u = os.uname() if hasattr(os, "uname") else None
    gpus = os.environ.get("CUDA_VISIBLE_DEVICES")
    if gpus is None:
        gpus = "nvidia" if shutil.which("nvidia-smi") else "none"
    return {
        "hostname": socket.gethostname(),
        "os": platform.system(),
        "os_version": u.release if u else platform.release(),
        "platform": sys.platform,
        "architecture": platform.machine(),
        "cpus": os.cpu_count(),
        "gpus": gpus,
        "python": platform.python_version(),
        "in_container": os.path.exists("/.dockerenv") or os.path.exists("/run/.containerenv"),
    }
