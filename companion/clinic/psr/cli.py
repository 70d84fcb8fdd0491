"""``companion-psr``: the front desk's command line over the clinic server's staff API.

Server and token come from ``--server``/``--token`` or env ``COMPANION_SERVER`` and
``COMPANION_STAFF_TOKEN``. Every command takes ``--json`` (anywhere on the line) and then
prints one JSON document: the created object (with its ``"id"``) or the listed objects.
Failures print one line on stderr — never a traceback — and exit 1 (the server refused or
could not be reached) or 2 (bad arguments). Commands: see ``companion-psr --help`` and CONTRACT.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from ...core.errors import CompanionError, ConfigError, exit_status
from ...core.models import INTERPRETATIONS, PLAN_STATUSES
from ...core.protocol import THREADS
from ..staff_api import StaffClient
from . import commands as cmd

PROG = "companion-psr"


class _Parser(argparse.ArgumentParser):
    """One-line errors instead of argparse's usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message}\n")


def _common() -> _Parser:
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    common.add_argument("--server", default=argparse.SUPPRESS, help="base URL (env COMPANION_SERVER)")
    common.add_argument("--token", default=argparse.SUPPRESS, help="staff token (env COMPANION_STAFF_TOKEN)")
    return common


def _parser() -> argparse.ArgumentParser:
    common = _common()
    parser = _Parser(prog=PROG, parents=[common], description="Patient Companion staff tools")
    top = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def group(name: str, help_text: str) -> argparse._SubParsersAction[_Parser]:
        return top.add_parser(name, help=help_text).add_subparsers(dest="action", required=True, parser_class=_Parser)

    def leaf(where: argparse._SubParsersAction[_Parser], name: str, handler: cmd.Handler,
             help_text: str) -> argparse.ArgumentParser:
        p = where.add_parser(name, parents=[common], help=help_text)
        p.set_defaults(handler=handler)
        return p

    patient = group("patient", "patients")
    p = leaf(patient, "add", cmd.patient_add, "create a patient")
    p.add_argument("--name", required=True)
    p.add_argument("--dob", help="YYYY-MM-DD")
    p.add_argument("--phone")
    p.add_argument("--email")
    p = leaf(patient, "list", cmd.patient_list, "list or search patients")
    p.add_argument("--search", help="part of a name, phone or email, or a patient id")
    p.add_argument("--limit", type=int, default=50)
    leaf(patient, "show", cmd.patient_show, "one patient").add_argument("patient_id")
    p = leaf(patient, "verify-insurance", cmd.verify_insurance, "mark submitted insurance verified or rejected")
    p.add_argument("patient_id")
    p.add_argument("--status", required=True, choices=("verified", "rejected"))
    p.add_argument("--note")

    p = top.add_parser("pairing-code", parents=[common], help="issue a one-time pairing code")
    p.add_argument("patient_id")
    p.set_defaults(handler=cmd.pairing_code)

    appointment = group("appointment", "appointments")
    p = leaf(appointment, "add", cmd.appointment_add, "book an appointment")
    p.add_argument("patient_id")
    p.add_argument("--start", required=True, help="ISO 8601, e.g. 2026-03-01T10:30 (local) or …Z")
    p.add_argument("--minutes", required=True, type=int)
    p.add_argument("--kind", required=True)
    p.add_argument("--location")
    p.add_argument("--provider")
    p.add_argument("--what-to-bring")
    p.add_argument("--note")
    p.add_argument("--sensitive", action="store_true")
    leaf(appointment, "list", cmd.appointment_list, "a patient's appointments").add_argument("patient_id")
    p = leaf(appointment, "reschedule", cmd.appointment_reschedule, "move an appointment")
    p.add_argument("appointment_id")
    p.add_argument("--start", required=True)
    p.add_argument("--minutes", type=int)
    p = leaf(appointment, "cancel", cmd.appointment_cancel, "cancel an appointment")
    p.add_argument("appointment_id")
    p.add_argument("--reason")

    prep = group("prep", "prep steps")
    p = leaf(prep, "add", cmd.prep_add, "add a prep step to an appointment")
    p.add_argument("appointment_id")
    p.add_argument("--title", required=True)
    p.add_argument("--body", required=True)
    p.add_argument("--before", required=True, help="e.g. 12h, 90m, 1d, 1h30m")

    bill = group("bill", "bills")
    p = leaf(bill, "add", cmd.bill_add, "add a bill")
    p.add_argument("patient_id")
    p.add_argument("--amount", required=True, help="what the patient owes, e.g. 45.00")
    p.add_argument("--due", required=True, help="YYYY-MM-DD")
    p.add_argument("--description", required=True)
    p.add_argument("--insurance-paid", help="e.g. 120.00")
    leaf(bill, "list", cmd.bill_list, "a patient's bills").add_argument("patient_id")
    p = leaf(bill, "plan", cmd.bill_plan, "record a payment plan")
    p.add_argument("bill_id")
    p.add_argument("--status", required=True, choices=PLAN_STATUSES)
    p.add_argument("--installments", required=True, type=int)
    p.add_argument("--note")
    p = leaf(bill, "mark", cmd.bill_mark, "mark a bill open, paid or void")
    p.add_argument("bill_id")
    p.add_argument("status", choices=("open", "paid", "void"))

    result = group("result", "results (clinician role)")
    p = leaf(result, "add", cmd.result_add, "record a result (held until released)")
    p.add_argument("patient_id")
    p.add_argument("--test", required=True)
    p.add_argument("--interpretation", required=True, choices=INTERPRETATIONS)
    p.add_argument("--value")
    p.add_argument("--note")
    p.add_argument("--sensitive", action="store_true")
    p.add_argument("--sample-taken", help="the day the sample was taken, YYYY-MM-DD")
    p.add_argument("--appointment", help="the visit the sample was taken at (an appointment id)")
    leaf(result, "release", cmd.result_release, "release a result to the patient").add_argument("result_id")
    leaf(result, "block", cmd.result_block, "withdraw a result").add_argument("result_id")
    leaf(result, "list", cmd.result_list, "a patient's results").add_argument("patient_id")

    message = group("message", "messages")
    p = leaf(message, "send", cmd.message_send, "message a patient")
    p.add_argument("patient_id")
    p.add_argument("text")
    p.add_argument("--thread", default="general", choices=THREADS)
    leaf(message, "list", cmd.message_list, "a patient's conversation").add_argument("patient_id")

    p = top.add_parser("inbox", parents=[common], help="what patients sent (open items)")
    p.set_defaults(handler=cmd.inbox)
    p.add_argument("--all", action="store_true", help="open and handled items")
    p.add_argument("--handled", action="store_true", help="handled items only")
    p.add_argument("--patient", help="only this patient")
    marks = p.add_subparsers(dest="inbox_action", required=False, parser_class=_Parser)
    for name in ("read", "handle"):
        leaf(marks, name, cmd.inbox, f"mark an item {name if name == 'read' else 'handled'}").add_argument("item_id")

    article = group("article", "clinic articles")
    p = leaf(article, "add", cmd.article_add, "publish a Markdown article to every patient")
    p.add_argument("--title", help="default: the file's first '# Heading'")
    p.add_argument("--file", required=True)
    p.add_argument("--tag", action="append", help="repeat for several tags")
    p.add_argument("--appointment-kind", help="tie it to a visit kind, e.g. 'STI screening'")
    leaf(article, "list", cmd.article_list, "published articles")

    device = group("device", "paired devices (psr or admin)")
    leaf(device, "list", cmd.device_list, "a patient's devices").add_argument("patient_id")
    leaf(device, "revoke", cmd.device_revoke, "revoke a lost device").add_argument("device_id")

    p = top.add_parser("audit", parents=[common], help="the audit log (admin)")
    p.set_defaults(handler=cmd.audit)
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--patient")
    p.add_argument("--actor")
    p.add_argument("--action")

    staff = group("staff", "staff accounts (admin)")
    p = leaf(staff, "add", cmd.staff_add, "create a staff account")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=("psr", "clinician", "admin"))
    leaf(staff, "list", cmd.staff_list, "staff accounts")
    leaf(staff, "revoke", cmd.staff_revoke, "revoke a staff token").add_argument("staff_id")

    top.add_parser("whoami", parents=[common], help="who the token belongs to").set_defaults(handler=cmd.whoami)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    as_json = bool(getattr(args, "json", False))
    server = getattr(args, "server", None) or os.environ.get("COMPANION_SERVER", "")
    token = getattr(args, "token", None) or os.environ.get("COMPANION_STAFF_TOKEN", "")
    try:
        if not token:
            raise ConfigError("no staff token: set COMPANION_STAFF_TOKEN or pass --token")
        with StaffClient(server or "http://127.0.0.1:8765", token, user_agent=PROG) as api:
            obj, text = args.handler(args, api)
    except CompanionError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exit_status(exc)
    except KeyboardInterrupt:
        return 130
    print(json.dumps(obj, indent=2, ensure_ascii=False) if as_json else text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
