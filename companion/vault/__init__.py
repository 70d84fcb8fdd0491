"""The patient's encrypted, crash-safe local store.

Public facade; the modules behind it are private:

- :mod:`.vault`       life cycle (create/open/close/wipe), batches, passcode change
- :mod:`.repos`       typed tables (``Repo``, ``SingletonRepo``) and ``Meta``
- :mod:`.storage`     the TinyDB storage: JSON -> AES-256-GCM -> file, document cached in memory
- :mod:`.fileformat`  the byte layout of a vault file
- :mod:`.files`       the folder: writer lock and crash-safe generations (``vault.pcv`` + ``.bak``)
- :mod:`.unlock`      which generation to trust; wrong passcode vs tampering
- :mod:`.keys`        scrypt parameters, the ``KeyProvider`` seam, DEK wrapping
- :mod:`.lockout`     failed-unlock backoff
- :mod:`.passcode`    passcode policy

Environment: ``COMPANION_KDF_LOG2N`` (an integer, clamped to >= 14) sets the scrypt
cost of vaults created without an explicit ``kdf``; test suites and benchmarks set
it to 14 to keep unlocking cheap. Existing vaults always use the cost in their header.
"""

from __future__ import annotations

from .keys import KeyProvider, PasscodeKeyProvider, ScryptParams
from .repos import Meta, Repo, SingletonRepo
from .vault import Vault

__all__ = ["KeyProvider", "Meta", "PasscodeKeyProvider", "Repo", "ScryptParams", "SingletonRepo", "Vault"]
