"""Browser helpers for the web UI's tests: a headless Chromium driven by selenium, a folder for
the screenshots, and a feeder that trains fake networks through the real Python client (the
predefined DL dataflow: hyperparameters, layers, epochs with validation metrics, adaptations),
with a thread that keeps sending epochs while a test runs.

The server fixtures (`Server`, `make_server`, free ports) are those of ../conftest.py."""
from __future__ import annotations

import math
import os
import secrets
import threading
import time

import pytest

from dnnprov import Attribute, AttributeType, Dataflow, DataSet, Element, Execution, Task
from dnnprov.predefined import TRAINING_OUTPUT, dl_transformations

CHROMIUM = os.environ.get("DNNPROV_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("DNNPROV_CHROMEDRIVER", "/usr/bin/chromedriver")
N = AttributeType.NUMERIC
T = AttributeType.TEXT


def _browser_missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install 'clients/python[test]')"
    for path, what in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromedriver")):
        if not os.access(path, os.X_OK):
            return f"no {what} at {path} (apt-get install chromium chromium-driver)"
    return None


def require_browser():
    missing = _browser_missing()
    if missing:
        if os.environ.get("DNNPROV_REQUIRE_BROWSER") == "1":
            pytest.fail(f"DNNPROV_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)


# -- screenshots ---------------------------------------------------------------------------

_shots: dict[str, str] = {}


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory):
    d = os.environ.get("DNNPROV_UI_SCREENSHOTS") or str(tmp_path_factory.mktemp("ui-screenshots"))
    os.makedirs(d, exist_ok=True)
    _shots["dir"] = d
    return d


def pytest_terminal_summary(terminalreporter):
    if "dir" in _shots:
        terminalreporter.write_line(f"web UI screenshots: {_shots['dir']}")


# -- the browser ---------------------------------------------------------------------------

class Browser:
    """A selenium Chrome driver with the few waits the tests need."""

    def __init__(self, driver, base_url: str, shots: str):
        self.driver = driver
        self.base = base_url
        self.shots = shots

    def open(self, route: str):
        """Loads the app at `route` (a hash route such as `#/d/mnist`)."""
        self.driver.get(self.base + "/" + route)
        self.wait_ready()

    def go(self, route: str):
        """Changes the hash route without a page load."""
        self.driver.execute_script("location.hash = arguments[0]", route)
        self.wait_ready()

    def wait_ready(self, timeout=10):
        """Until the current view has rendered (the app sets data-ready on <main>)."""
        self.wait(lambda d: d.execute_script(
            "const m = document.querySelector('main'); return m && m.dataset.ready === location.hash"),
            timeout, "the view did not finish rendering")

    def wait(self, cond, timeout=10, message=""):
        """WebDriverWait(...).until; on a timeout, a screenshot of the page is saved and named."""
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(cond, message)
        except TimeoutException as e:
            shot = self.screenshot(f"failure-{time.strftime('%H%M%S')}-{secrets.token_hex(2)}")
            logs = "; ".join(x["message"][:200] for x in self.console_errors())
            raise TimeoutException(f"{message} (screenshot: {shot}; console: {logs or 'nothing'})") from e

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def css(self, selector):
        from selenium.webdriver.common.by import By
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def one(self, selector, timeout=10):
        from selenium.webdriver.common.by import By
        return self.wait(lambda d: (d.find_elements(By.CSS_SELECTOR, selector) or [None])[0], timeout,
                         f"no element {selector}")

    def text(self, selector) -> str:
        return self.one(selector).text

    def screenshot(self, name: str) -> str:
        path = os.path.join(self.shots, name + ".png")
        self.driver.save_screenshot(path)
        return path

    def console_errors(self):
        return [e for e in self.driver.get_log("browser") if e.get("level") == "SEVERE"]


@pytest.fixture(scope="module")
def chrome():
    """One Chromium per test module (the driver start costs about a second)."""
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1366,900"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_script_timeout(20)
    yield driver
    driver.quit()


@pytest.fixture
def browser(chrome, screenshot_dir):
    def at(url: str) -> Browser:
        return Browser(chrome, url.rstrip("/"), screenshot_dir)
    return at


# -- feeding a server through the real Python client --------------------------------------

HYPER = [("OPTIMIZER_NAME", T), ("LEARNING_RATE", N), ("NUM_EPOCHS", N), ("BATCH_SIZE", N)]
OUTPUT = TRAINING_OUTPUT + [("VAL_LOSS", N), ("VAL_ACCURACY", N)]
LAYERS = [["conv2d_1", "Conv2D", "relu", None, 32, "3x3", "1x1", "same", None, 320],
          ["max_pooling2d_1", "MaxPooling2D", None, None, None, "2x2", "2x2", "valid", None, 0],
          ["dropout_1", "Dropout", None, None, None, None, None, None, 0.4, 0],
          ["dense_1", "Dense", "softmax", 10, None, None, None, None, None, 1290]]


def curve(run: int, epoch: int):
    """Deterministic metrics of run `run` (0-based) at `epoch` (1-based)."""
    loss = round(2.0 / (epoch + run * 0.5 + 1) + 0.01 * run, 6)
    acc = round(1 - loss / 2.5, 6)
    return loss, acc, round(loss * 1.1 + 0.02, 6), round(acc * 0.97, 6), round(0.5 + 0.1 * run + 0.01 * epoch, 4)


class Run:
    """One training run of the predefined dataflow, sent through the DNNProv API."""

    def __init__(self, tag: str, name: str, index: int, optimizer: str, lr: float, epochs: int):
        self.tag, self.name, self.index = tag, name, index
        self.optimizer, self.lr, self.epochs_planned = optimizer, lr, epochs
        self.execution = Execution(tag, name)
        self.epochs = 0
        self.train = Task(1, tag, "TrainingModel", execution=self.execution)
        self.train.add_dataset(DataSet("iTrainingModel", [Element([optimizer, lr, epochs, 32])]))
        self.train.add_dataset(DataSet("iLayers", [Element(r) for r in LAYERS]))
        self.train.begin()
        self.adapt = None

    def epoch(self):
        self.epochs += 1
        e = self.epochs
        loss, acc, vloss, vacc, elapsed = curve(self.index, e)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        self.train.add_dataset(DataSet("oTrainingModel", [Element([stamp, elapsed, loss, acc, e, vloss, vacc])]))
        self.train.save()
        if e % 3 == 0:  # a learning-rate drop every third epoch
            if self.adapt is None:
                self.adapt = Task(2, self.tag, "Adaptation", dependency=self.train, execution=self.execution)
                self.adapt.add_dataset(DataSet("iAdaptation", [Element([3, 0.5, self.lr])]))
            new_lr = self.lr * 0.5 ** (e // 3)
            self.adapt.add_dataset(DataSet("oAdaptation", [Element([new_lr, stamp, e, e // 3])]))
            self.adapt.begin()
            self.adapt.end()

    def finish(self, failed=False):
        if failed:
            self.train.fail("RuntimeError: out of memory")
        else:
            self.train.end()


def register(tag: str):
    """The predefined dataflow with validation metrics."""
    df = Dataflow(tag)
    for t in dl_transformations(hyperparameters=HYPER, training_output=OUTPUT):
        df.add_transformation(t)
    df.save()
    return df


def attrs(pairs):
    return [Attribute(n, k) for n, k in pairs]


class Feeder:
    """Runs on one server: `start(runs)`, `epochs(n)` for every run, a live thread."""

    def __init__(self, client, tag: str):
        self.client, self.tag = client, tag
        self.runs: list[Run] = []
        self._stop = threading.Event()
        self._thread = None
        self.live_run: Run | None = None
        self.lock = threading.Lock()
        self.prefix = secrets.token_hex(2)
        register(tag)

    def add_runs(self, specs):
        """specs: [(optimizer, learning rate, epochs to send now, final status or None)]."""
        for optimizer, lr, epochs, status in specs:
            name = f"{self.tag}-{optimizer}-{self.prefix}-{len(self.runs) + 1}"
            r = Run(self.tag, name, len(self.runs), optimizer, lr, max(epochs, 10))
            self.runs.append(r)
            for _ in range(epochs):
                r.epoch()
            if status == "FINISHED":
                r.finish()
            elif status == "FAILED":
                r.finish(failed=True)
        assert self.client.flush(30)
        return self

    def live(self, run: Run, every=0.2):
        """A thread sending one more epoch of `run` every `every` seconds until stopped."""
        self.live_run = run

        def loop():
            while not self._stop.wait(every):
                with self.lock:
                    run.epoch()

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(5)
        self.client.flush(30)


@pytest.fixture
def feed(use_client):
    made = []

    def start(server, tag: str) -> Feeder:
        client = use_client(server.url, interval=0.02)
        f = Feeder(client, tag)
        made.append(f)
        return f
    yield start
    for f in made:
        f.stop()


def finite(x):
    return isinstance(x, (int, float)) and math.isfinite(x)
