"""Who is calling: a staff member (by role) or a paired device (bound to one patient).

The role policy lives here, in one table, so the staff API, its tests and the docs agree:

=================  =========================  ===============================================
permission         roles                      what
=================  =========================  ===============================================
``patients.read``  psr, clinician             list/search patients, read their records
``patients.write`` psr                        patients, pairing codes, appointments, prep,
                                              bills and payment plans, insurance checks
``results.write``  clinician                  create, release and block results
``messages.send``  psr, clinician             message a patient
``inbox``          psr                        what patients sent; mark read/handled
``articles.write`` psr, clinician             publish and retract clinic articles
``devices``        psr, admin                 list and revoke a patient's devices
``staff.admin``    admin                      staff accounts
``audit.read``     admin                      the audit log
=================  =========================  ===============================================

Admin is deliberately *not* a superset: IT runs accounts, devices and the audit trail but does
not read charts, so an admin token never returns patient records, messages or results. A person
who does both holds two tokens, and the audit log tells the two hats apart.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("psr", "clinician", "admin")

PERMISSIONS: dict[str, frozenset[str]] = {
    "patients.read": frozenset({"psr", "clinician"}),
    "patients.write": frozenset({"psr"}),
    "results.write": frozenset({"clinician"}),
    "messages.send": frozenset({"psr", "clinician"}),
    "inbox": frozenset({"psr"}),
    "articles.write": frozenset({"psr", "clinician"}),
    "devices": frozenset({"psr", "admin"}),
    "staff.admin": frozenset({"admin"}),
    "audit.read": frozenset({"admin"}),
}


@dataclass(frozen=True, slots=True)
class StaffPrincipal:
    id: str
    name: str
    role: str

    @property
    def actor_type(self) -> str:
        return "staff"

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS[permission]


@dataclass(frozen=True, slots=True)
class DevicePrincipal:
    id: str
    patient_id: str
    name: str
    vault_generation: int | None = None  # the highest the device had reported before this request

    @property
    def actor_type(self) -> str:
        return "device"

    @property
    def role(self) -> str | None:
        return None


@dataclass(frozen=True, slots=True)
class SystemPrincipal:
    """The ``companion-server`` command line acting directly on the database (IT)."""

    id: str = "cli"
    role: str | None = None

    @property
    def actor_type(self) -> str:
        return "system"


Principal = StaffPrincipal | DevicePrincipal | SystemPrincipal
