"""What the clinic runs: the sync server, its web desk, the staff API client and the staff CLI.

Never shipped to a patient's phone (``[tool.flet.app] exclude`` in pyproject.toml) and never
imports the patient app (an import-linter contract in ``make lint``); it speaks to it only through
the wire protocol of :mod:`companion.core.protocol`.
"""
