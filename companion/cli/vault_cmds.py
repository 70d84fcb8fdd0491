"""Vault commands: ``init``, ``passcode change``, ``wipe`` and ``show``.

``show`` prints what the app would show, from the vault only (offline): a
readable listing, or with ``--json`` one JSON document (a list of objects with
``id``, or for ``status`` one object with ``last_sync``, ``pending`` and
``device_id``).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timedelta
from typing import Any

from ..core.errors import CompanionError, VaultNotFound
from ..core.fields import iso
from ..core.models import Appointment, Bill, Message, OutboxEntry, PrepStep, Result
from ..core.units import format_cents
from ..vault import Vault
from .common import EXIT_OK, open_vault, print_json, read_passcode, vault_dir

SHOW_KINDS = ("appointments", "prep", "bills", "results", "messages", "articles", "outbox", "status")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("init", help="create an empty encrypted vault")
    p.set_defaults(handler=cmd_init)

    p = sub.add_parser("passcode", help="passcode commands")
    psub = p.add_subparsers(dest="passcode_command", metavar="ACTION", required=True)
    c = psub.add_parser("change", help="change the vault passcode (old from $COMPANION_PASSCODE or asked)")
    c.set_defaults(handler=cmd_passcode_change)

    p = sub.add_parser("wipe", help="delete the vault and everything in it from this device")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(handler=cmd_wipe)

    p = sub.add_parser("show", help="show what is in the vault (works offline)")
    p.add_argument("what", choices=SHOW_KINDS)
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.set_defaults(handler=cmd_show)


def _new_passcode(env: str) -> str:
    """A new passcode from ``env`` or asked twice without echo."""
    if os.environ.get(env) is not None:
        return os.environ[env]
    first = read_passcode("New passcode (8+ characters): ", env=env)
    if read_passcode("Repeat new passcode: ", env=env) != first:
        raise CompanionError("the two passcodes differ; nothing was changed")
    return first


def cmd_init(args: argparse.Namespace) -> int:
    folder = vault_dir(args)
    vault = Vault.create(folder, _new_passcode("COMPANION_PASSCODE"))
    vault.close()
    print(f"Created an encrypted vault in {folder}")
    return EXIT_OK


def cmd_passcode_change(args: argparse.Namespace) -> int:
    folder = vault_dir(args)
    if not Vault.exists(folder):
        raise VaultNotFound(f"no vault in {folder}: run `companion init` first")
    old = read_passcode("Current passcode: ")
    vault = Vault.open(folder, old)
    try:
        vault.change_passcode(old, _new_passcode("COMPANION_NEW_PASSCODE"))
    finally:
        vault.close()
    print("Passcode changed.")
    return EXIT_OK


def cmd_wipe(args: argparse.Namespace) -> int:
    folder = vault_dir(args)
    if not Vault.exists(folder):
        raise VaultNotFound(f"no vault in {folder}: nothing to wipe")
    if not args.yes:
        if not sys.stdin.isatty():
            raise CompanionError("wipe deletes everything on this device: add --yes to confirm")
        answer = input(f"Delete the vault in {folder} and everything in it? Type 'wipe' to confirm: ")
        if answer.strip().lower() != "wipe":
            print("Nothing was deleted.")
            return EXIT_OK
    Vault.wipe(folder)
    print("The vault was deleted from this device. Pair again to get your records back from the clinic.")
    return EXIT_OK


def _local(value: datetime | None) -> str | None:
    return value.astimezone().strftime("%a %d %b %Y %H:%M") if value else None


def _appointments(vault: Vault) -> list[dict[str, Any]]:
    items: list[Appointment] = sorted(vault.appointments.all(), key=lambda a: a.start)
    return [{**a.to_dict(), "start_local": _local(a.start)} for a in items]


def _prep(vault: Vault) -> list[dict[str, Any]]:
    out = []
    steps: list[PrepStep] = vault.prep.all()
    for step in steps:
        appt = vault.appointments.get(step.appointment_id)
        starts_at = None if appt is None else appt.start - timedelta(minutes=step.before_minutes)
        out.append({**step.to_dict(), "done": step.done_at is not None, "starts_at": iso(starts_at)})
    return sorted(out, key=lambda s: (s["starts_at"] or "", s["title"]))


def _bills(vault: Vault) -> list[dict[str, Any]]:
    bills: list[Bill] = sorted(vault.bills.all(), key=lambda b: b.due)
    return [b.to_dict() for b in bills]


def _results(vault: Vault) -> list[dict[str, Any]]:
    results: list[Result] = sorted(vault.results.all(), key=lambda r: r.released_at, reverse=True)
    return [r.to_dict() for r in results]


def _messages(vault: Vault) -> list[dict[str, Any]]:
    messages: list[Message] = sorted(vault.messages.all(), key=lambda m: m.sent_at)
    return [{**m.to_dict(), "queued": m.id.startswith("local-")} for m in messages]


def _outbox(vault: Vault) -> list[dict[str, Any]]:
    entries: list[OutboxEntry] = vault.outbox.all()
    return [e.to_dict() for e in entries]


def _status(vault: Vault) -> dict[str, Any]:
    entries: list[OutboxEntry] = vault.outbox.all()
    meta = vault.meta
    return {
        "paired": meta.get("sync.token") is not None,
        "server_url": meta.get("sync.server_url"),
        "device_id": meta.get("sync.device_id"),
        "clinic": meta.get("sync.clinic_name"),
        "last_sync": meta.get("status.last_sync"),
        "state": meta.get("status.state", "never synced"),
        "last_error": meta.get("status.last_error"),
        "pending": sum(1 for e in entries if e.state == "pending"),
        "rejected": sum(1 for e in entries if e.state == "rejected"),
    }


def _listing(what: str, vault: Vault) -> Any:
    readers = {
        "appointments": _appointments,
        "prep": _prep,
        "bills": _bills,
        "results": _results,
        "messages": _messages,
        "articles": lambda v: [a.to_dict() for a in sorted(v.articles.all(), key=lambda a: a.title)],
        "outbox": _outbox,
        "status": _status,
    }
    return readers[what](vault)


def _line(what: str, item: dict[str, Any]) -> str:
    if what == "appointments":
        return f"{item['start_local']}  {item['kind']}  [{item['status']}]  {item['location'] or ''}  ({item['id']})"
    if what == "prep":
        tick = "x" if item["done"] else " "
        return f"[{tick}] {item['title']}: {item['body']}  ({item['id']})"
    if what == "bills":
        owed = format_cents(item["patient_cents"])
        return f"{item['due']}  {item['description']}  you owe {owed}  [{item['status']}]"
    if what == "results":
        value = f" {item['value']}" if item["value"] else ""
        return f"{item['released_at'][:10]}  {item['test']}: {item['interpretation']}{value}  ({item['id']})"
    if what == "messages":
        who = "You" if item["author"] == "patient" else (item["author_name"] or "Clinic")
        state = "  (queued)" if item["queued"] else ""
        return f"{item['sent_at'][:16]}  {who}: {item['body']}{state}"
    if what == "articles":
        return f"{item['title']}  ({item['id']})"
    if what == "outbox":
        why = f": {item['last_error']}" if item["last_error"] else ""
        return f"{item['created_at'][:16]}  {item['type']}  [{item['state']}]{why}"
    return str(item)


def cmd_show(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        data = _listing(args.what, vault)
    if args.json:
        print_json(data)
    elif args.what == "status":
        for key, value in data.items():
            print(f"{key:>11}: {'-' if value is None else value}")
    elif not data:
        print(f"No {args.what} yet.")
    else:
        for item in data:
            print(_line(args.what, item))
    return EXIT_OK
