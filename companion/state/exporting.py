"""Export the patient's records to a file: calendar (.ics) or FHIR R4 bundle (.json).

A thin adapter over :mod:`companion.exports`: the Settings screen and the
appointment "Add to calendar" button call :func:`export_records` and show the
path it returns. The files leave the vault's protection, so they are written
0600 into a 0700 folder.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from ..config import ClinicProfile
from ..core.errors import CompanionError
from ..exports import build_calendar, export_fhir, export_ics
from ..reminders import load_settings
from ..vault import Vault

__all__ = ["FORMATS", "export_file", "export_records"]

FORMATS = {"ics": "appointments.ics", "fhir": "records-fhir.json"}


def _render(vault: Vault, fmt: str, profile: ClinicProfile, now: datetime, appointment_id: str | None) -> bytes:
    with vault.lock:
        if fmt == "fhir":
            return json.dumps(export_fhir(vault, profile, now), indent=2, ensure_ascii=False).encode("utf-8")
        if appointment_id is None:
            return export_ics(vault, profile, now)
        appts = [a for a in vault.appointments.all() if a.id == appointment_id]
        prep = [s for s in vault.prep.all() if s.appointment_id == appointment_id]
        cal = build_calendar(appts, prep, clinic=profile, settings=load_settings(vault.meta, profile), now=now)
        data: bytes = cal.to_ical()
        return data


def export_file(vault: Vault, fmt: str, profile: ClinicProfile, *, now: datetime,
                appointment_id: str | None = None) -> tuple[str, bytes]:
    """The export as a file name and its bytes, for the app to hand to the browser's or the OS's
    save dialog (the name says no more than the contents: "appointment.ics")."""
    if fmt not in FORMATS:
        raise CompanionError(f"unknown export format {fmt!r}: choose ics or fhir")
    name = FORMATS[fmt] if appointment_id is None else "appointment.ics"
    return name, _render(vault, fmt, profile, now, appointment_id)


def export_records(vault: Vault, fmt: str, folder: Path, profile: ClinicProfile, *, now: datetime,
                   appointment_id: str | None = None) -> Path:
    """Write the export into ``folder`` and return its path."""
    if fmt not in FORMATS:
        raise CompanionError(f"unknown export format {fmt!r}: choose ics or fhir")
    data = _render(vault, fmt, profile, now, appointment_id)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = folder / (FORMATS[fmt] if appointment_id is None else f"appointment-{appointment_id}.ics")
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    except OSError as exc:
        raise CompanionError(f"could not write the export: {exc.strerror or exc}") from None
    return target
