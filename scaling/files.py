"""Writing files so that nothing already written is lost: atomic replacement, locks, renames.

- ``replacing(path)`` yields a new file beside ``path`` (mode ``0o666`` less the umask, like any
  file the user creates) that replaces ``path`` in one ``rename`` when the block succeeds; a
  failure or a crash leaves ``path`` as it was. Every output file goes through it.
- ``Lock(path)`` is an exclusive ``flock`` on a lock file, taken without waiting. The file is
  opened with ``O_NOFOLLOW`` and without ``O_TRUNC`` (a symbolic link planted in its place is
  refused, nothing is ever truncated) and removed again when the lock is released. After
  ``flock`` succeeds the path must still name the locked inode (else another process removed
  it meanwhile and the lock is taken again), so removing lock files is safe.
- ``rename_noreplace(src, dst)`` moves a folder to a name that must not exist (create-or-fail,
  no check-then-act) and ``exchange(src, dst)`` swaps two folders, both in one system call
  (Linux ``renameat2`` with ``RENAME_NOREPLACE`` / ``RENAME_EXCHANGE``). Without that call
  (another kernel, or a file system without the flags, e.g. NFS) they fall back to POSIX
  ``rename``, which refuses to move a folder onto anything but an empty folder or nothing, so
  no data can be overwritten either; only the swap is then two renames.
- Temporaries are hidden (``.NAME.<16 hex>.tmp``) and each is locked by its writer while it
  lives; ``clean_stale(folder)`` removes those whose writer is gone (killed, crashed).
- ``os_error(e, path)`` turns an ``OSError`` into the one-line ``ScalingError``.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import re
import secrets
import shutil
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from scaling.errors import ScalingError

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, published separately before Python 3.11
    import tomli as tomllib

LOCK_NAME = ".lock"
STALE_UNLOCKED_S = 60.0  # a temporary folder with no lock file is stale after this long
_TEMP = re.compile(r"^\..+\.[0-9a-f]{16}\.tmp$")
_FIXES = {  # the fix; the system's own message says what went wrong
    errno.ENOSPC: "free space and rerun",
    errno.EDQUOT: "free space (over quota) and rerun",
    errno.EFBIG: "write elsewhere or raise the file-size limit",
    errno.EROFS: "write elsewhere",
    errno.EACCES: "write elsewhere or fix the permissions",
    errno.EPERM: "write elsewhere (an immutable file or folder?)",
    errno.EISDIR: "pass a file path",
    errno.ENOTDIR: "a part of the path is a file; fix the path",
    errno.ENOENT: "fix the path",
    errno.ELOOP: "remove the symbolic link or pass the real path",
    errno.EEXIST: "choose another path",
    errno.ENAMETOOLONG: "choose a shorter path",
    errno.EIO: "check the disk",
}


def os_error(e: OSError, path: str | Path | None = None) -> ScalingError:
    """The one-line error for an ``OSError`` on ``path`` (default: the error's own file name)."""
    where = path if path is not None else (e.filename or "file system")
    what = e.strerror or str(e).splitlines()[0] or type(e).__name__
    return ScalingError(f"{where}: {what}; {_FIXES.get(e.errno, 'check the path and rerun')}")


def read_toml(path: str | Path, what: str) -> dict:
    """The TOML file at ``path``; a one-line error naming it and ``what`` it should hold."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as e:
        raise ScalingError(f"{path}: cannot read it ({e.strerror}); pass {what}") from None
    except tomllib.TOMLDecodeError as e:
        raise ScalingError(f"{path}: not valid TOML ({e}); fix the file") from None


def temp_path(target: Path) -> Path:
    """A fresh hidden temporary name beside ``target``."""
    return target.parent / f".{target.name}.{secrets.token_hex(8)}.tmp"


def new_temp_folder(target: Path) -> Path:
    """Create a fresh hidden temporary folder beside ``target`` (mode 0o777 less the umask)."""
    tmp = temp_path(target)
    os.mkdir(tmp, 0o777)
    return tmp


def make_folder(folder: Path) -> None:
    """Create ``folder`` and its parents as needed; a file in the way is the one-line error."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ScalingError(f"{folder}: a file is in the way of this folder; fix the path") from None


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new entry in ``folder`` durable (where the file system allows)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


# -- locks ----------------------------------------------------------------------------------------
def _try_flock(path: Path, *, create: bool) -> int | None:
    """Open ``path`` (never through a link, never truncating) and lock it without waiting.

    Returns the descriptor, or None when another process holds the lock. Raises
    ``FileNotFoundError`` when the path vanished and ``OSError`` for anything else.
    """
    flags = os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    for _ in range(100):
        fd = os.open(path, flags | (os.O_CREAT if create else 0), 0o666)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise ScalingError(f"{path}: not a lock file (not a regular file); remove it")
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return None
            try:
                now = os.lstat(path)
            except FileNotFoundError:
                now = None
            if now is not None and (now.st_ino, now.st_dev) == (st.st_ino, st.st_dev):
                return fd
            if not create:
                raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
        except BaseException:
            with contextlib.suppress(OSError):
                os.close(fd)
            raise
        os.close(fd)  # removed or replaced between open and flock: take the new one
    raise ScalingError(f"{path}: the lock file keeps changing; stop the other writers")


class Lock:
    """An exclusive lock on ``path`` for one writer; ``busy`` is the error when it is held."""

    def __init__(self, path: Path, busy: str):
        self.path = Path(path)
        self.busy = busy
        self.fd: int | None = None

    def acquire(self) -> Lock:
        try:
            fd = _try_flock(self.path, create=True)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise ScalingError(
                    f"{self.path}: is a symbolic link, not a lock file; remove it"
                ) from None
            if isinstance(e, FileNotFoundError):
                raise
            raise os_error(e, self.path) from None
        if fd is None:
            raise ScalingError(self.busy)
        self.fd = fd
        return self

    def moved(self, path: Path) -> None:
        """The locked file now lives at ``path`` (its folder was renamed)."""
        self.path = Path(path)

    def release(self) -> None:
        """Remove the lock file (if it is still the locked one) and unlock."""
        if self.fd is None:
            return
        fd, self.fd = self.fd, None
        try:
            st, now = os.fstat(fd), os.lstat(self.path)
            if (now.st_ino, now.st_dev) == (st.st_ino, st.st_dev):
                os.unlink(self.path)
        except OSError:
            pass  # gone with its folder, or a read-only folder: the lock still ends below
        finally:
            os.close(fd)

    def __enter__(self) -> Lock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def clean_stale(folder: Path) -> None:
    """Remove hidden temporaries in ``folder`` whose writer is gone.

    A temporary file is locked by its writer, a temporary folder by its ``.lock`` file; one
    whose lock can be taken has no live writer. A folder with no lock file at all is stale once
    older than ``STALE_UNLOCKED_S`` (its writer dies between creating it and locking it)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if not _TEMP.match(entry.name):
            continue
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            if not is_dir and not entry.is_file(follow_symlinks=False):
                continue
            lock = path / LOCK_NAME if is_dir else path
            try:
                fd = _try_flock(lock, create=False)
            except FileNotFoundError:
                age = time.time() - entry.stat(follow_symlinks=False).st_mtime
                if is_dir and age > STALE_UNLOCKED_S:
                    shutil.rmtree(path, ignore_errors=True)
                continue
            if fd is None:
                continue  # a live writer holds it
            try:
                if is_dir:
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.unlink(path)
            finally:
                os.close(fd)
        except (OSError, ScalingError):
            continue  # not ours to judge (permissions, a odd entry): leave it


# -- atomic replacement ---------------------------------------------------------------------------
def _new_temp_file(target: Path) -> tuple[int, Path]:
    """Create and lock a fresh hidden temporary beside ``target``: (descriptor, path)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(100):
        tmp = temp_path(target)
        fd = os.open(tmp, flags, 0o666)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a brand-new file: nobody else holds it
        try:
            now = os.lstat(tmp)
            if (now.st_ino, now.st_dev) == (os.fstat(fd).st_ino, os.fstat(fd).st_dev):
                return fd, tmp
        except FileNotFoundError:
            pass
        os.close(fd)  # a cleaner removed it before we locked it: take another name
    raise ScalingError(f"{target.parent}: cannot keep a temporary file there; rerun")


@contextlib.contextmanager
def replacing(path: str | Path, *, make_parents: bool = True) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces ``path`` atomically when the block succeeds.

    The parent folder is created when missing (``make_parents``). Any ``OSError`` becomes the
    one-line error naming ``path``; on any failure ``path`` is left as it was."""
    path = Path(path)
    try:
        if path.is_dir():
            raise ScalingError(f"{path}: is a folder; pass a file path")
        if make_parents:
            make_folder(path.parent)
        clean_stale(path.parent)
        fd, tmp = _new_temp_file(path)
    except OSError as e:
        raise os_error(e, path) from None
    try:
        with os.fdopen(fd, "wb", closefd=False) as fh:
            yield fh
            fh.flush()
            os.fsync(fd)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise os_error(e, path) from None
        raise
    finally:
        os.close(fd)


def write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see ``replacing``)."""
    with replacing(path) as fh:
        fh.write(data)


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (see ``replacing``)."""
    write_bytes(path, text.encode())


# -- renames --------------------------------------------------------------------------------------
_AT_FDCWD = -100
_RENAME_NOREPLACE, _RENAME_EXCHANGE = 1, 2
try:
    _renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
except (AttributeError, OSError):  # not Linux, or a C library without it
    _renameat2 = None


def _rename2(src: Path, dst: Path, flags: int) -> bool:
    """``renameat2(src, dst, flags)``; False when the system or file system lacks it."""
    if _renameat2 is None:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), flags) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(src), None, str(dst))


def rename_noreplace(src: Path, dst: Path) -> None:
    """Move folder ``src`` to ``dst``, which must not exist: ``FileExistsError`` otherwise."""
    try:
        if _rename2(src, dst, _RENAME_NOREPLACE):
            return
        os.rename(src, dst)  # POSIX: a folder replaces only an empty folder, else this fails
    except OSError as e:
        if e.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dst)) from None
        raise


def exchange(src: Path, dst: Path) -> Path:
    """Put folder ``src`` in place of folder ``dst``; returns where the old ``dst`` now is."""
    if _rename2(src, dst, _RENAME_EXCHANGE):
        return src
    aside = temp_path(dst)
    os.rename(dst, aside)
    try:
        rename_noreplace(src, dst)
    except BaseException:
        os.rename(aside, dst)
        raise
    return aside
