"""Settings read from the environment (see README.md)."""
import os

DEFAULT_URL = "http://localhost:22000"


def server_url():
    # DFA_URL is what DfAnalyzer scripts set; DNNPROV_URL wins when both are there.
    url = os.environ.get("DNNPROV_URL") or os.environ.get("DFA_URL") or DEFAULT_URL
    return url.rstrip("/")


def token():
    return os.environ.get("DNNPROV_TOKEN") or None


def ca_file():
    """A PEM file of the CA(s) to trust for an https:// server (a private CA or a self-signed
    certificate); None: the system's trust store."""
    return os.environ.get("DNNPROV_CA_FILE") or None


def spool_dir():
    return os.environ.get("DNNPROV_SPOOL_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "dnnprov", "spool")


def _float(name, default):
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def exit_timeout():
    return _float("DNNPROV_EXIT_TIMEOUT", 10.0)


def batch_size():
    return int(_float("DNNPROV_BATCH_SIZE", 500))


def batch_interval():
    return _float("DNNPROV_BATCH_INTERVAL", 0.2)


def max_queue():
    return int(_float("DNNPROV_MAX_QUEUE", 50000))
