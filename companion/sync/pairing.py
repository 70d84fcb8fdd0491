"""Pairing: trade a one-time code from the clinic for a device token kept only inside the vault.

    pairing = pair(vault, "https://clinic.example", "K7Q-4MZ-9TD", device_name="Pixel 8",
                   ca_file="clinic-ca.pem")

The address is checked before any connection (``https://`` required except for
loopback: :func:`transport.check_server_url`). With ``ca_file`` the clinic's CA
is pinned: its PEM text is stored in the vault (``sync.ca_pem``) so every later
connection trusts only that CA, even if the file is gone. The token, device id,
patient id and clinic name are stored in ONE vault write; the token is never
printed or logged.

A vault that is already paired is refused (wipe it first): one vault holds one
patient's records, never a mix.
"""

from __future__ import annotations

import platform
from pathlib import Path

import httpx

from ..core.errors import PairingFailed, RequestRejected
from ..core.protocol import Pairing, parse_pairing_response
from ..vault import Vault
from .retry import RetryPolicy, with_retries
from .status import LAST_ATTEMPT, LAST_ERROR, LAST_SYNC, STATE
from .store import CA_PEM, CLINIC_NAME, CURSOR, DEVICE_ID, PATIENT_ID, RESYNC, SERVER_URL, TOKEN, credentials
from .transport import Refused, build_client, check_server_url, load_ca_pem, send_json

__all__ = ["pair", "default_device_name", "client_for_vault"]

# A pairing code is single-use: retry only briefly (a lost answer may have used it up).
PAIRING_POLICY = RetryPolicy(attempts=3, deadline=6.0)


def default_device_name() -> str:
    return f"{platform.system() or 'Unknown'} device"[:100]


def pair(
    vault: Vault,
    server_url: str,
    code: str,
    *,
    device_name: str | None = None,
    ca_file: str | Path | None = None,
    client: httpx.Client | None = None,
) -> Pairing:
    """Pair this vault with the clinic at ``server_url``; returns what the server said (token included).

    ``client`` is for callers that built one (tests, the app); otherwise one is
    built with :func:`transport.build_client` and closed. Raises InsecureServer,
    PairingFailed (code wrong, expired or used up), RateLimited, ServerUnreachable…
    """
    base = check_server_url(server_url)
    ca_pem = load_ca_pem(ca_file) if ca_file is not None else None
    if vault.meta.get(TOKEN) is not None:
        name = vault.meta.get(CLINIC_NAME) or vault.meta.get(SERVER_URL)
        raise PairingFailed(f"this device is already paired with {name}: run `companion wipe` to start over")
    code = code.strip()
    if not code or len(code) > 100:
        raise PairingFailed("the pairing code is empty or too long")
    body = {"code": code, "device_name": (device_name or default_device_name()).strip()[:100]}
    own = client is None
    http = client if client is not None else build_client(base, ca_pem=ca_pem)
    try:
        answer = with_retries(
            lambda budget: send_json(http, "POST", "/v1/devices", body=body, timeout=budget), PAIRING_POLICY
        )
    except Refused as exc:
        raise PairingFailed(f"pairing failed: {exc.detail}") from None
    except RequestRejected as exc:
        if exc.status == 401:
            raise PairingFailed("pairing failed: the code was not accepted") from None
        raise
    finally:
        if own:
            http.close()
    pairing = parse_pairing_response(answer.data)
    with vault.lock, vault.batch():
        vault.clear_clinic_data()  # nothing of an earlier pairing may mix with this patient's records
        for key in (LAST_SYNC, STATE, LAST_ERROR, LAST_ATTEMPT, CURSOR, RESYNC):
            vault.meta.delete(key)
        vault.meta.set(SERVER_URL, base)
        if ca_pem is not None:
            vault.meta.set(CA_PEM, ca_pem)
        vault.meta.set(TOKEN, pairing.token)
        vault.meta.set(DEVICE_ID, pairing.device_id)
        vault.meta.set(PATIENT_ID, pairing.patient_id)
        if pairing.clinic_name:
            vault.meta.set(CLINIC_NAME, pairing.clinic_name)
    return pairing


def client_for_vault(vault: Vault, *, timeout: float | None = None) -> httpx.Client:
    """An ``httpx.Client`` for the clinic this vault is paired with (pinned CA included). Caller closes it."""
    url, _ = credentials(vault)
    ca_pem = vault.meta.get(CA_PEM)
    if timeout is None:
        return build_client(url, ca_pem=ca_pem)
    return build_client(url, ca_pem=ca_pem, timeout=timeout)
