"""The results page, docs/results.md, rewritten section by section by the benchmarks.

A section is everything from `<!-- results:NAME -->` to `<!-- /results:NAME -->`: a heading,
the date, the machine and the command of the run, then its figures. At the end of a run a
benchmark hands its figures to `publish`, which replaces that one section, or appends it when
the page has none of that name, and leaves every other byte of the page as it was.

    report = Report()
    report.table(["way", "images/s"], [("local", "6.45")])  # printed, and kept
    publish(args, report)  # args from a parser given add_arguments(parser, "batch", "Batches")
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS_PAGE = ROOT / "docs" / "results.md"
NAME = re.compile(r"[a-z0-9][a-z0-9.-]*")


def start_marker(name: str) -> str:
    return f"<!-- results:{name} -->"


def end_marker(name: str) -> str:
    return f"<!-- /results:{name} -->"


# --- the machine and the command --------------------------------------------------------------


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (platform's answer elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def gpu_names() -> list[str]:
    """The NVIDIA GPUs `nvidia-smi` lists; none where it is missing or fails."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        listed = subprocess.run(
            [smi, "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in listed.splitlines() if line.strip()]


def describe_machine() -> str:
    """'Intel(R) Xeon(R) Processor, 2 cores, no GPU', or '..., 16 cores, 1x NVIDIA H200'."""
    gpus = gpu_names()
    gpu = ", ".join(f"{gpus.count(n)}x {n}" for n in dict.fromkeys(gpus)) or "no GPU"
    return f"{cpu_model()}, {cpu_cores()} cores, {gpu}"


def describe_command(argv: Sequence[str] | None = None) -> str:
    """This run as a shell line from the repository root: `python benchmarks/NAME.py ARGS`."""
    argv = sys.argv if argv is None else argv
    return shlex.join(["python", f"benchmarks/{Path(argv[0]).name}", *argv[1:]])


# --- sections ---------------------------------------------------------------------------------


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]], left: int = 1) -> str:
    """A markdown table; the first `left` columns are aligned left, the others right."""
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "---|" * left + "---:|" * (len(header) - left))
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


class Report:
    """The figures of one run, in markdown: printed as they come, published at the end."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, text: str, echo: bool = True) -> None:
        if echo:
            print(text, flush=True)
        self.parts.append(text.strip())

    def table(self, header: Sequence[str], rows: Iterable[Sequence[object]], left: int = 1) -> None:
        self.add(markdown_table(header, rows, left))

    @property
    def body(self) -> str:
        return "\n\n".join(self.parts)


def render_section(
    name: str, title: str, body: str, *, date: str, machine: str, command: str
) -> str:
    """One section, markers included, exactly as the page holds it."""
    return "\n".join(
        [
            start_marker(name),
            f"## {title}",
            "",
            f"- date: {date}",
            f"- machine: {machine}",
            f"- command: `{command}`",
            "",
            body.strip(),
            end_marker(name),
        ]
    )


def replace_section(page: str, name: str, section: str) -> str:
    """`page` with its section `name` replaced by `section`, or `section` appended."""
    start = page.find(start_marker(name))
    if start < 0:
        if not page:
            return section + "\n"
        return page + ("" if page.endswith("\n") else "\n") + "\n" + section + "\n"
    end = page.find(end_marker(name), start)
    if end < 0:
        raise ValueError(f"{start_marker(name)} has no {end_marker(name)} after it")
    return page[:start] + section + page[end + len(end_marker(name)) :]


def write_section(
    name: str,
    title: str,
    body: str,
    *,
    page: Path = RESULTS_PAGE,
    date: str | None = None,
    machine: str | None = None,
    command: str | None = None,
) -> None:
    """Replace (or add) section `name` of `page`, stamped with today's date, this machine and
    the command that ran, unless given."""
    sys.path.insert(0, str(ROOT))
    from style_plugin.atomic import atomic_write_text  # here: importing this module stays light

    if not NAME.fullmatch(name):
        raise ValueError(f"section name {name!r}: use lower-case letters, digits, '.' and '-'")
    section = render_section(
        name,
        title,
        body,
        date=date or datetime.date.today().isoformat(),
        machine=machine or describe_machine(),
        command=command or describe_command(),
    )
    old = page.read_text(encoding="utf-8") if page.is_file() else ""
    atomic_write_text(page, replace_section(old, name, section))
    print(f"wrote section {name!r} of {page}", flush=True)


def add_arguments(parser: argparse.ArgumentParser, section: str | None, title: str) -> None:
    """--results, --section and --title: where a run's figures go (`section` None: only when
    named) and under which heading."""
    parser.add_argument(
        "--results",
        default=str(RESULTS_PAGE),
        metavar="PAGE",
        help="results page whose section this run rewrites; 'none' leaves every page alone",
    )
    parser.add_argument(
        "--section",
        default=section,
        metavar="NAME",
        help=f"section of the results page to rewrite (default: {section or 'none'})",
    )
    parser.add_argument("--title", default=title, help=f"the section's heading (default: {title})")


def publish(
    args: argparse.Namespace,
    report: Report,
    *,
    name: str | None = None,
    title: str | None = None,
    **stamp: str | None,
) -> None:
    """Write `report` as section `name` (default: --section) of the --results page, headed
    `title` (default: --title)."""
    name = name or args.section
    if name and args.results != "none":
        page = Path(args.results)
        write_section(name, title or args.title, report.body, page=page, **stamp)
