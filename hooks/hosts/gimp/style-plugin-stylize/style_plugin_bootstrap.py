"""Find style-plugin from inside GIMP: the environment recorded by `style-plugin install gimp`.

GIMP 3 runs Python plug-ins with the system's Python 3, which knows nothing of the virtual
environment (or user site) where style-plugin and its compiled dependencies live. The
installer writes `ENV_FILE` next to the plug-in (the record every host's plug-in reads,
written by hooks/hosts/environment.py): that environment's Python version and the folders to
put on `sys.path`. Only the standard library is used here, because nothing else
can be imported before `activate` has run.
"""

from __future__ import annotations

import json
import site
import sys
from pathlib import Path

__all__ = ["ENV_FILE", "BootstrapError", "activate", "check_version", "read_environment"]

#: The file the installer writes beside the plug-in script (environment.RECORD_FILE).
ENV_FILE = "environment.json"
_FIX = "run `style-plugin install gimp` again"


class BootstrapError(RuntimeError):
    """The recorded environment is missing, unreadable, or for another Python version."""


def read_environment(path: Path) -> dict:
    """The environment record at `path` (JSON with `python_version` and `sys_path`)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BootstrapError(f"cannot read {path} ({exc}): {_FIX}") from None
    if not isinstance(record.get("sys_path"), list) or "python_version" not in record:
        raise BootstrapError(f"{path} is not a style-plugin environment record: {_FIX}")
    return record


def check_version(record: dict, version_info: tuple[int, ...] = sys.version_info) -> None:
    """Refuse an environment built for another Python: its compiled packages cannot load."""
    running = f"{version_info[0]}.{version_info[1]}"
    if record["python_version"] != running:
        raise BootstrapError(
            f"style-plugin was installed for Python {record['python_version']} "
            f"({record.get('python', 'unknown interpreter')}) but GIMP runs Python {running}: "
            f"{record.get('reinstall', _FIX)}"
        )


def activate(path: Path) -> None:
    """Put the recorded folders first on `sys.path`, processing their .pth files (editable
    installs rely on them), so the recorded numpy wins over an older system one."""
    record = read_environment(path)
    check_version(record)
    before = list(sys.path)
    for folder in record["sys_path"]:
        site.addsitedir(folder)
    added = [entry for entry in sys.path if entry not in before]
    sys.path[:] = added + before
