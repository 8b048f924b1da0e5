"""The Debian 13 root that `.ci/gimp3-root` builds, where the GIMP 3 tests run the real GIMP 3
(Debian 12 ships only 2.10): whether it is there, and commands run inside it with this
checkout mounted at /src (its venv has the checkout installed editable from there)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.support import REPO

__all__ = ["ROOT", "VENV_PYTHON", "inside", "mounted", "unavailable"]

ROOT = Path(os.environ.get("STYLE_PLUGIN_GIMP3_ROOT", "/var/cache/style-plugin/gimp3-root"))
#: The root's Python with style-plugin (GIMP's own Python 3.13, in a venv).
VENV_PYTHON = "/opt/style-plugin/bin/python"
_STAMP = ".style-plugin-root"


def unavailable() -> str | None:
    """Why the GIMP 3 tests cannot use the root here, or None when they can."""
    if not sys.platform.startswith("linux"):
        return "the Debian 13 root for GIMP 3 is Linux only"
    if not (ROOT / _STAMP).is_file():
        return f"no Debian 13 root with GIMP 3 at {ROOT} (build it as root: bash .ci/gimp3-root)"
    if os.geteuid() != 0:
        return "running GIMP 3 in the Debian 13 root needs root (chroot, mount)"
    return None


@contextmanager
def mounted() -> Iterator[Path]:
    """/proc, /dev and this checkout (at /src) mounted in the root while the block runs."""
    done: list[Path] = []
    try:
        for options, target in (
            (["-t", "proc", "proc"], ROOT / "proc"),
            (["--bind", "/dev"], ROOT / "dev"),
            (["--bind", str(REPO)], ROOT / "src"),
        ):
            subprocess.run(["mount", *options, str(target)], check=True)
            done.append(target)
        yield ROOT
    finally:
        for target in reversed(done):
            subprocess.run(["umount", "-l", str(target)], check=False)


def inside(command: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """`command` run in the root with only `env` (and a PATH) as its environment."""
    variables = [f"{key}={value}" for key, value in env.items()]
    return [
        "chroot",
        str(ROOT),
        "env",
        "-i",
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        *variables,
        *command,
    ]
