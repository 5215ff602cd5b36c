"""Settings read from the environment (see README.md)."""
from __future__ import annotations

import os
import urllib.parse

DEFAULT_URL = "http://localhost:22000"


def server_url() -> str:
    return server_url_setting()[0]


def server_url_setting() -> tuple[str, str]:
    """The server URL and where it came from (the variable's name, or "the default")."""
    # DFA_URL is what DfAnalyzer scripts set; DNNPROV_URL wins when both are set.
    for name in ("DNNPROV_URL", "DFA_URL"):
        url = os.environ.get(name)
        if url:
            return url.rstrip("/"), name
    return DEFAULT_URL, "the default"


def url_problem(url: str) -> str | None:
    """None for a usable server URL, else what is wrong with it and what it should look like."""
    if "://" not in url:
        return (f"it has no scheme; write it as http://{url or 'localhost:22000'} "
                f"(or https://{url or 'localhost:22000'} for a TLS server)")
    parts = urllib.parse.urlsplit(url)
    example = "http://localhost:22000"
    if parts.scheme not in ("http", "https"):
        return f"its scheme {parts.scheme!r} is not http or https; it should look like {example}"
    try:
        port = parts.port
    except ValueError:
        return f"its port is not a number from 1 to 65535; it should look like {example}"
    if port == 0:
        return f"its port is not a number from 1 to 65535; it should look like {example}"
    return None


def token() -> str | None:
    return os.environ.get("DNNPROV_TOKEN") or None


def ca_file() -> str | None:
    """A PEM file of the CA(s) to trust for an https:// server (a private CA or a self-signed
    certificate); None: the system's trust store."""
    return os.environ.get("DNNPROV_CA_FILE") or None


def spool_dir() -> str:
    return os.environ.get("DNNPROV_SPOOL_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "dnnprov", "spool")


def _float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def exit_timeout() -> float:
    return _float("DNNPROV_EXIT_TIMEOUT", 10.0)


def batch_size() -> int:
    return int(_float("DNNPROV_BATCH_SIZE", 500))


def batch_interval() -> float:
    return _float("DNNPROV_BATCH_INTERVAL", 0.2)


def max_queue() -> int:
    return int(_float("DNNPROV_MAX_QUEUE", 50000))
