"""Write files so that readers see either the old file or the complete new one, never a part.

The new file is written under a short temporary name of our own beside the target,
`.style-plugin-XXXXXXXX.part.EXT`, and renamed onto it. A process killed mid-write (kill -9,
power loss) leaves that file behind; the first write into a folder in each process removes
those of ours not modified for `STALE_AFTER_S` seconds, and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

STALE_AFTER_S = 3600.0
"""Age (since the last change) after which a temporary file of ours is a leftover, not a write."""

_TEMP_PREFIX = ".style-plugin-"
_MAX_SUFFIX = 16  # longer suffixes are left off the temporary name, which must stay short
# mkstemp's names: the prefix, 8 random characters from [a-z0-9_], then the suffix.
_TEMP_NAME = re.compile(
    re.escape(_TEMP_PREFIX) + rf"[a-z0-9_]{{8}}\.part(\.[^.]{{1,{_MAX_SUFFIX - 1}}})?"
)

_UMASK_LOCK = threading.Lock()
_CLEANED: set[Path] = set()  # folders this process has already cleaned
_CLEANED_LOCK = threading.Lock()


def _umask() -> int:
    """The process umask, read without changing it where Linux shows it, else set and restored."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    with _UMASK_LOCK:  # os.umask can only be read by setting it; put it straight back
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def _final_mode(target: Path) -> int:
    """Permissions for the new file: those of the file it replaces, else 0o666 less the umask."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_path(target: str | Path, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it onto `target` only if the block succeeds.

    The temporary name is short whatever the target's length (so a target near the 255-byte
    limit still fits) and keeps the target's suffix (up to 16 characters) so that libraries
    choosing a format by extension (Pillow, torch) behave as they would on the real name. The
    result gets the permissions of the file it replaces, or those a plain `open` would give
    (not mkstemp's 0600). Stale temporary files of ours in the folder are removed first.
    """
    target = Path(target)
    if not overwrite and target.exists():
        raise FileExistsError(f"{target} already exists")
    target.parent.mkdir(parents=True, exist_ok=True)
    _clean_once(target.parent)
    suffix = target.suffix if len(target.suffix) <= _MAX_SUFFIX else ""
    fd, tmp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=f".part{suffix}", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, _final_mode(target))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _clean_once(folder: Path) -> None:
    """`_remove_stale_parts(folder)` on this process's first write into `folder` only.

    Once is enough: leftovers come from processes that died, not from this one.
    """
    key = folder.absolute()
    with _CLEANED_LOCK:
        if key in _CLEANED:
            return
        _CLEANED.add(key)
    _remove_stale_parts(folder)


def _remove_stale_parts(folder: Path) -> None:
    """Delete the temporary files of ours in `folder` (regular files named exactly as
    `atomic_path` names them) unchanged for `STALE_AFTER_S`; leave everything else."""
    cutoff = time.time() - STALE_AFTER_S
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if _TEMP_NAME.fullmatch(entry.name) and _older_file(entry, cutoff):
                with contextlib.suppress(OSError):  # gone meanwhile, or not ours to delete
                    os.unlink(entry.path)


def _older_file(entry: os.DirEntry[str], cutoff: float) -> bool:
    """Whether `entry` is a regular file (not a link) last changed before `cutoff`."""
    try:
        return (
            entry.is_file(follow_symlinks=False)
            and entry.stat(follow_symlinks=False).st_mtime < cutoff
        )
    except OSError:
        return False


def atomic_write_text(target: str | Path, text: str) -> None:
    """Replace `target` with `text` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
