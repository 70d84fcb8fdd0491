"""Sync commands: ``pair``, ``sync [--watch]``, and the patient's actions, queued offline.

    companion pair https://clinic.example K7Q-4MZ-9TD [--device-name NAME] [--ca-file PEM]
    companion sync [--watch]
    companion send TEXT [--thread general|billing|appointments|results|counselling]
    companion appointment request --kind K [--when ISO]… [--note TEXT] [--reason TEXT]
    companion appointment confirm ID | appointment cancel ID [--reason TEXT]
    companion checkin APPOINTMENT_ID [--phone P] [--email E] [--payer P] [--member-id M] [--group G]
    companion result ack ID | prep done ID [--undo] | bill plan BILL_ID --installments N [--note TEXT]
    companion message read ID | outbox discard ID

Every action is queued in the vault (works offline), shown at once, and goes out
at the next ``companion sync``; what a visit's state or a bill's plan does not allow
(:mod:`companion.core.care_rules`) is refused at once, in the app's words, and not
queued. Each prints one line saying what was queued, or with ``--json`` the outbox
entry. Failures are one line on stderr (``main`` prints every CompanionError);
message bodies and tokens are never printed except a body in the patient's own
``--json`` output.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeAlias

from ..core.errors import RecordError, SyncError, SyncInProgress, VaultBusy
from ..core.fields import iso, parse_datetime
from ..core.models import OutboxEntry
from ..core.protocol import THREADS
from ..sync.client import (
    LiveHooks,
    LiveSync,
    SyncReport,
    check_server_url,
    client_for_vault,
    discard_rejected,
    pair,
    queue_mutation,
    synchronize,
)
from ..vault import Vault
from .common import EXIT_OK, open_vault, print_json

if TYPE_CHECKING:
    Actions: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]  # generic in the stubs only


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("pair", help="pair this device with the clinic using a one-time code")
    p.add_argument("server_url", metavar="SERVER_URL")
    p.add_argument("code", metavar="CODE")
    p.add_argument("--device-name", metavar="NAME", default=None)
    p.add_argument("--ca-file", metavar="PEM", default=None, help="trust only this CA for the clinic's server")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_pair)

    p = sub.add_parser("sync", help="send what is queued and fetch what the clinic sent")
    p.add_argument("--watch", action="store_true", help="keep syncing as changes happen (Ctrl-C stops)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_sync)

    p = sub.add_parser("send", help="queue a message to the clinic")
    p.add_argument("text", metavar="TEXT")
    p.add_argument("--thread", choices=THREADS, default="general")
    _json(p, cmd_send)

    asub = _actions(sub, "appointment", "request, confirm or cancel an appointment")
    p = asub.add_parser("request", help="ask the clinic for an appointment")
    p.add_argument("--kind", required=True, help="what the visit is for")
    p.add_argument("--when", action="append", default=[], metavar="ISO", help="a preferred time (up to 5)")
    p.add_argument("--note", default=None)
    p.add_argument("--reason", default=None)
    _json(p, cmd_appointment_request)
    _on_id(asub, "confirm", "confirm a scheduled appointment", cmd_appointment_confirm)
    _on_id(asub, "cancel", "cancel an appointment", cmd_appointment_cancel).add_argument("--reason", default=None)

    p = sub.add_parser("checkin", help="check in for an appointment (optionally update contact/insurance)")
    p.add_argument("appointment_id", metavar="APPOINTMENT_ID")
    for flag in ("--phone", "--email", "--payer", "--member-id", "--group"):
        p.add_argument(flag, default=None)
    _json(p, cmd_checkin)

    _on_id(_actions(sub, "result", "results"), "ack", "acknowledge that you have read a result", cmd_result_ack)
    p = _on_id(_actions(sub, "prep", "preparation steps"), "done", "mark a preparation step done", cmd_prep_done)
    p.add_argument("--undo", action="store_true", help="mark it not done")
    p = _on_id(_actions(sub, "bill", "bills"), "plan", "ask for a payment plan", cmd_bill_plan, metavar="BILL_ID")
    p.add_argument("--installments", type=int, required=True, metavar="N")
    p.add_argument("--note", default=None)
    _on_id(_actions(sub, "message", "messages"), "read", "mark a clinic message read", cmd_message_read)
    _on_id(_actions(sub, "outbox", "queued actions"), "discard", "dismiss an action the clinic refused",
           cmd_outbox_discard, json=False)


def _actions(sub: Actions, name: str, help: str) -> Actions:
    """``companion NAME ACTION …``: the group's parser of actions."""
    actions: Actions = sub.add_parser(name, help=help).add_subparsers(dest=f"{name}_command", metavar="ACTION",
                                                                      required=True)
    return actions


def _on_id(actions: Actions, name: str, help: str, handler: Any, *, metavar: str = "ID",
           json: bool = True) -> argparse.ArgumentParser:
    """An action on one record named by its id (``BILL_ID`` reads as ``args.bill_id``)."""
    p: argparse.ArgumentParser = actions.add_parser(name, help=help)
    p.add_argument("id" if metavar == "ID" else metavar.lower(), metavar=metavar)
    if json:
        _json(p, handler)
    else:
        p.set_defaults(handler=handler)
    return p


def _json(p: argparse.ArgumentParser, handler: Any) -> None:
    p.add_argument("--json", action="store_true", help="print the queued outbox entry as JSON")
    p.set_defaults(handler=handler)


@contextmanager
def _vault_for_sync(args: argparse.Namespace) -> Iterator[Vault]:
    """The vault, with "busy" said the way a sync user understands it."""
    try:
        with open_vault(args) as vault:
            yield vault
    except VaultBusy:
        raise SyncInProgress(
            "another sync or the app is using this vault; try again when it has finished"
        ) from None


# -- pairing and syncing ----------------------------------------------------------------------


def cmd_pair(args: argparse.Namespace) -> int:
    check_server_url(args.server_url)  # refuse http:// to a remote host before asking for the passcode
    with _vault_for_sync(args) as vault:
        pairing = pair(vault, args.server_url, args.code, device_name=args.device_name, ca_file=args.ca_file)
    if args.json:
        print_json({"device_id": pairing.device_id, "patient_id": pairing.patient_id, "clinic": pairing.clinic_name})
    else:
        print(f"Paired with {pairing.clinic_name or args.server_url} as device {pairing.device_id}. "
              "Run `companion sync` to fetch your records.")
    return EXIT_OK


def _report_json(report: SyncReport) -> dict[str, Any]:
    return {"sent": report.push.applied + report.push.duplicate, "refused": report.push.rejected,
            "received": report.pull.changes, "requests": report.requests, "resynced": report.pull.resynced,
            "last_sync": iso(report.finished_at)}


def cmd_sync(args: argparse.Namespace) -> int:
    with _vault_for_sync(args) as vault, client_for_vault(vault) as client:
        if args.watch:
            return _watch(vault, client, as_json=args.json)
        report = synchronize(vault, client)
    if args.json:
        print_json(_report_json(report))
    else:
        print(report.summary())
    return EXIT_OK


class _PrintingHooks(LiveHooks):
    """One line per event on stdout; never a body, never a token."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def state_changed(self, state: str, error: str | None) -> None:
        if state in ("offline", "error") and error:
            print(f"companion: {state}: {error} (retrying quietly)", file=sys.stderr, flush=True)
        elif state == "idle":
            print("companion: online", file=sys.stderr, flush=True)

    def synced(self, report: SyncReport) -> None:
        if not report.changed:
            return
        if self.as_json:
            print(json.dumps(_report_json(report)), flush=True)
        else:
            print(report.summary(), flush=True)


def _watch(vault: Vault, client: Any, *, as_json: bool) -> int:
    live = LiveSync(vault, client, hooks=_PrintingHooks(as_json))
    print("Watching for changes from the clinic (Ctrl-C stops).", file=sys.stderr, flush=True)
    done = threading.Event()
    result: list[SyncError | None] = []

    def run() -> None:
        result.append(live.run())
        done.set()

    thread = threading.Thread(target=run, name="companion-watch", daemon=True)
    thread.start()
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        live.stop()
        thread.join(5)
        print("companion: stopped watching", file=sys.stderr)
        return EXIT_OK
    if result and result[0] is not None:
        raise result[0]
    return EXIT_OK


# -- queued actions ---------------------------------------------------------------------------


def _queue(args: argparse.Namespace, mutation_type: str, payload: dict[str, Any], what: str) -> int:
    payload = {k: v for k, v in payload.items() if v is not None}
    with _vault_for_sync(args) as vault:
        # the visit and bill rules as the app asks them: a refusal is one line, nothing queued
        entry: OutboxEntry = queue_mutation(vault, mutation_type, payload, ask_rules=True)
    if args.json:
        print_json(entry.to_dict())
    else:
        print(f"Queued: {what} (id {entry.id}); it goes to the clinic at the next `companion sync`.")
    return EXIT_OK


def cmd_send(args: argparse.Namespace) -> int:
    return _queue(args, "message.send", {"body": args.text, "thread": args.thread},
                  f"a message in the {args.thread} thread")


def _times(values: list[str]) -> list[str]:
    out = []
    for i, value in enumerate(values):
        when = iso(parse_datetime(value, f"--when[{i}]"))
        assert when is not None
        out.append(when)
    if len(out) > 5:
        raise RecordError("--when", "at most 5 preferred times")
    return out


def cmd_appointment_request(args: argparse.Namespace) -> int:
    payload = {"kind": args.kind, "preferred": _times(args.when) or None, "note": args.note, "reason": args.reason}
    return _queue(args, "appointment.request", payload, f"an appointment request ({len(args.when)} preferred times)")


def cmd_appointment_confirm(args: argparse.Namespace) -> int:
    return _queue(args, "appointment.confirm", {"appointment_id": args.id}, f"confirm appointment {args.id}")


def cmd_appointment_cancel(args: argparse.Namespace) -> int:
    return _queue(args, "appointment.cancel", {"appointment_id": args.id, "reason": args.reason},
                  f"cancel appointment {args.id}")


def cmd_checkin(args: argparse.Namespace) -> int:
    insurance = {"payer": args.payer, "member_id": args.member_id, "group": args.group}
    insurance = {k: v for k, v in insurance.items() if v is not None}
    payload = {"appointment_id": args.appointment_id, "phone": args.phone, "email": args.email,
               "insurance": insurance or None}
    return _queue(args, "checkin.submit", payload, f"check-in for appointment {args.appointment_id}")


def cmd_result_ack(args: argparse.Namespace) -> int:
    return _queue(args, "result.ack", {"result_id": args.id}, f"acknowledge result {args.id}")


def cmd_prep_done(args: argparse.Namespace) -> int:
    done = not args.undo
    return _queue(args, "prep.done", {"prep_id": args.id, "done": done},
                  f"prep step {args.id} marked {'done' if done else 'not done'}")


def cmd_bill_plan(args: argparse.Namespace) -> int:
    payload = {"bill_id": args.bill_id, "installments": args.installments, "note": args.note}
    return _queue(args, "bill.plan_request", payload,
                  f"a payment plan request for bill {args.bill_id} ({args.installments} installments)")


def cmd_message_read(args: argparse.Namespace) -> int:
    return _queue(args, "message.read", {"message_id": args.id}, f"message {args.id} marked read")


def cmd_outbox_discard(args: argparse.Namespace) -> int:
    with _vault_for_sync(args) as vault:
        removed = discard_rejected(vault, args.id)
    if not removed:
        raise RecordError("id", f"no refused action {args.id!r} in the outbox (pending actions cannot be discarded)")
    print(f"Discarded {args.id}.")
    return EXIT_OK
