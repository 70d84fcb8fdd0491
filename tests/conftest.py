"""Loads every fixture module of ``tests/fixtures`` as a plugin (one owner per module)."""

from __future__ import annotations

import os
import pkgutil
from pathlib import Path

# Servers started by tests must never try to open a browser window.
os.environ.pop("DISPLAY", None)
os.environ.setdefault("BROWSER", "true")
# The tests read the app's English (its default); a test of another language sets it itself
# (tests/fixtures/language.py), whatever the machine's locale is.
os.environ["LANGUAGE"] = "en"

pytest_plugins = [
    f"tests.fixtures.{m.name}" for m in pkgutil.iter_modules([str(Path(__file__).parent / "fixtures")])
]
