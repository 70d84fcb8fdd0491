"""``companion app [--web] [--port N]`` and ``companion demo [--web] [--port N]``."""

from __future__ import annotations

import argparse

from ..config import load_profile
from .common import EXIT_OK, vault_dir


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    app = sub.add_parser("app", help="open the app")
    demo = sub.add_parser("demo", help="run the demo: a local clinic server with demo data and the app")
    for p in (app, demo):
        p.add_argument("--web", action="store_true", help="serve the web app instead of a desktop window")
        p.add_argument("--port", type=int, default=8550, help="web port (default 8550)")
    app.set_defaults(handler=_app)
    demo.add_argument("--data", default=None, help="folder for the demo server and vault (default: a temp folder)")
    demo.set_defaults(handler=_demo)


def _app(args: argparse.Namespace) -> int:
    from ..app import run_app  # Flet is imported only by the commands that need it

    run_app(vault_dir(args), load_profile(), web=args.web, port=args.port)
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from ..demo import run_demo

    return run_demo(web=args.web, port=args.port, data=args.data)
