"""Exports the patient asks for: a calendar (iCalendar) and their record (FHIR R4 Bundle).

Both produce plaintext that leaves the vault's protection; the CLI writes
them with mode 0600 and says so. The calendar is deliberately neutral (see
:mod:`.ics`); the FHIR record is complete with security labels (see :mod:`.fhir`).
"""

from __future__ import annotations

from .fhir import build_bundle, export_fhir
from .ics import build_calendar, event_uid, export_ics, neutral_summary

__all__ = ["build_bundle", "build_calendar", "event_uid", "export_fhir", "export_ics", "neutral_summary"]
