"""The vault: the patient's encrypted, crash-safe local store, and its life cycle.

Usage::

    with Vault.open(folder, passcode) as vault:          # or Vault.create(...)
        with vault.batch():                               # one atomic file write
            vault.messages.upsert_many(page_of_messages)
            vault.meta.set("sync.cursor", cursor)
        vault.appointments.all()

``Vault.create``/``Vault.open`` take the folder's exclusive writer lock and
keep it until :meth:`Vault.close`, so a second process gets
:class:`~companion.core.errors.VaultBusy`; within the process, ``vault.lock`` (an
``RLock``) serialises threads. Every record change is one commit — one sealed
frame appended to the journal and one fsync (see :mod:`companion.vault.storage`)
— unless it happens inside :meth:`Vault.batch`, whose changes are one frame.
The journal is folded into a new base in the background (:mod:`.compaction`).

Unlocking runs the KDF from the file header (default scrypt 2^17); new vaults use
``COMPANION_KDF_LOG2N`` when set (tests and benchmarks: 14) — see
:func:`companion.vault.keys.kdf_from_env`. Failed unlocks back off
(:mod:`companion.vault.lockout`); damage falls back to the last state the vault
can prove and sets ``recovered`` and ``recovery`` (:mod:`companion.vault.unlock`).
A vault in the format before the journal is migrated at its first open.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import Any

from ..core.errors import RecordError, VaultError, VaultExists, VaultNotFound, WrongPasscode
from ..core.models import Appointment, Article, Bill, Message, OpenTimes, OutboxEntry, PrepStep, Profile, Result
from .compaction import CompactionReport
from .fileformat import SALT_BYTES, KeySlot
from .files import VaultFolder, WriterLock
from .keys import KeyProvider, PasscodeKeyProvider, ScryptParams, derive_checked, kdf_from_env, new_data_key
from .lockout import UnlockThrottle
from .passcode import check_new_passcode, normalise
from .repos import Meta, Repo, RepoContext, SingletonRepo
from .storage import EncryptedStorage
from .tables import open_database
from .unlock import unlock

__all__ = ["Vault"]

FolderLike = str | PathLike[str]


@contextlib.contextmanager
def _disk_errors(action: str) -> Iterator[None]:
    """Turn an unexpected OSError (permissions, full disk, read-only media) into a one-line VaultError."""
    try:
        yield
    except OSError as error:
        where = f" ({error.filename})" if error.filename else ""
        raise VaultError(f"{action}: {error.strerror or error}{where}") from None


def _abandon(storage: EncryptedStorage, writer: WriterLock) -> None:
    storage.compactor.stop()
    writer.release()


class Vault:
    """An open, unlocked vault. Build it with :meth:`create` or :meth:`open`, never directly."""

    def __init__(self, folder: VaultFolder, storage: EncryptedStorage, writer: WriterLock,
                 provider: KeyProvider, clock: Callable[[], float], *, recovered: bool, recovery: str = "") -> None:
        self.folder: Path = folder.path
        self.recovered = recovered
        self.recovery = recovery  # why ``recovered``, in words ('' when not)
        # An append interrupted by a crash was dropped at this open. It was never
        # acknowledged, so nothing committed was lost. A journal cut short by
        # someone looks the same, and one cut at a frame boundary is simply an
        # older copy (a lower ``generation``): the sync's rollback check compares
        # the generation with what the clinic's server saw (companion.sync.pull).
        self.dropped_torn_frame = False
        self.lock: threading.RLock = storage.lock
        self._storage = storage
        self._writer = writer
        self._provider = provider
        self._throttle = UnlockThrottle(folder, clock)
        self._db = open_database(storage)
        # A vault dropped without close() must not keep its folder locked for the
        # rest of the process (the next open would say VaultBusy), nor leave a
        # compaction running that could swap files under the next owner.
        self._release_on_gc = weakref.finalize(self, _abandon, storage, writer)
        ctx = RepoContext(self._db, storage, self.lock)
        self.profile: SingletonRepo[Profile] = SingletonRepo(ctx, "profile", Profile)
        self.appointments: Repo[Appointment] = Repo(ctx, "appointment", Appointment)
        self.prep: Repo[PrepStep] = Repo(ctx, "prep", PrepStep)
        self.bills: Repo[Bill] = Repo(ctx, "bill", Bill)
        self.results: Repo[Result] = Repo(ctx, "result", Result)
        self.messages: Repo[Message] = Repo(ctx, "message", Message)
        self.articles: Repo[Article] = Repo(ctx, "article", Article)
        self.open_times: Repo[OpenTimes] = Repo(ctx, "open_times", OpenTimes)
        self.outbox: Repo[OutboxEntry] = Repo(ctx, "outbox", OutboxEntry)
        self.meta = Meta(ctx)
        self._repos: dict[str, Repo[Any] | SingletonRepo[Any]] = {
            r.kind: r for r in (self.profile, self.appointments, self.prep, self.bills, self.results,
                                self.messages, self.articles, self.open_times, self.outbox)
        }

    # --- life cycle ----------------------------------------------------------------

    @classmethod
    def create(cls, folder: FolderLike, passcode: str, *, kdf: ScryptParams | None = None,
               key_provider: KeyProvider | None = None) -> Vault:
        """Create an empty vault in ``folder`` (created 0700 when missing) and return it open.

        Raises :class:`WeakPasscode` (with the reason) before touching the disk,
        :class:`VaultExists`, :class:`VaultBusy`. ``kdf`` defaults to
        ``COMPANION_KDF_LOG2N`` if set, else :meth:`ScryptParams.default`.
        """
        check_new_passcode(passcode)
        params = kdf if kdf is not None else kdf_from_env()
        provider = key_provider or PasscodeKeyProvider()
        files = VaultFolder(Path(folder))
        if files.has_vault():  # checked again under the lock; this one answers "exists" even while it is open
            raise VaultExists(f"a vault already exists in {files.path}")
        with _disk_errors("could not create the vault"):
            files.ensure_exists()
            writer = files.lock()
            try:
                if files.has_vault():
                    raise VaultExists(f"a vault already exists in {files.path}")
                files.remove_stale_temps()
                salt = secrets.token_bytes(SALT_BYTES)
                kek = derive_checked(provider, normalise(passcode), salt, params)
                dek = new_data_key()
                UnlockThrottle(files, time.time).reset()  # a zero count, before any vault file exists
                storage = EncryptedStorage.create_new(files, KeySlot.create(kek, dek, params, salt), dek)
                return cls(files, storage, writer, provider, time.time, recovered=False)
            except BaseException:
                writer.release()
                raise

    @classmethod
    def open(cls, folder: FolderLike, passcode: str, *, key_provider: KeyProvider | None = None,
             clock: Callable[[], float] = time.time) -> Vault:
        """Unlock the vault in ``folder``.

        Raises :class:`VaultNotFound`, :class:`VaultBusy`, :class:`LockedOut` (before
        any KDF work), :class:`WrongPasscode` (counted, durably, before it is raised)
        or :class:`VaultCorrupted`. When the files are damaged, opens the last state
        it can prove (the previous generation if need be), writes it as a new base
        and sets ``recovered`` (``recovery`` says why). A torn last frame (a crash
        mid-append; never acknowledged) is dropped silently. A vault in the
        format before the journal is migrated here, crash-safely.
        """
        provider = key_provider or PasscodeKeyProvider()
        files = VaultFolder(Path(folder))
        if not files.has_vault():
            raise VaultNotFound(f"no vault in {files.path}")
        with _disk_errors("could not open the vault"):
            writer = files.lock()
            try:
                files.remove_stale_temps()
                throttle = UnlockThrottle(files, clock)
                throttle.check()
                try:
                    unlocked = unlock(files, normalise(passcode), provider)
                except WrongPasscode:
                    failures = throttle.record_failure()
                    raise WrongPasscode(throttle.describe_failure(failures)) from None
                throttle.reset()
                storage = EncryptedStorage.open_unlocked(files, unlocked)
                vault = cls(files, storage, writer, provider, clock, recovered=unlocked.recovered,
                            recovery=unlocked.problem)
                vault.dropped_torn_frame = unlocked.torn
                return vault
            except BaseException:
                writer.release()
                raise

    @staticmethod
    def exists(folder: FolderLike) -> bool:
        return VaultFolder(Path(folder)).has_vault()

    @staticmethod
    def wipe(folder: FolderLike) -> None:
        """Remove every vault file in ``folder`` (the folder itself stays). :class:`VaultBusy` while it is open."""
        files = VaultFolder(Path(folder))
        if not files.path.is_dir():
            return
        with _disk_errors("could not wipe the vault"):
            writer = files.lock()
            try:
                files.remove_all()
            finally:
                writer.release()

    def close(self) -> None:
        """Forget the keys and the document and release the writer lock (idempotent)."""
        self._storage.compactor.stop()  # a compaction in flight gives up (its temp file is removed)
        with self.lock:
            if not self._writer.held:
                return
            if self._storage.in_batch:
                raise VaultError("the vault cannot be closed inside a batch")
            self._db.close()
            self._writer.release()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Vault {str(self.folder)!r} {'open' if self._writer.held else 'closed'}>"

    # --- changes -------------------------------------------------------------------

    @contextlib.contextmanager
    def batch(self, *, durable: bool = True) -> Iterator[None]:
        """Make every change inside the block ONE atomic file write at its end.

        Holds ``lock`` for the whole block. Nested batches join the outer one. An
        exception discards every change of the (outermost) batch — the vault reads
        as its last committed state — and nothing is written.

        ``durable=False`` is for what the clinic's server holds and sends again (a
        pulled page with its cursor): the write is on disk when the block ends, so
        a crash of the app loses nothing, but its fsync waits up to
        :data:`~companion.vault.files.SYNC_DELAY` (or for the next durable write,
        or :meth:`close`). A power loss in between takes such writes as a tail,
        never one before them: the vault opens as it was before them (the
        cursor with it), and the next sync pulls them again. A batch nested in a
        durable one, or holding one, is durable.
        """
        with self.lock:
            self._storage.begin(durable=durable)
            ok = False
            try:
                yield
                ok = True
            finally:
                self._storage.end(ok)

    def change_passcode(self, old: str, new: str) -> None:
        """Rotate the data key: everything is sealed under a new key wrapped for ``new``.

        :class:`WrongPasscode` if ``old`` is wrong (counted like a failed unlock),
        :class:`WeakPasscode` if ``new`` is refused. It is a compaction under the
        new key written as both generations, so afterwards ``old`` unlocks
        neither, and an old copy of the files opens nothing written after the
        change; a crash midway leaves a vault that ``old`` or ``new`` unlocks.
        The KDF parameters stay those of the vault. The two KDF runs happen
        outside ``lock``, so other threads can keep reading.
        """
        check_new_passcode(new)
        with self.lock, _disk_errors("could not change the passcode"):
            self._check_can_rekey()
        slot, _ = self._prove(old, "could not change the passcode")
        salt, dek = secrets.token_bytes(SALT_BYTES), new_data_key()
        new_slot = KeySlot.create(derive_checked(self._provider, normalise(new), salt, slot.params), dek,
                                  slot.params, salt)
        with self.lock, _disk_errors("could not change the passcode"):
            self._check_can_rekey()
            if self._storage.slot != slot:
                raise VaultError("the passcode was changed by another task meanwhile; try again")
            self._throttle.reset()
            self._storage.rewrite_both(new_slot, dek)

    def verify_passcode(self, passcode: str) -> None:
        """Check ``passcode`` against this open vault (another window unlocking the same vault).

        :class:`LockedOut` before any KDF work while a wait runs; :class:`WrongPasscode`
        counted, durably, like a failed unlock; a right passcode resets the count.
        """
        self._prove(passcode, "could not check the passcode")
        with self.lock, _disk_errors("could not check the passcode"):
            self._throttle.reset()

    def _prove(self, passcode: str, doing: str) -> tuple[KeySlot, bytes]:
        """The key slot and the data key that ``passcode`` unwraps; failures count toward the lockout.

        The KDF runs outside ``lock``, so other threads keep reading meanwhile.
        """
        with self.lock, _disk_errors(doing):
            self._storage.require_open()
            self._throttle.check()
            slot = self._storage.slot
        try:  # the slot is authenticated: a KEK that unwraps it yields exactly the vault's DEK
            return slot, slot.unwrap(derive_checked(self._provider, normalise(passcode), slot.salt, slot.params))
        except WrongPasscode:
            with self.lock, _disk_errors(doing):
                failures = self._throttle.record_failure()
            raise WrongPasscode(self._throttle.describe_failure(failures)) from None

    def _check_can_rekey(self) -> None:
        self._storage.require_open()
        if self._storage.in_batch:
            raise VaultError("the passcode cannot be changed inside a batch")

    def clear_clinic_data(self) -> None:
        """Revocation: remove every clinic record (all kinds but the outbox) and ``sync.*`` meta, in one write."""
        with self.batch():
            for kind, repo in self._repos.items():
                if kind != "outbox":
                    repo.clear()
            self.meta.delete_prefix("sync.")

    # --- access ------------------------------------------------------------------------

    def repo(self, kind: str) -> Repo[Any] | SingletonRepo[Any]:
        """The repo of a wire kind: appointment, prep, bill, result, message, article, profile, outbox."""
        try:
            return self._repos[kind]
        except KeyError:
            raise RecordError("kind", f"unknown record kind {kind[:40]!r}") from None

    @contextlib.contextmanager
    def deferred_compaction(self) -> Iterator[None]:
        """Commits inside the block do not start a compaction; one due is started at its end.

        For a run of many batches that grow the vault (a sync's pull): see
        :meth:`~companion.vault.compaction.Compactor.hold`. The lock is not held in between,
        so the app reads and writes as usual meanwhile.
        """
        with self.lock:
            self._storage.compactor.hold()
        try:
            yield
        finally:
            with self.lock:
                self._storage.compactor.release()

    def compact(self) -> CompactionReport:
        """Fold the journal into a new base now (normally done in the background when it is due)."""
        with self.lock, _disk_errors("could not compact the vault"):
            self._storage.require_open()
            if self._storage.in_batch:
                raise VaultError("the vault cannot be compacted inside a batch")
            return self._storage.compactor.run_now()

    @property
    def file_writes(self) -> int:
        """Commits (journal frames or new bases holding a change) written since this object was opened."""
        return self._storage.writes

    def advance_generation(self, at_least: int) -> None:
        """Move :attr:`generation` up to ``at_least`` (a new base; no record changes).

        For the rollback check at sync: once the clinic's server has seen a higher
        generation from this device than the vault holds, the vault is an older
        copy; moving past what the server saw lets the check pass again after the
        resync, and a yet older copy is still caught.
        """
        with self.lock, _disk_errors("could not save the vault"):
            self._storage.require_open()
            if self._storage.in_batch:
                raise VaultError("the generation cannot be advanced inside a batch")
            self._storage.advance_generation(at_least)

    @property
    def generation(self) -> int:
        """The number of the last committed change; it only grows (an older copy of the files has a lower one)."""
        return self._storage.generation

    @property
    def durable_generation(self) -> int:
        """:attr:`generation` as of the last fsync: what the vault opens at after a power loss, at worst.

        What the sync reports to the server for the rollback check, so that pulled pages a
        power loss took (``batch(durable=False)``) are never mistaken for an older copy."""
        return self._storage.durable_generation
