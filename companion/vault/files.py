"""The vault folder on disk: its file names, the writer lock, and crash-safe generations.

Files in a vault folder (folder 0700 when we create it, every file 0600)::

    vault.pcv            the current base: the whole document as of one generation (see fileformat)
    vault.pcj            the journal: one sealed frame per commit since that base (see journal)
    vault.pcv.bak        the previous base, and
    vault.pcj.bak        its journal: together they are the state the current base was made from
    unlock-failures.json failed-unlock counter (no secrets; must be readable before unlocking)
    language.txt         the language the patient chose ("es"), so the lock screen speaks it (not health information)
    vault.lock           empty; holds the exclusive flock of the process that has the vault open
    .<name>.<hex>.tmp    temp files of an interrupted write; removed at the next open

Crash safety (``kill -9`` and power loss): a commit is one append to the journal
and one fsync (:class:`JournalFile`); a crash mid-append leaves a torn last frame,
which the next open drops. A commit may defer its fsync (what the clinic's server holds
and sends again: a pulled page with its cursor); a power loss then takes at most the last
:data:`SYNC_DELAY` of such commits, as a tail. A new base (compaction, repair, passcode change,
migration) is written to a temp file and fsynced before anything is renamed;
the current base and journal become the previous generation through hard links
renamed over the ``.bak`` names; the new base is renamed in and the folder
fsynced before the new journal is renamed in (see :meth:`VaultFolder.install_base`),
so a base is never paired on disk with a journal newer than itself.
On macOS/iOS F_FULLFSYNC is used, since plain fsync stops at the drive cache there.

POSIX only (Linux, macOS, Android, iOS): the writer lock is ``fcntl.flock``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import secrets
import threading
from pathlib import Path

from ..core.errors import VaultBusy

__all__ = ["BAK", "JOURNAL", "JOURNAL_BAK", "LANGUAGE", "LOCK", "LOCKOUT", "MAIN", "SYNC_DELAY", "JournalFile",
           "VaultFolder", "WriterLock"]

MAIN = "vault.pcv"
BAK = "vault.pcv.bak"
JOURNAL = "vault.pcj"
JOURNAL_BAK = "vault.pcj.bak"
LOCK = "vault.lock"
LOCKOUT = "unlock-failures.json"
LANGUAGE = "language.txt"
_TEMP = re.compile(r"^\.(vault\.pc[vj]|vault\.pc[vj]\.bak|unlock-failures\.json|language\.txt)\.[0-9a-f]{12}\.tmp$")
SYNC_DELAY = 1.0  # seconds: how long a deferred append (JournalFile.append(sync=False)) waits for its fsync at most
# os.link is refused by a few file systems (FAT/exFAT SD cards, some FUSE mounts):
# there the previous generation is written out from memory instead.
_NO_LINK = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS, errno.EXDEV, errno.EMLINK}


class WriterLock:
    """An exclusive ``flock`` on ``vault.lock``, held from open to close.

    flock locks belong to the open file description, so a second open of the same
    vault conflicts even inside one process; the kernel drops the lock when the
    process dies, so a crash never leaves the vault locked.
    """

    def __init__(self, folder: Path) -> None:
        fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise VaultBusy("the vault is open in another Companion window or command") from None
        except BaseException:
            os.close(fd)
            raise
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the only descriptor releases the flock

    @property
    def held(self) -> bool:
        return self._fd is not None


class VaultFolder:
    """Reads and atomically replaces the files of one vault folder."""

    def __init__(self, folder: Path) -> None:
        self.path = folder

    # --- reading -----------------------------------------------------------------

    def has_vault(self) -> bool:
        return (self.path / MAIN).exists() or (self.path / BAK).exists()

    def is_journaled(self) -> bool:
        """Whether this is a format-2 vault (a journal, or a format-2 base): it always has a failure counter."""
        if (self.path / JOURNAL).exists() or (self.path / JOURNAL_BAK).exists():
            return True
        for name in (MAIN, BAK):
            head = self.read_head(name)
            if head is not None and len(head) > 7 and head.startswith(b"PCVAULT") and head[7] >= 2:
                return True
        return False

    def read_head(self, name: str, size: int = 8) -> bytes | None:
        try:
            with open(self.path / name, "rb") as file:
                return file.read(size)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def read(self, name: str) -> bytes | None:
        """The bytes of ``name``, or ``None`` when it does not exist (or is not a readable file)."""
        try:
            return (self.path / name).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    # --- set-up and clean-up ---------------------------------------------------

    def ensure_exists(self) -> None:
        """Create the folder (0700) when missing; an existing folder keeps its mode."""
        if not self.path.is_dir():
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.path, 0o700)  # mkdir's mode is filtered by the umask

    def lock(self) -> WriterLock:
        return WriterLock(self.path)

    def remove_stale_temps(self) -> None:
        """Delete temp files left by a write that was interrupted (call with the writer lock held)."""
        for entry in os.scandir(self.path):
            if _TEMP.match(entry.name):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)

    def remove_all(self) -> None:
        """Unlink every vault file, temp files and the lock file included, then fsync the folder.

        Overwriting before unlinking would be theatre on flash storage (wear
        levelling keeps old blocks); the data is encrypted anyway.
        """
        self.remove_stale_temps()
        for name in (MAIN, JOURNAL, BAK, JOURNAL_BAK, LOCKOUT, LANGUAGE, LOCK):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path / name)
        self._fsync_folder()

    # --- writing -----------------------------------------------------------------

    def open_journal(self) -> JournalFile:
        return JournalFile(self.path / JOURNAL)

    def install_base(self, base: Path, journal: bytes, *, rotate: bool) -> None:
        """Install a new base (a fsynced temp file from :meth:`write_temp`) and its journal.

        The order of steps is the crash-safety argument:

        1. the new journal goes to a fsynced temp file: nothing visible has changed;
        2. ``rotate``: hard links make the current base and journal the ``.bak`` pair
           (``rotate=False`` keeps the ``.bak`` pair, e.g. when the current files are
           damaged and must not replace it);
        3. the new base is renamed over ``vault.pcv`` and the folder fsynced: the old
           journal now holds frames the base already includes, which an open skips;
        4. the new journal is renamed over ``vault.pcj``, and the folder fsynced.

        At every instant each name holds a complete fsynced file, and the base on
        disk is never older than the journal next to it.
        """
        temps = [base]
        try:
            temps.append(self._write_temp(JOURNAL, journal))
            if rotate:
                for name, previous in ((MAIN, BAK), (JOURNAL, JOURNAL_BAK)):
                    if (self.path / name).exists():
                        temps.append(self._link_or_copy(name, previous))
                        os.replace(temps[-1], self.path / previous)
            os.replace(base, self.path / MAIN)
            self._fsync_folder()
            os.replace(temps[1], self.path / JOURNAL)
        except BaseException:
            for tmp in temps:
                _unlink_quietly(tmp)
            raise
        self._fsync_folder()

    def install_fresh(self, base: bytes, journal: bytes, *, journal_first: bool) -> None:
        """Make ``base`` + ``journal`` both generations (new vault, migration, passcode change).

        The ``.bak`` pair is replaced first, then the current pair. ``journal_first``
        (new vault, migration from format 1, whose base ignores any journal) puts
        the journal in before the base; otherwise (passcode change) the base goes
        first, so the old journal is only ever next to a base that includes it.
        """
        temps: list[Path] = []
        try:
            for name, data in ((BAK, base), (JOURNAL_BAK, journal), (MAIN, base), (JOURNAL, journal)):
                temps.append(self._write_temp(name, data))
            tmp_bak, tmp_jbak, tmp_main, tmp_journal = temps
            os.replace(tmp_bak, self.path / BAK)
            os.replace(tmp_jbak, self.path / JOURNAL_BAK)
            order = ((tmp_journal, JOURNAL), (tmp_main, MAIN)) if journal_first else ((tmp_main, MAIN),
                                                                                      (tmp_journal, JOURNAL))
            for tmp, name in order:
                self._fsync_folder()
                os.replace(tmp, self.path / name)
        except BaseException:
            for tmp in temps:
                _unlink_quietly(tmp)
            raise
        self._fsync_folder()

    def write_temp(self, target: str, data: bytes) -> Path:
        """A fsynced temp file holding ``data``, to be installed (or unlinked by :meth:`discard`)."""
        return self._write_temp(target, data)

    @staticmethod
    def discard(tmp: Path) -> None:
        _unlink_quietly(tmp)

    def write_small(self, name: str, data: bytes) -> None:
        """Atomically replace a small side file (unlock-failure counter, language): temp, fsync, rename, fsync."""
        tmp = self._write_temp(name, data)
        try:
            os.replace(tmp, self.path / name)
        except BaseException:
            _unlink_quietly(tmp)
            raise
        self._fsync_folder()

    def unlink(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path / name)
        self._fsync_folder()

    def _link_or_copy(self, name: str, target: str) -> Path:
        """A new name for ``name``'s inode (no data copied), or a fsynced copy where links are refused."""
        tmp = self._temp_name(target)
        try:
            os.link(self.path / name, tmp)
        except OSError as error:
            if error.errno not in _NO_LINK:
                raise
            return self._write_temp(target, (self.path / name).read_bytes())
        return tmp

    def _temp_name(self, target: str) -> Path:
        return self.path / f".{target}.{secrets.token_hex(6)}.tmp"

    def _write_temp(self, target: str, data: bytes) -> Path:
        """Write ``data`` to a new temp file next to ``target`` and fsync it; returns its path."""
        tmp = self._temp_name(target)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            _sync(fd)
        except BaseException:
            os.close(fd)
            _unlink_quietly(tmp)
            raise
        os.close(fd)
        return tmp

    def _fsync_folder(self) -> None:
        fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            _sync(fd)
        finally:
            os.close(fd)


class JournalFile:
    """The journal open for appending: one ``write`` and, unless deferred, one fsync per commit.

    An append that fails part-way is cut back off, so the next frame never
    follows garbage; if even that fails, :attr:`broken` is set and the storage
    writes a new base instead of appending again.

    An append with ``sync=False`` is written at once (the page cache has it: a crash
    of the app loses nothing) and fsynced by the next synced append,
    :meth:`close`, or a timer at most :data:`SYNC_DELAY` later; until then a power
    loss may take it, and every frame after it, never one before (a torn frame ends
    the journal at open). :attr:`synced_size` is the part a power loss cannot take.
    """

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
        self.size = self.synced_size = os.fstat(self._fd).st_size
        self.broken = False
        self._lock = threading.Lock()  # the fd's writes and syncs: the timer runs on a thread of its own
        self._timer: threading.Timer | None = None

    @property
    def unsynced(self) -> bool:
        return self.size != self.synced_size

    def append(self, frame: bytes, *, sync: bool = True) -> bool:
        """Append one frame; False (nothing written) when the journal broke, as a deferred fsync
        that failed since the caller looked at :attr:`broken`."""
        with self._lock:
            if self.broken:
                return False
            start = self.size
            try:
                view = memoryview(frame)
                while view:
                    view = view[os.write(self._fd, view):]
                if sync:
                    _sync(self._fd)
            except BaseException:
                try:
                    os.ftruncate(self._fd, start)
                except OSError:
                    self.broken = True
                if start != self.synced_size:  # a failed fsync may have dropped earlier unsynced frames too
                    self.broken = True
                raise
            self.size = start + len(frame)
            if sync:
                self.synced_size = self.size
            elif self._timer is None:
                self._timer = threading.Timer(SYNC_DELAY, self._sync_later)
                self._timer.name, self._timer.daemon = "vault-journal-sync", True
                self._timer.start()
            return True

    def _sync_locked(self) -> None:
        """fsync what earlier appends left unsynced. Raises OSError and sets :attr:`broken`: after a
        failed fsync the kernel may have dropped those pages, so the storage writes them anew."""
        if self._fd < 0 or not self.unsynced:
            return
        size = self.size
        try:
            _sync(self._fd)
        except OSError:
            self.broken = True
            raise
        self.synced_size = size

    def _sync_later(self) -> None:
        with self._lock:
            self._timer = None  # an append from now on arms a new timer; this sync covers every one before
            with contextlib.suppress(OSError):  # broken is set: the next commit writes a new base
                self._sync_locked()

    def truncate(self, size: int) -> None:
        """Cut a torn tail off (at open, before the first append)."""
        with self._lock:
            os.ftruncate(self._fd, size)
            _sync(self._fd)
            self.size = self.synced_size = size

    def read_from(self, offset: int) -> bytes:
        return os.pread(self._fd, self.size - offset, offset) if self.size > offset else b""

    def close(self, *, sync: bool = True) -> None:
        """Close the file, fsyncing unsynced appends first unless ``sync`` is False (their frames
        were copied into a new, fsynced journal); a failed fsync is not raised: nothing is left to redo it."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._fd >= 0:
                if sync:
                    with contextlib.suppress(OSError):
                        self._sync_locked()
                fd, self._fd = self._fd, -1
                os.close(fd)


def _sync(fd: int) -> None:
    """fsync, but on macOS/iOS F_FULLFSYNC: there plain fsync stops at the drive's volatile cache."""
    full = getattr(fcntl, "F_FULLFSYNC", None)
    if full is not None:
        try:
            fcntl.fcntl(fd, full)
            return
        except OSError:  # not supported by this file system: fall back to fsync
            pass
    os.fsync(fd)


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
