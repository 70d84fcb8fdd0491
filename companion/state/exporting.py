"""Export the patient's records to a file: calendar (.ics) or FHIR R4 bundle (.json).

A thin adapter over :mod:`companion.exports` (owned by the reminders/exports
work): the Settings screen and the appointment "Add to calendar" button call
:func:`export_records` and show the path it returns.
"""

from __future__ import annotations

import importlib
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from ..config import ClinicProfile
from ..errors import CompanionError
from ..vault import Vault

__all__ = ["FORMATS", "export_records"]

FORMATS = {"ics": "appointments.ics", "fhir": "records-fhir.json"}


def _exports() -> Any:
    try:
        return importlib.import_module("companion.exports")
    except ImportError:
        raise CompanionError("exporting is not available in this build") from None


def export_records(vault: Vault, fmt: str, folder: Path, profile: ClinicProfile, *, now: datetime,
                   appointment_id: str | None = None) -> Path:
    """Write the export into ``folder`` (0700) and return its path."""
    if fmt not in FORMATS:
        raise CompanionError(f"unknown export format {fmt!r}: choose ics or fhir")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = FORMATS[fmt] if appointment_id is None else f"appointment-{appointment_id}.ics"
    target = folder / name
    text = _render(_exports(), vault, fmt, profile, now, appointment_id)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    return target


def _render(module: Any, vault: Vault, fmt: str, profile: ClinicProfile, now: datetime,
            appointment_id: str | None) -> str:
    with vault.lock:
        if fmt == "ics":
            appointments = vault.appointments.all()
            if appointment_id is not None:
                appointments = [a for a in appointments if a.id == appointment_id]
            text = module.export_ics(appointments, profile=profile, now=now)
        else:
            text = module.export_fhir(vault, profile=profile, now=now)
    if isinstance(text, bytes):
        return text.decode("utf-8")
    return str(text)
