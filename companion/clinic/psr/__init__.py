"""Staff tooling: ``companion-psr`` (:mod:`.cli`) over the one staff API client (:mod:`companion.clinic.staff_api`)."""

from __future__ import annotations

from ..staff_api import StaffClient

__all__ = ["StaffClient"]
