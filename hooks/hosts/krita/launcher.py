"""A `krita` command in the venv that ran `style-plugin install krita`: Krita without the venv.

A venv's `activate` puts the venv's bin folder first on PATH. Krita's embedded Python takes
the first `python3` on PATH for its own executable, finds the venv's `pyvenv.cfg` beside it
and then reads the venv's packages instead of the system's, where PyQt5 lives: no Python
plug-in loads ("Cannot load the PyKrita module"). So an install run from a venv writes
`krita` into the venv's bin folder, where the shell finds it before the system's Krita while
the venv is active: it starts the system's Krita with every venv's bin folder taken off PATH
and VIRTUAL_ENV and PYTHONHOME unset. The plug-in still imports style-plugin from the venv
(its environment record names the folders). Outside a venv, and on Windows and macOS (where
Krita carries a Python of its own), nothing is written.

The install manifest names the file; an uninstall removes it only when it is this launcher
(`checked`): a file named `krita` beginning with `MARKER`, in a venv's bin folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

from style_plugin.atomic import atomic_path
from style_plugin.hooks.hosts import removal

__all__ = ["MARKER", "NAME", "SCRIPT", "checked", "default_folder", "remove", "write"]

NAME = "krita"
MARKER = "# Starts Krita without a Python virtual environment: written by style-plugin"
SCRIPT = f"""#!/bin/sh
{MARKER}
# (`style-plugin install krita`; `style-plugin install krita --uninstall` removes it).
# With a venv's bin folder first on PATH, Krita's Python would take that venv's python3
# for its own and miss the system's PyQt5: no Python plug-in would load.
here=$(dirname -- "$0")
path=
set -f
IFS=:
for folder in $PATH; do
    if [ -n "$folder" ] && {{ [ -f "$folder/../pyvenv.cfg" ] || [ "$folder" -ef "$here" ]; }}; then
        continue
    fi
    path=${{path:+$path:}}$folder
done
unset IFS
set +f
PATH=$path
export PATH
unset VIRTUAL_ENV VIRTUAL_ENV_PROMPT PYTHONHOME
exec {NAME} "$@"
"""


def default_folder() -> Path | None:
    """Where the launcher goes: the bin folder of the venv running this install, on Linux and
    other Unix; None elsewhere."""
    if sys.platform in ("win32", "darwin") or sys.prefix == sys.base_prefix:
        return None
    return Path(sys.prefix) / "bin"


def write(folder: Path) -> tuple[Path | None, str]:
    """Write the launcher into `folder`; (its path, or None when not written, and the line
    to show). A `krita` there that is not this launcher is kept."""
    target = folder / NAME
    if target.exists() and not _is_launcher(target):
        return None, f"kept {target}: it is not style-plugin's launcher, so {_ADVICE}"
    try:
        with atomic_path(target) as tmp:
            tmp.write_text(SCRIPT, encoding="utf-8")
        target.chmod(0o755)
    except OSError as exc:
        return None, f"could not write {target} ({exc.strerror or exc}), so {_ADVICE}"
    return target, (
        f"wrote {target}: `krita` started where this environment is active runs Krita without it"
    )


_ADVICE = "start Krita from the desktop's menu, or after `deactivate`"


def checked(entry: object) -> Path:
    """The launcher an install manifest names, when it is one; else removal.Refused."""
    path = Path(entry) if isinstance(entry, str) else None
    if path is None or not path.is_absolute() or ".." in path.parts or path.name != NAME:
        raise removal.Refused(f"not an absolute path to a file named {NAME}")
    if not (path.parent.parent / "pyvenv.cfg").is_file():
        raise removal.Refused("not in a Python virtual environment's bin folder")
    if path.exists() and not _is_launcher(path):
        raise removal.Refused("not style-plugin's launcher")
    return path


def remove(path: Path) -> list[str]:
    """Remove the launcher at `path` (checked); the lines to show."""
    if not path.exists():
        return []
    path.unlink()
    return [f"removed {path}"]


def _is_launcher(path: Path) -> bool:
    """Whether `path` is a regular file starting as this launcher does."""
    if path.is_symlink() or not path.is_file():
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SCRIPT))
    except OSError:
        return False
    return head.decode("utf-8", "replace").splitlines()[1:2] == [MARKER]
