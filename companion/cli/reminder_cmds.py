"""Reminder and export commands: ``companion reminders`` and ``companion export ics|fhir``.

``reminders [--at ISO8601] [--json]`` is read-only: it plans from the vault as
the reminder loop would at that time (default now) and prints the
notifications that would show — title and body exactly as on the lock screen,
discreet mode and quiet hours applied in the local zone (``TZ``) — without
recording anything. ``--at`` takes an ISO 8601 time; one without an offset
is read as local time.

``export ics|fhir [-o FILE]`` writes the calendar or the FHIR record to FILE
(mode 0600) or to stdout. Either way the result is plaintext outside the
vault's encryption, and the command says so on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from ..config import load_profile
from ..core.errors import CompanionError
from ..core.fields import iso
from ..exports import export_fhir, export_ics
from ..reminders import due_notices, load_settings, local_zone, zone_name
from ..reminders.settings import format_quiet_hours
from .common import EXIT_OK, open_vault, print_json


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("reminders", help="the reminders due at a time, as they would show (read-only)")
    p.add_argument("--at", metavar="ISO8601", default=None,
                   help="the time to look at (default: now); without an offset it is local time")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.set_defaults(handler=cmd_reminders)

    p = sub.add_parser("export", help="export appointments (iCalendar) or your record (FHIR); NOT encrypted")
    p.add_argument("format", choices=("ics", "fhir"))
    p.add_argument("-o", "--output", metavar="FILE", type=Path, default=None,
                   help="write to FILE (created with mode 0600) instead of stdout")
    p.set_defaults(handler=cmd_export)


def parse_at(text: str | None, tz: tzinfo) -> datetime:
    """``--at`` -> aware UTC datetime; a one-line :class:`CompanionError` when it is not ISO 8601."""
    if text is None:
        return datetime.now(UTC)
    raw = text.strip()
    try:
        value = datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw)
    except ValueError:
        raise CompanionError(
            f"--at: not an ISO 8601 time: {text[:60]!r} (e.g. 2026-06-10T09:00 or 2026-06-10T09:00:00+02:00)"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


def cmd_reminders(args: argparse.Namespace) -> int:
    tz = local_zone()
    at = parse_at(args.at, tz)
    profile = load_profile()
    with open_vault(args) as vault:
        settings = load_settings(vault.meta, profile)
        notices = due_notices(vault, at, profile, tz=tz)
    quiet = settings.quiet(tz)
    if args.json:
        print_json({
            "at": iso(at),
            "local_time": at.astimezone(tz).isoformat(timespec="minutes"),
            "zone": zone_name(tz),
            "discreet": settings.discreet,
            "quiet_hours": format_quiet_hours(settings.quiet_hours),
            "quiet_now": bool(quiet and quiet.is_quiet(at)),
            "reminders": [{"id": n.reminder_ids[0], **n.to_json()} for n in notices],
        })
        return EXIT_OK
    when = f"{at.astimezone(tz):%Y-%m-%d %H:%M} ({zone_name(tz)})"
    if not notices:
        print(f"No reminders due at {when}.")
    for notice in notices:
        print(f"{notice.title}: {notice.body}")
    return EXIT_OK


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by its owner only (0600, also when the file existed)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb", closefd=False) as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        finally:
            os.close(fd)
    except OSError as exc:
        raise CompanionError(f"cannot write {path}: {exc.strerror or exc}") from None


def cmd_export(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    profile = load_profile()
    with open_vault(args) as vault:
        if args.format == "ics":
            data = export_ics(vault, profile, now)
        else:
            data = (json.dumps(export_fhir(vault, profile, now), ensure_ascii=False, indent=2) + "\n").encode()
    what = "calendar" if args.format == "ics" else "health record"
    if args.output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        print(f"companion: warning: this {what} export is NOT encrypted; keep it private", file=sys.stderr)
    else:
        _write_private(args.output, data)
        print(f"companion: warning: {args.output} is NOT encrypted (only you can read it on this computer); "
              "delete it when you no longer need it", file=sys.stderr)
    return EXIT_OK
