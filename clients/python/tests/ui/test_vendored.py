"""The web UI's vendored libraries are the files ui/VENDORED.md records (sha256), each with its
licence, and the page loads nothing from elsewhere (no CDN, no external fonts, no inline
scripts: the server's Content-Security-Policy would refuse them). No browser needed."""
import hashlib
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
UI = os.path.abspath(os.path.join(HERE, "..", "..", "..", "..", "ui"))


def recorded():
    """{file: sha256} from VENDORED.md's table."""
    with open(os.path.join(UI, "VENDORED.md"), encoding="utf-8") as f:
        text = f.read()
    rows = re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", text, re.MULTILINE)
    return dict(rows)


def test_every_vendored_file_has_its_recorded_sha256():
    table = recorded()
    assert set(table) == {"uplot.iife.min.js", "uplot.min.css", "chart.min.js", "vis-network.min.js", "vis-network.css"}
    on_disk = {f for f in os.listdir(os.path.join(UI, "vendor")) if os.path.isfile(os.path.join(UI, "vendor", f))}
    assert on_disk == set(table), "a file in ui/vendor is not recorded in ui/VENDORED.md (or the reverse)"
    for name, sha in table.items():
        with open(os.path.join(UI, "vendor", name), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == sha, f"ui/vendor/{name} is not the recorded file"
    # The versions STACK.md names (upstream uPlot 1.6.31, Debian's Chart.js 3.9.1, pyvis's vis-network 9.1.2).
    assert table["uplot.iife.min.js"].startswith("2d27e8ad") and table["chart.min.js"].startswith("fbc45926")
    with open(os.path.join(UI, "vendor", "vis-network.min.js"), encoding="utf-8") as f:
        assert "@version 9.1.2" in f.read(2000)


def test_every_vendored_library_has_its_licence():
    licences = os.listdir(os.path.join(UI, "vendor", "licenses"))
    for needle in ("uPlot", "Chart.js", "vis-network"):
        assert any(n.startswith(needle) for n in licences), f"no licence text for {needle}"
    for n in licences:
        with open(os.path.join(UI, "vendor", "licenses", n), encoding="utf-8") as f:
            text = f.read()
        assert "Permission is hereby granted" in text or "Redistribution and use" in text, n


def test_the_page_loads_only_its_own_files():
    sources = []
    for root, _, files in os.walk(UI):
        if os.sep + "vendor" in root:
            continue
        for f in files:
            if f.endswith((".html", ".js", ".css")):
                with open(os.path.join(root, f), encoding="utf-8") as fh:
                    sources.append((f, fh.read()))
    assert any(f == "index.html" for f, _ in sources)
    for name, text in sources:
        assert not re.search(r"""(src|href)\s*=\s*["']https?://""", text), f"{name} loads from another site"
        assert not re.search(r"@import\s+url\(|fonts\.googleapis|cdn\.", text), f"{name} loads a font or a CDN"
        if name.endswith(".html"):
            assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), f"{name} has an inline script"
            assert not re.search(r"\son[a-z]+\s*=", text), f"{name} has an inline event handler"
