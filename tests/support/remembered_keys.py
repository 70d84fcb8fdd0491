"""A key provider that runs the KDF once per passcode, salt and parameters, then remembers the key.

The crash and tamper checks open their vaults hundreds of times: they test the files, not scrypt.

    Vault.open(folder, passcode, key_provider=REMEMBERED)
"""

from __future__ import annotations

from companion.vault import PasscodeKeyProvider, ScryptParams

__all__ = ["REMEMBERED", "RememberedKeys"]


class RememberedKeys(PasscodeKeyProvider):
    def __init__(self) -> None:
        self._keks: dict[tuple[str, bytes, ScryptParams], bytes] = {}

    def derive_kek(self, passcode: str, salt: bytes, params: ScryptParams) -> bytes:
        key = (passcode, salt, params)
        if key not in self._keks:
            self._keks[key] = super().derive_kek(passcode, salt, params)
        return self._keks[key]


REMEMBERED = RememberedKeys()
