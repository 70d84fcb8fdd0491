"""What every patient CLI command shares: the vault folder, the passcode, JSON output.

The passcode comes from env ``COMPANION_PASSCODE`` when set (scripts, tests),
else from a no-echo prompt. The vault folder comes from ``--vault``, env
``COMPANION_VAULT``, else the platform's app data folder.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..core.errors import CompanionError, VaultNotFound
from ..vault import Vault

EXIT_OK = 0
EXIT_FAILURE = 1


def add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--vault",
        metavar="DIR",
        type=Path,
        default=None,
        help="vault folder (default: $COMPANION_VAULT, else the app data folder)",
    )


def _android_no_backup_dir(app_data: Path) -> Path:
    """The app's ``no_backup`` folder beside ``files/`` (Android leaves it out of every backup)."""
    for folder in (app_data, *app_data.parents):
        if folder.name == "files":
            return folder.parent / "no_backup"
    return app_data


def default_vault_dir() -> Path:
    """``$COMPANION_VAULT``, else the app's private data folder for this platform.

    In a packaged phone app Flet sets ``FLET_APP_STORAGE_DATA``; on Android the
    vault goes to the app's ``no_backup`` folder so it never leaves the phone
    through cloud backup or device transfer (it is encrypted either way).
    """
    env = os.environ.get("COMPANION_VAULT")
    if env:
        return Path(env)
    app_data = os.environ.get("FLET_APP_STORAGE_DATA")
    if app_data:
        base_dir = Path(app_data)
        if hasattr(sys, "getandroidapilevel"):
            base_dir = _android_no_backup_dir(base_dir)
        return base_dir / "vault"
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "patient-companion" / "vault"


def vault_dir(args: argparse.Namespace) -> Path:
    folder: Path = args.vault if args.vault is not None else default_vault_dir()
    return folder


def read_passcode(prompt: str = "Passcode: ", *, env: str = "COMPANION_PASSCODE") -> str:
    value = os.environ.get(env)
    if value is not None:
        return value
    if not sys.stdin.isatty():
        raise CompanionError(f"no passcode: set {env} or run in a terminal to be asked")
    try:
        return getpass.getpass(prompt)
    except EOFError:
        raise CompanionError("no passcode given") from None


@contextmanager
def open_vault(args: argparse.Namespace) -> Iterator[Vault]:
    """Unlock the vault of ``args``; says so on stderr when it was restored from its previous copy."""
    folder = vault_dir(args)
    if not Vault.exists(folder):
        raise VaultNotFound(f"no vault in {folder}: run `companion init` first")
    vault = Vault.open(folder, read_passcode())
    try:
        if vault.recovered:
            print(
                "companion: the vault file was damaged; restored from its previous copy (the last change may be lost)",
                file=sys.stderr,
            )
        yield vault
    finally:
        vault.close()


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2, sort_keys=True)
    sys.stdout.write("\n")
