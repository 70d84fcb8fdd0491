"""The patient CLI ``companion`` (composition root: nothing imports it).

Each command group lives in its own module with a ``register(subparsers)``
function that adds its sub-commands and sets ``handler`` (a function taking
the parsed args and returning an exit code). :func:`main` turns every
:class:`~companion.core.errors.CompanionError` into one line on stderr and exit 1,
bad arguments into argparse's usage line and exit 2; never a traceback for
expected failures.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..core.errors import CompanionError
from . import app_cmds, reminder_cmds, sync_cmds, vault_cmds
from .common import EXIT_FAILURE, add_common_options

GROUPS = (vault_cmds, sync_cmds, reminder_cmds, app_cmds)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="companion",
        description="Patient Companion: your clinic records, encrypted on this device.",
    )
    add_common_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except CompanionError as exc:
        print(f"companion: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("companion: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
