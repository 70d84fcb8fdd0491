"""``companion-server``: run the clinic server and manage staff accounts (for clinic IT).

::

    companion-server serve [--db URL] [--host 127.0.0.1] [--port 8765]
    companion-server init [--db URL]                       create or upgrade the schema, then exit
    companion-server staff add NAME --role psr|clinician|admin [--db URL] [--json]
    companion-server staff list [--db URL] [--json]
    companion-server staff revoke STAFF_ID [--db URL] [--json]

``staff add`` prints the token once; only its hash is stored. ``--port 0`` picks a free port;
the chosen address is logged as ``listening on http://HOST:PORT``. Expected failures print one
line on stderr and exit non-zero.
"""

from __future__ import annotations

import argparse
import json
import logging
import socket
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import sqlalchemy as sa

from ..errors import CompanionError, ConfigError, RecordError
from ..fields import utcnow
from ..sync.protocol import MAX_WAIT
from .audit import AuditLog
from .database import Database
from .principals import ROLES, SystemPrincipal
from .settings import Settings, resolve_db_url

log = logging.getLogger("companion.server")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="companion-server", description="Patient Companion clinic sync server")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    serve = sub.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--db", help="database URL (sqlite:///file.db or postgresql://…)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    init = sub.add_parser("init", help="create or upgrade the database schema and exit")
    init.add_argument("--db")
    staff = sub.add_parser("staff", help="staff accounts").add_subparsers(dest="action", required=True,
                                                                           parser_class=_Parser)
    add = staff.add_parser("add", help="create a staff account and print its token (once)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    listing = staff.add_parser("list", help="list staff accounts")
    revoke = staff.add_parser("revoke", help="revoke a staff token")
    revoke.add_argument("staff_id")
    for p in (add, listing, revoke):
        p.add_argument("--db")
        p.add_argument("--json", action="store_true", help="print JSON")
    return parser


def configure_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)


def _open(db_url: str | None) -> tuple[Database, AuditLog]:
    db = Database(resolve_db_url(db_url))
    db.init_schema()
    return db, AuditLog(db, utcnow)


def _print(obj: Any, as_json: bool, text: str) -> None:
    print(json.dumps(obj, indent=2) if as_json else text)


def _staff(args: argparse.Namespace) -> int:
    from .accounts import create_staff, list_staff, revoke_staff

    db, audit_log = _open(args.db)
    try:
        if args.action == "add":
            made = create_staff(db, audit_log, SystemPrincipal(), args.name, args.role)
            _print(made, args.json, f"created {made['role']} {made['id']} ({made['name']})\n"
                   f"token (shown once, keep it safe): {made['token']}")
        elif args.action == "list":
            people = list_staff(db)
            _print(people, args.json, "\n".join(
                f"{p['id']}  {p['role']:<9}  {'revoked' if p['revoked'] else 'active ':<7}  {p['name']}"
                for p in people) or "no staff accounts")
        else:
            revoked = revoke_staff(db, audit_log, SystemPrincipal(), args.staff_id)
            if revoked is None:
                raise ConfigError(f"no staff member {args.staff_id}")
            _print(revoked, args.json, f"revoked {revoked['id']}")
    finally:
        db.dispose()
    return 0


def _bind(host: str, port: int) -> socket.socket:
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app

    settings = Settings.from_env(args.db)
    configure_logging(settings.log_level)
    app = create_app(settings)  # opens and checks the database first: its errors say more than a port clash
    sock = _bind(args.host, args.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    log.info("listening on http://%s:%d (database %s)", shown, port, app.state.ctx.db.safe_url)
    # Keep-alive must outlast a long-poll: under load uvicorn's idle timer, armed after one response,
    # was measured closing connections whose next request (a 5 s long-poll) was still waiting.
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", proxy_headers=False,
                            server_header=False, timeout_graceful_shutdown=3, timeout_keep_alive=MAX_WAIT + 5,
                            log_level=settings.log_level)
    hub = app.state.ctx.hub

    class _Server(uvicorn.Server):
        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            hub.drain()  # long-polls answer at once, so a restart does not wait for (or cut) them
            await super().shutdown(sockets)

    _Server(config).run(sockets=[sock])
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "init":
            db, _ = _open(args.db)
            print(f"database ready: {db.safe_url}")
            db.dispose()
            return 0
        return _staff(args)
    except RecordError as exc:
        print(f"companion-server: error: {exc}", file=sys.stderr)
        return 2
    except CompanionError as exc:
        print(f"companion-server: error: {exc}", file=sys.stderr)
        return 1
    except sa.exc.SQLAlchemyError as exc:
        print(f"companion-server: error: database failure ({type(exc).__name__})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
