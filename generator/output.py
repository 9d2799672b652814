"""Writing files so that nothing half-done is ever seen, and publishing without replacing.

* :func:`write_atomic` replaces a file (a manifest, a schema, an approved golden file): a
  reader sees the old file or the whole new one, never a part.
* :func:`publish` creates a statement's files as one set and never replaces a file: each is
  written and synced under no name, and only when every one of them is complete are they
  given their names, the figures record first, each with a link that fails if the name is
  taken.  If any cannot be written or named, the ones this call named are removed again.
* :func:`locked` makes publishing into an output directory exclusive between processes.

On Linux the data goes to an unnamed file (``O_TMPFILE``), so even ``kill -9`` cannot leave a
partial file.  Elsewhere a named temporary file (``.<name>.<pid>.tmp``) stands in for it.
Every failure is an :class:`OutputError` that names the file meant, never a temporary one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

_UMASK = os.umask(0)
os.umask(_UMASK)


class OutputError(Exception):
    """A file that could not be written (the disk is full, the directory is read-only, ...)."""

    def __init__(self, path: Path, reason: str):
        self.path, self.reason = Path(path), reason
        super().__init__(f"{path}: cannot write ({reason})")


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def make_dirs(directory: Path) -> None:
    try:
        Path(directory).mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(directory, "a file of that name is in the way; expected a directory") from None
    except OSError as exc:
        raise OutputError(Path(exc.filename or directory), _reason(exc)) from None


@dataclass
class _Staged:
    """A complete, synced file that has no name yet (or only a temporary one)."""

    target: Path
    fd: int | None  # an O_TMPFILE file, or None
    tmp: Path | None  # a named temporary file, or None

    def link(self, name: Path | None = None) -> None:
        """Give the file a name (its target's by default); FileExistsError if it is taken."""
        name = name or self.target
        if self.fd is not None:
            _link_unnamed(self.fd, name)
        else:
            assert self.tmp is not None
            os.link(self.tmp, name)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.tmp)
            self.tmp = None


def _link_unnamed(fd: int, name: Path) -> None:
    """Give the ``O_TMPFILE`` file ``fd`` a name: linkat(2) through /proc/self/fd, following
    the link (Python calls linkat, rather than link, only when given a directory fd)."""
    proc = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.link(str(fd), name, src_dir_fd=proc, follow_symlinks=True)
    finally:
        os.close(proc)


def _stage(target: Path, data: bytes) -> _Staged:
    """Write and sync ``data`` to a file in ``target``'s directory that has no name yet."""
    directory = target.parent
    flag = getattr(os, "O_TMPFILE", None)
    fd = None
    if flag is not None and os.path.exists("/proc/self/fd"):
        with contextlib.suppress(OSError):  # a file system without O_TMPFILE: the fallback below
            fd = os.open(directory, flag | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0), 0o666)
    staged = _Staged(target, fd, None)
    try:
        if fd is None:
            fd_named, name = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
            staged.tmp = Path(name)
            os.fchmod(fd_named, 0o666 & ~_UMASK)  # mkstemp makes 0600; a statement is an ordinary file
            _write_all(fd_named, data)
            os.close(fd_named)
        else:
            _write_all(fd, data)
    except BaseException:
        staged.close()
        raise
    return staged


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.fsync(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``, replacing it: a reader sees the old file or the whole new
    one, and a process killed while writing leaves no partial file behind."""
    write_all_atomic([(Path(path), data)])


def write_all_atomic(files: Sequence[tuple[Path, bytes]]) -> None:
    """Write each ``(path, data)``, replacing what is there, only once every one is written and
    synced: a file that cannot be written (a full disk) leaves every path as it was."""
    staged = _stage_all(files)
    try:
        for s in staged:
            _replace(s, s.target)
    finally:
        for s in staged:
            s.close()


def _stage_all(files: Sequence[tuple[Path, bytes]]) -> list[_Staged]:
    """Every file staged (:func:`_stage`), or :class:`OutputError` with none left behind."""
    staged: list[_Staged] = []
    try:
        for path, data in files:
            make_dirs(path.parent)
            try:
                staged.append(_stage(path, data))
            except OSError as exc:
                raise OutputError(path, _reason(exc)) from None
    except BaseException:
        for s in staged:
            s.close()
        raise
    return staged


def _replace(staged: _Staged, path: Path) -> None:
    """Name a staged file ``path``, replacing what is there."""
    try:
        if staged.fd is not None:  # name it beside the target, then rename over the target
            tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)  # left by a killed process that had this pid
            staged.link(tmp)
            staged.tmp = tmp
        assert staged.tmp is not None
        os.replace(staged.tmp, path)
        staged.tmp = None
    except OSError as exc:
        raise OutputError(path, _reason(exc)) from None


class AlreadyPublished(Exception):
    """A file that :func:`publish` was to create exists: someone else published it first."""

    def __init__(self, path: Path):
        self.path = path
        super().__init__(f"{path}: published by another run while this one was writing; nothing was written")


def publish(files: Sequence[tuple[Path, bytes]]) -> None:
    """Create every file of a set of statements, or none of them.  ``files`` come in the order
    they are named: each statement's figures record before its other formats, so that a set
    interrupted by ``kill -9`` still has the record that a statement's missing files can be
    checked against.  No file is ever replaced:
    a name that is taken raises :class:`AlreadyPublished`, and the files this call had named
    are removed again."""
    staged = _stage_all(files)
    named: list[Path] = []
    try:
        for s in staged:
            try:
                s.link()
            except FileExistsError:
                raise AlreadyPublished(s.target) from None
            except OSError as exc:
                raise OutputError(s.target, _reason(exc)) from None
            named.append(s.target)
    except BaseException:
        for path in named:
            with contextlib.suppress(OSError):
                os.unlink(path)
        raise
    finally:
        for s in staged:
            s.close()


def _missing_parents(directory: Path) -> list[Path]:
    """``directory`` and those of its parents that do not exist, deepest first."""
    out = []
    path = Path(directory).absolute()
    while not path.exists() and path != path.parent:
        out.append(path)
        path = path.parent
    return out


def _lock(directory: Path, wait: bool = True) -> int:
    """An fd of ``directory`` holding its publishing lock.  A directory removed and made again
    while this waited is locked anew (the lock is on the directory that is there now).
    ``wait=False``: :class:`OutputError` when another remit holds it."""
    while True:
        make_dirs(directory)
        try:
            fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            raise OutputError(directory, _reason(exc)) from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not wait:
                    os.close(fd)
                    raise OutputError(directory, "another remit is publishing there; run the revision again "
                                                 "once it is done, so that it revises what that one published") from None
                print(f"{directory}: another remit is publishing there; waiting for it to finish", file=sys.stderr)
                fcntl.flock(fd, fcntl.LOCK_EX)
            held = os.fstat(fd)
            now = os.stat(directory)
            if (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):
                return fd
        except FileNotFoundError:  # removed while we waited: lock the one made next
            pass
        except OSError as exc:
            os.close(fd)
            raise OutputError(directory, _reason(exc)) from None
        os.close(fd)


@contextlib.contextmanager
def locked(directory: Path, wait: bool = True) -> Iterator[None]:
    """Hold the exclusive publishing lock of ``directory`` (created if need be): one remit
    at a time decides what is published there and writes it.  The lock is the kernel's
    (``flock`` on the directory itself), so it leaves no file behind and ends with the
    process, however it ends.  A second remit waits, and says so; with ``wait=False`` (a
    revision, which must not be made against files published while it waited) it is refused
    instead.  If the work fails, the directories this made are removed again when they are
    still empty: a refused statement leaves nothing behind."""
    made = _missing_parents(directory)
    fd = _lock(directory, wait)
    try:
        try:  # a directory that cannot take a file (read-only, not ours) is found before any work
            _stage(Path(directory) / ".remit-probe", b"").close()
        except OSError as exc:
            raise OutputError(directory, _reason(exc)) from None
        yield
    except BaseException:
        for path in made:
            try:
                os.rmdir(path)
            except OSError:
                break
        raise
    finally:
        os.close(fd)  # releases the lock


__all__ = ["OutputError", "AlreadyPublished", "write_atomic", "publish", "locked", "make_dirs"]
