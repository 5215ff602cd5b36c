"""The web UI's browser tests (a package, so that its conftest does not shadow ../conftest.py for
the tests that import helpers from it)."""
