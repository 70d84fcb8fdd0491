"""The vault folder on disk: its file names, the writer lock, and crash-safe generations.

Files in a vault folder (folder 0700 when we create it, every file 0600)::

    vault.pcv            the current generation (see fileformat)
    vault.pcv.bak        the previous generation
    unlock-failures.json failed-unlock counter (no secrets; must be readable before unlocking)
    vault.lock           empty; holds the exclusive flock of the process that has the vault open
    .<name>.<hex>.tmp    temp files of an interrupted write; removed at the next open

Crash safety (``kill -9`` and power loss): a new generation is written to a temp
file and fsynced before anything is renamed; the current main file then becomes
the previous generation through a hard link renamed over ``.bak``; only then is
the temp renamed over the main file, and the folder fsynced. Every rename is
atomic, so at every instant ``vault.pcv`` is the last or the new generation and
``vault.pcv.bak`` the one before or the last (see :meth:`VaultFolder._install`).
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
from pathlib import Path

from ..core.errors import VaultBusy

__all__ = ["BAK", "LOCK", "LOCKOUT", "MAIN", "VaultFolder", "WriterLock"]

MAIN = "vault.pcv"
BAK = "vault.pcv.bak"
LOCK = "vault.lock"
LOCKOUT = "unlock-failures.json"
_TEMP = re.compile(r"^\.(vault\.pcv|vault\.pcv\.bak|unlock-failures\.json)\.[0-9a-f]{12}\.tmp$")
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
        for name in (MAIN, BAK, LOCKOUT, LOCK):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path / name)
        self._fsync_folder()

    # --- writing -----------------------------------------------------------------

    def commit(self, blob: bytes, *, rotate: bool, previous: bytes) -> None:
        """Install ``blob`` as the new main file.

        ``rotate``: the current main file becomes the previous generation (normal
        writes). ``rotate=False`` keeps ``.bak`` as it is (the write that repairs a
        damaged main file must not push the damage into ``.bak``). ``previous`` is
        the current main file's content, used only where hard links are refused.
        """
        self._install(blob, bak=None, rotate=rotate, previous=previous)

    def commit_both(self, main: bytes, bak: bytes) -> None:
        """Replace both generations (new vault, passcode change); ``.bak`` is replaced first."""
        self._install(main, bak=bak, rotate=False, previous=b"")

    def write_small(self, name: str, data: bytes) -> None:
        """Atomically replace a small side file (the unlock-failure counter): temp, fsync, rename, fsync."""
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

    def _install(self, blob: bytes, *, bak: bytes | None, rotate: bool, previous: bytes) -> None:
        """The one way a vault generation reaches disk; the order of steps is the crash-safety argument.

        1. The new generation goes to a fresh temp file (O_EXCL, 0600) and is fsynced:
           nothing visible has changed yet.
        2. ``.bak`` is replaced atomically: by a hard link to the current main file
           (rotation: main and ``.bak`` are now both the last generation), or by a
           fsynced temp holding given bytes (passcode change, new vault).
        3. The temp is renamed over the main file: main is the new generation,
           ``.bak`` the last one.
        4. The folder is fsynced so that both renames survive a power cut.

        A crash between any two steps leaves a complete main file and a complete
        ``.bak`` holding the last or the new generation; temps are removed at the
        next open. Whatever subset of the renames survives a power cut, each name
        points at a complete generation that was fsynced before it was renamed.
        """
        tmp_main = self._write_temp(MAIN, blob)
        temps = [tmp_main]
        try:
            if rotate and (self.path / MAIN).exists():
                temps.append(self._link_or_copy_main(previous))
                os.replace(temps[-1], self.path / BAK)
            elif bak is not None:
                temps.append(self._write_temp(BAK, bak))
                os.replace(temps[-1], self.path / BAK)
            os.replace(tmp_main, self.path / MAIN)
        except BaseException:
            for tmp in temps:
                _unlink_quietly(tmp)
            raise
        self._fsync_folder()

    def _link_or_copy_main(self, previous: bytes) -> Path:
        """A new name for the current main file's inode (no data copied, nothing to fsync)."""
        tmp = self._temp_name(BAK)
        try:
            os.link(self.path / MAIN, tmp)
        except OSError as error:
            if error.errno not in _NO_LINK:
                raise
            return self._write_temp(BAK, previous)
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
