"""What an installer may remove: only what lies in the folders and files it owns.

A manifest in the plug-in folder can be edited by anyone who can write there, so a path read
from one is a request, not an order. `confine` takes it only when it is relative, free of
`..`, starts in something the installer owns, and resolves (symlinks followed) to exactly the
place it names; `refusal` is the one line the user sees for an entry that is not taken.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from pathlib import Path, PurePosixPath, PureWindowsPath

__all__ = ["Refused", "confine", "refusal", "split", "within"]


class Refused(ValueError):
    """A path an installer will not touch; the message says why, in a few words."""


def within(root: Path, relative: PurePosixPath) -> bool:
    """Whether `root / relative` resolves to exactly that place below `root`: no symlink on
    the way (itself included) leads elsewhere."""
    return (root / relative).resolve() == root.resolve() / relative


def confine(root: Path, entry: object, owned: Collection[str]) -> Path:
    """`root / entry` for an `entry` read from a manifest, when it names something below one
    of `owned` (names directly in `root`); else Refused saying why."""
    if not isinstance(entry, str) or not entry.strip():
        raise Refused("not a path")
    relative = PurePosixPath(entry.replace("\\", "/"))
    if relative.is_absolute() or PureWindowsPath(entry).anchor:
        raise Refused("an absolute path")
    if ".." in relative.parts:
        raise Refused("it climbs out with '..'")
    if relative.parts[0] not in owned:
        raise Refused(f"outside what the installer owns in {root} ({', '.join(sorted(owned))})")
    if not within(root, relative):
        raise Refused(f"a symbolic link takes it out of {root}")
    return root / relative


def refusal(entry: object, why: object, source: Path) -> str:
    """The line saying that `entry`, read from `source`, was refused and why (the entry
    quoted, so that a crafted one cannot break the line)."""
    return f"refused {entry!r} from {source}: {why}"


def split(
    entries: Iterable[object], take: Callable[[object], Path], source: Path
) -> tuple[list[Path], list[str]]:
    """The paths `take` accepts among `entries` read from `source`, and one refusal line for
    each entry it raises Refused for."""
    taken, refused = [], []
    for entry in entries:
        try:
            taken.append(take(entry))
        except Refused as why:
            refused.append(refusal(entry, why, source))
    return taken, refused
