"""Staff tooling: ``companion-psr`` (:mod:`.cli`) over the staff API client (:mod:`.client`)."""

from __future__ import annotations

from .client import StaffClient

__all__ = ["StaffClient"]
