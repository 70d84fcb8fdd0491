"""Entry point of a ``flet build`` package (pyproject ``[tool.flet.app] module = "main"``).

Developers and scripts use ``companion app`` instead; this file only exists
because Flet's build runs a top-level module of the app folder.
"""

from companion.app import run_app
from companion.cli.common import default_vault_dir
from companion.config import load_profile

run_app(default_vault_dir(), load_profile(), web=False, port=0, packaged=True)
