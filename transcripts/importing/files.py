"""Finding and reading transcript files safely.

Ingest may run as root on a folder anyone wrote to: it reads only regular files,
follows no symbolic link out of the folder (none at all unless asked), checks the
size before it reads, reads at most parser.MAX_BYTES + 1 bytes, never opens a FIFO or
a device, and no message quotes a file's content."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from . import parser
from .report import FAILED, SKIPPED, FileResult


@dataclass(frozen=True)
class Source:
    """A file to read. `root` is the real path of the folder it was found in (None for a
    file named directly): what it reads must lie inside, whatever links lead there."""

    path: Path
    root: str | None = None


class Unreadable(Exception):
    """A file ingest will not open or read; `reason` never quotes its content."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symbolic link"),
)


def kind_of(mode: int) -> str:
    """What a non-regular file is, in plain words."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _not_regular(mode: int) -> str:
    kind = kind_of(mode)
    return kind if kind == "not a regular file" else f"{kind}, not a regular file"


def _inside(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def collect_files(
    paths: Iterable[str | Path], *, follow_symlinks: bool = False
) -> tuple[list[Source], list[FileResult]]:
    """Files named directly, plus *.txt below named folders, in a stable order; and
    what was refused (FAILED, named directly) or skipped (SKIPPED, found in a folder).

    Only regular files are read: a FIFO would block, a device never ends. Symbolic
    links are not followed (a link to /etc/shadow would be read as root), except a
    folder named on the command line; with follow_symlinks, links are followed when
    they stay inside the folder being ingested (named files: wherever they lead)."""
    files: list[Source] = []
    problems: list[FileResult] = []
    for raw in paths:
        path = Path(raw)
        try:
            st = path.lstat()
        except FileNotFoundError:
            problems.append(FileResult(path, FAILED, reason="no such file or directory"))
            continue
        except OSError as exc:
            problems.append(FileResult(path, FAILED, reason=f"cannot read: {exc.strerror or exc}"))
            continue
        if stat.S_ISLNK(st.st_mode):
            try:
                target = path.stat()
            except OSError:
                problems.append(FileResult(path, FAILED, reason="a symbolic link to nothing (its target is missing)"))
                continue
            if stat.S_ISDIR(target.st_mode):  # a folder named here is the folder to ingest
                _walk(path, os.path.realpath(path), follow_symlinks, files, problems)
            elif not follow_symlinks:
                reason = "a symbolic link; not followed (use --follow-symlinks to read the file it points to)"
                problems.append(FileResult(path, FAILED, reason=reason))
            elif not stat.S_ISREG(target.st_mode):
                problems.append(FileResult(path, FAILED, reason=f"a symbolic link to {_not_regular(target.st_mode)}"))
            else:
                files.append(Source(path))
        elif stat.S_ISDIR(st.st_mode):
            _walk(path, os.path.realpath(path), follow_symlinks, files, problems)
        elif stat.S_ISREG(st.st_mode):
            files.append(Source(path))
        else:
            problems.append(FileResult(path, FAILED, reason=_not_regular(st.st_mode)))
    seen, unique = set(), []
    for source in files:
        if os.path.realpath(source.path) not in seen:
            seen.add(os.path.realpath(source.path))
            unique.append(source)
    return unique, problems


def _walk(folder: Path, root: str, follow_symlinks: bool, files: list[Source], problems: list[FileResult]) -> None:
    """*.txt below `folder`, sorted as paths sort; nothing is opened here, only lstat'ed."""
    found: list[tuple[Path, FileResult | None]] = []
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as entries:
                entries = list(entries)
        except OSError as exc:
            problems.append(FileResult(current, FAILED, reason=f"cannot read the folder: {exc.strerror or exc}"))
            continue
        for entry in entries:
            path = Path(entry.path)
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError:
                continue  # gone since the listing
            if stat.S_ISDIR(mode):
                pending.append(path)
                continue
            is_txt = entry.name.endswith(".txt")
            if not stat.S_ISLNK(mode):
                if is_txt:
                    found.append(
                        (path, None if stat.S_ISREG(mode) else FileResult(path, SKIPPED, reason=_not_regular(mode)))
                    )
                continue
            # A link: reported when it names a transcript or a folder (whose files would be missed).
            try:
                target = path.stat()
            except OSError:
                target = None
            if not is_txt and not (target and stat.S_ISDIR(target.st_mode)):
                continue
            if not follow_symlinks:
                what = "a folder" if target and stat.S_ISDIR(target.st_mode) else "a file"
                reason = f"a symbolic link to {what}; not followed (use --follow-symlinks for links inside the folder)"
            elif target is None:
                reason = "a symbolic link to nothing (its target is missing)"
            elif not _inside(os.path.realpath(path), root):
                reason = "a symbolic link to outside the folder being ingested; not followed"
            elif stat.S_ISDIR(target.st_mode):
                continue  # its target is inside the folder, and read there
            elif not stat.S_ISREG(target.st_mode):
                reason = f"a symbolic link to {_not_regular(target.st_mode)}"
            else:
                found.append((path, None))
                continue
            found.append((path, FileResult(path, SKIPPED, reason=reason)))
    for path, problem in sorted(found, key=lambda item: item[0]):
        if problem:
            problems.append(problem)
        else:
            files.append(Source(path, root))


def read_source(source: Source, *, follow_symlinks: bool = False) -> bytes:
    """The file's bytes, unchanged, or Unreadable. Checked before opening (a FIFO would
    block, a device never ends, a sparse file can claim gigabytes) and again on the open
    file (it may have been swapped since); never more than parser.MAX_BYTES + 1 read."""
    path = source.path
    st = os.stat(path, follow_symlinks=follow_symlinks)
    if stat.S_ISLNK(st.st_mode):
        raise Unreadable("a symbolic link; not followed (use --follow-symlinks)")
    if not stat.S_ISREG(st.st_mode):
        raise Unreadable(_not_regular(st.st_mode))
    if st.st_size > parser.MAX_BYTES:
        raise Unreadable(f"file is {st.st_size} bytes, over the {parser.MAX_BYTES} byte limit")
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= os.O_NOFOLLOW
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Unreadable("a symbolic link; not followed (use --follow-symlinks)") from None
        raise
    try:
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) != (st.st_dev, st.st_ino) or not stat.S_ISREG(opened.st_mode):
            raise Unreadable("the file was replaced while being opened; not read")
        if source.root is not None and not _inside(_real_path(fd, path), source.root):
            raise Unreadable("leads outside the folder being ingested; not read")
        chunks, left = [], parser.MAX_BYTES + 1  # +1: a file that grew past the limit is seen to
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > parser.MAX_BYTES:
        raise Unreadable(f"file is over the {parser.MAX_BYTES} byte limit (it grew while being read)")
    return data


def _real_path(fd: int, path: Path) -> str:
    """Where the open file really is (Linux: /proc/self/fd), whatever links led to it."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return os.path.realpath(path)
