"""Imports run one way: each room of the package uses only the rooms below it, and nothing
imports the repository's folders by their own names (the wheel has only `style_plugin`).

Read from the source with `ast`, every import counts, those inside functions too; those
under `if TYPE_CHECKING:` never run and only name types, so they do not.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import REPO

#: The repository's folders and the import names they install as (pyproject.toml).
FOLDERS = {"style_plugin": "style_plugin", "exporters": "style_plugin.exporters"}
FOLDERS["hooks"] = "style_plugin.hooks"

#: Each room and its floor: a room imports only from its own and lower floors' rooms, and
#: never from another room on its own floor.
FLOORS = {
    "core": 0,  # contract, errors, plugin manager and hook specs, the package's face
    "models": 1,
    "runtime": 1,
    "training": 2,
    "video": 2,  # clips and frame sequences, on the runtime
    "distributed": 3,  # batches and clips on a Ray cluster
    "exporters": 3,
    "hooks": 4,  # filters and the built-in plugin
    "hosts": 5,
    "workflows": 5,
    "cli": 6,
}
#: The rooms the issue of layering is about: the engine, which never reaches up.
ENGINE = ("core", "models", "runtime", "training")


def module_name(path: Path) -> str:
    """The import name of a source file of the repository."""
    relative = path.relative_to(REPO).with_suffix("")
    parts = [*FOLDERS[relative.parts[0]].split("."), *relative.parts[1:]]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def room(module: str) -> str:
    """The room a module of the package lives in."""
    parts = module.split(".")
    if module == "style_plugin.__main__":
        return "cli"  # `python -m style_plugin` is the command line's door
    if parts[1:3] == ["hooks", "hosts"]:
        return "hosts"
    return parts[1] if len(parts) > 1 and parts[1] in FLOORS else "core"


def package_files() -> Iterator[Path]:
    """The package's Python modules (the editors' own plug-in files are not imported by it)."""
    for folder in FOLDERS:
        for path in sorted((REPO / folder).rglob("*.py")):
            if "pykrita" not in path.parts and "style-plugin-stylize" not in path.parts:
                yield path


def imports(tree: ast.AST) -> Iterator[str]:
    """Every module an AST imports, outside `if TYPE_CHECKING:` blocks; for `from A import B`
    both A and A.B (B may be a submodule)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (name for child in node.orelse for name in imports(child))
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        yield from imports(node)


@functools.cache
def arrows() -> list[tuple[str, str, str]]:
    """(importing module, its room, imported room) for every import between rooms."""
    found = []
    for path in package_files():
        source = module_name(path)
        for name in imports(ast.parse(path.read_text(encoding="utf-8"))):
            if name.split(".")[0] == "style_plugin" and name != "style_plugin":
                target = room(name)
                if target != room(source):
                    found.append((source, room(source), target))
    return found


def test_every_room_is_known():
    assert {room(module_name(path)) for path in package_files()} == set(FLOORS)


@pytest.mark.parametrize("upper", ["exporters", "hooks", "hosts", "workflows", "cli"])
def test_the_engine_never_imports_the_outer_rooms(upper):
    reaching_up = [(m, r) for m, r, target in arrows() if r in ENGINE and target == upper]
    assert not reaching_up


def test_imports_run_one_way():
    """Down only, or within a room: so the rooms' graph has no circle."""
    wrong = sorted(
        (module, source, target)
        for module, source, target in arrows()
        if FLOORS[target] >= FLOORS[source]
    )
    assert not wrong


def test_video_stands_on_the_core_and_the_runtime_only():
    """Clips and frame sequences stylize as images do: no training, no torch on the way."""
    assert {target for _, source, target in arrows() if source == "video"} <= {"core", "runtime"}
    torch_users = [
        path.name
        for path in sorted((REPO / "style_plugin" / "video").glob("*.py"))
        if any(name.split(".")[0] == "torch" for name in imports(ast.parse(path.read_text())))
    ]
    assert not torch_users


@pytest.mark.parametrize("folder", ["style_plugin", "exporters", "hooks", "tests", "benchmarks"])
def test_nothing_imports_the_folders_by_their_repository_names(folder):
    """`hooks` and `exporters` are folders here but not import names: the wheel installs
    them as style_plugin.hooks and style_plugin.exporters."""
    generic = []
    for path in sorted((REPO / folder).rglob("*.py")):
        for name in imports(ast.parse(path.read_text(encoding="utf-8"))):
            if name.split(".")[0] in ("hooks", "exporters"):
                generic.append(f"{path.relative_to(REPO)}: {name}")
    assert not generic


def test_image_files_are_opened_only_by_the_runtimes_opener():
    """One opener (runtime/reading.py) holds the allowed formats and the decompression-bomb
    guard: no other module of the package calls Pillow's `Image.open`."""
    reader = REPO / "style_plugin" / "runtime" / "reading.py"
    opened_elsewhere = [
        str(path.relative_to(REPO))
        for path in package_files()
        if path != reader and "Image.open(" in path.read_text()
    ]
    assert opened_elsewhere == []
