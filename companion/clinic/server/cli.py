"""``companion-server``: run the clinic server and manage staff accounts (for clinic IT).

::

    companion-server serve [--db URL] [--host 127.0.0.1] [--port 8765] [--profile flet.toml]
    companion-server init [--db URL]                       create or upgrade the schema, then exit
    companion-server staff add NAME --role psr|clinician|admin [--password] [--db URL] [--json]
    companion-server staff passwd NAME_OR_ID [--db URL] [--json]
    companion-server staff list [--db URL] [--json]
    companion-server staff revoke STAFF_ID [--db URL] [--json]

``staff add`` prints the token once; only its hash is stored. ``--password`` (and ``staff passwd``)
set the password for signing in to the desk at ``/desk``: asked twice without echo, or taken from
``COMPANION_STAFF_PASSWORD`` for scripts; stored as an argon2id hash. ``serve`` also serves the
desk (the front desk's web console) at ``/desk`` when Flet is installed, in the same process.
``--port 0`` picks a free port; the chosen address is logged as ``listening on http://HOST:PORT``.
``--profile`` (or ``COMPANION_CLINIC_PROFILE``) names the clinic profile: time zone, opening hours,
default place and providers (see :mod:`.settings`). Expected failures print one line on stderr and
exit non-zero.
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

from ...core.errors import CompanionError, ConfigError, exit_status
from ...core.fields import utcnow
from ...core.protocol import MAX_WAIT
from . import gc_policy
from .audit import AuditLog
from .database import Database
from .principals import ROLES, SystemPrincipal
from .settings import Settings, resolve_db_url

log = logging.getLogger("companion.clinic.server")


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
    serve.add_argument("--profile", 
                       help="clinic profile (TOML like flet.toml): time zone, hours, place, providers")
    init = sub.add_parser("init", help="create or upgrade the database schema and exit")
    init.add_argument("--db")
    staff = sub.add_parser("staff", help="staff accounts").add_subparsers(dest="action", required=True,
                                                                           parser_class=_Parser)
    add = staff.add_parser("add", help="create a staff account and print its token (once)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--password", action="store_true", help="also set a desk sign-in password (asked twice)")
    passwd = staff.add_parser("passwd", help="set or change a staff member's desk sign-in password")
    passwd.add_argument("name", help="the staff member's name or id")
    listing = staff.add_parser("list", help="list staff accounts")
    revoke = staff.add_parser("revoke", help="revoke a staff token")
    revoke.add_argument("staff_id")
    for p in (add, passwd, listing, revoke):
        p.add_argument("--db")
        p.add_argument("--json", action="store_true", help="print JSON")
    return parser


def configure_logging(level: str) -> None:
    """The service's log; at ``debug`` too, no library writes headers (cookies, tokens) or frames into it."""
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    for name in ("uvicorn.error", "websockets", "httpx", "httpcore"):  # at DEBUG they log every header
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLogger().level))


def _open(db_url: str | None) -> tuple[Database, AuditLog]:
    db = Database(resolve_db_url(db_url))
    db.init_schema()
    return db, AuditLog(db, utcnow)


def _print(obj: Any, as_json: bool, text: str) -> None:
    print(json.dumps(obj, indent=2) if as_json else text)


def _ask_password(name: str) -> str:
    """``COMPANION_STAFF_PASSWORD``, else asked twice without echo; the rule is checked before use."""
    import getpass
    import os

    from .passwords import check_password_rule

    password = os.environ.get("COMPANION_STAFF_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise ConfigError("no terminal to ask for the password: set COMPANION_STAFF_PASSWORD")
        password = getpass.getpass(f"New desk password for {name}: ")
        if getpass.getpass("Type it again: ") != password:
            raise ConfigError("the two passwords differ; nothing was changed")
    check_password_rule(password, name)
    return password


def _staff(args: argparse.Namespace) -> int:
    from .accounts import create_staff, list_staff, revoke_staff
    from .passwords import find_account, set_password

    password = _ask_password(args.name) if args.action == "passwd" or getattr(args, "password", False) else None
    db, audit_log = _open(args.db)
    try:
        if args.action == "add":
            if password is not None:
                with db.read() as conn:
                    if find_account(conn, args.name) is not None:
                        raise ConfigError(f"an active account called {args.name!r} already signs in with a "
                                          "password: names must be unique for sign-in")
            made = create_staff(db, audit_log, SystemPrincipal(), args.name, args.role)
            if password is not None:
                set_password(db, audit_log, SystemPrincipal(), made["id"], password)
            _print({**made, "password": password is not None}, args.json,
                   f"created {made['role']} {made['id']} ({made['name']})\n"
                   f"token (shown once, keep it safe): {made['token']}"
                   + ("\ndesk sign-in password set" if password is not None else ""))
        elif args.action == "passwd":
            changed = set_password(db, audit_log, SystemPrincipal(), args.name, password or "")
            _print(changed, args.json, f"desk password set for {changed['id']} ({changed['name']})")
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
    from .one_write import OneWriteHTTP

    settings = Settings.from_env(args.db, profile=args.profile)
    configure_logging(settings.log_level)
    app = create_app(settings)  # opens and checks the database first: its errors say more than a port clash
    sock = _bind(args.host, args.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    log.info("listening on http://%s:%d (database %s)", shown, port, app.state.ctx.db.safe_url)
    _mount_desk(app, host, port)
    gc_policy.start()  # full garbage collections on a timer, not every few seconds under 10,000 polls
    # Keep-alive must outlast a long-poll: under load uvicorn's idle timer, armed after one response,
    # was measured closing connections whose next request (a 5 s long-poll) was still waiting.
    # One write per answer (headers with body): see one_write.
    config = uvicorn.Config(app, http=OneWriteHTTP, log_config=None, access_log=False, lifespan="on",
                            proxy_headers=False, server_header=False, timeout_graceful_shutdown=3,
                            timeout_keep_alive=MAX_WAIT + 5,
                            log_level="info" if settings.log_level == "debug" else settings.log_level)
    hub = app.state.ctx.hub

    class _Server(uvicorn.Server):
        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            hub.drain()  # long-polls answer at once, so a restart does not wait for (or cut) them
            await super().shutdown(sockets)

    _Server(config).run(sockets=[sock])
    return 0


def _mount_desk(app: Any, host: str, port: int) -> None:
    """Serve the desk at ``/desk`` when Flet is installed (the server extra alone does not need it)."""
    try:
        from ..desk.web import mount_desk
    except ImportError as exc:
        log.info("desk not served: %s is not installed", exc.name or "flet")
        return
    own = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # the desk calls its own server's API
    mount_desk(app, f"http://[{own}]:{port}" if ":" in own else f"http://{own}:{port}")
    log.info("desk at http://%s:%d/desk", host if ":" not in host else f"[{host}]", port)


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
    except CompanionError as exc:
        print(f"companion-server: error: {exc}", file=sys.stderr)
        return exit_status(exc)
    except sa.exc.SQLAlchemyError as exc:
        print(f"companion-server: error: database failure ({type(exc).__name__})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
