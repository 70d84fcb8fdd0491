"""The clinic sync server (FastAPI over SQLAlchemy Core): ``pip install .[server]``.

Imports only :mod:`companion.models`, :mod:`companion.errors`, :mod:`companion.fields` and
:mod:`companion.sync.protocol` from the rest of the package — never the app.

Public surface: :func:`create_app` and :class:`Settings`; ``companion-server`` is :mod:`.cli`.
"""

from __future__ import annotations

from .app import create_app
from .settings import Settings

__all__ = ["Settings", "create_app"]
