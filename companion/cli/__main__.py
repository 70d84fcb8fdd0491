"""``python -m companion.cli …`` — the same as the ``companion`` command (tests start the app this way)."""

from __future__ import annotations

import sys

from . import main

sys.exit(main())
