"""Re-runs and what a batch decides before any work: a second run over a folder
leaves its own outputs alone, outputs a format cannot hold fail when planned, one meaning of
`--max-side 0`, output names (unknown extensions, names too long), file names that cannot
forge lines, 16-bit PNGs noted, and JSON commands whose stdout onnxruntime cannot spoil.

Images are tiny and the session-scoped two-style model is reused.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from style_plugin.runtime.inputs import collect_inputs
from style_plugin.runtime.options import BatchOptions
from style_plugin.runtime.outputs import plan_outputs
from style_plugin.runtime.reading import open_image
from style_plugin.runtime.stylizer import Stylizer
from tests.support import assert_one_line_error, make_photo, run_cli


def stylize(capsys, model: Path, *args: object) -> tuple[int, str, str]:
    """`style-plugin stylize ARGS --model MODEL` (not quiet: notes are part of what is checked)."""
    return run_cli(capsys, "stylize", *args, "--model", model)


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def png16(path: Path, color_type: int, width: int = 12, height: int = 10) -> Path:
    """A 16-bit PNG (colour type 2: RGB, 0: grey) written by hand: Pillow cannot write one."""
    channels = {0: 1, 2: 3}[color_type]
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 65536, (height, width * channels), dtype=np.uint16).astype(">u2")
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 16, color_type, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return path


# --------------------------------------------------------------------------------------------
# A second run over the same folder


@pytest.fixture
def album(tmp_path: Path) -> Path:
    """A folder of two photos, stylized once beside themselves (a-stylized.png, ...)."""
    folder = tmp_path / "album"
    make_photo(folder / "a.png", 24, 20, seed=1)
    make_photo(folder / "b.png", 20, 24, seed=2)
    return folder


def test_a_second_run_leaves_its_own_outputs_alone(style_model, album, capsys):
    code, _, _ = stylize(capsys, style_model, album, "-q")
    assert code == 0
    first = files(album)
    assert first == ["a-stylized.png", "a.png", "b-stylized.png", "b.png"]

    code, _, err = stylize(capsys, style_model, album, "-q")
    assert code == 1  # the outputs exist: the same as for any existing output
    assert err.count("-stylized.png exists; pass --overwrite or --skip-existing") == 2
    assert "another input" not in err

    code, out, err = stylize(capsys, style_model, album, "--skip-existing")
    assert code == 0
    assert out.startswith("stylized 0 images") and "skipped 2" in out
    (note,) = [line for line in err.splitlines() if line.startswith("note: ")]
    assert note.startswith("note: left out 2 files named as the output of another input")
    assert str(album / "a-stylized.png") in note and str(album / "b-stylized.png") in note
    assert files(album) == first

    code, out, _ = stylize(capsys, style_model, album, "--overwrite", "-q")
    assert code == 0 and out.startswith("stylized 2 images")
    assert files(album) == first


def test_a_photo_named_like_an_output_is_left_out_only_beside_its_source(
    style_model, tmp_path, capsys
):
    alone = tmp_path / "alone"
    make_photo(alone / "x-stylized.png", 20, 20)
    code, _, err = stylize(capsys, style_model, alone)
    assert code == 0 and "note:" not in err  # its source is not an input: a normal input
    assert files(alone) == ["x-stylized-stylized.png", "x-stylized.png"]

    beside = tmp_path / "beside"
    make_photo(beside / "x.png", 20, 20, seed=1)
    make_photo(beside / "x-stylized.png", 20, 20, seed=2)
    code, _, err = stylize(capsys, style_model, beside, "--skip-existing")
    assert code == 0
    assert f"note: left out a file named as the output of another input (an earlier result?): {beside / 'x-stylized.png'}; to include one, name it on its own" in err.splitlines()  # fmt: skip
    code, _, _ = stylize(capsys, style_model, beside / "x-stylized.png", "-q")
    assert code == 0 and (beside / "x-stylized-stylized.png").is_file()


def test_planning_leaves_out_outputs_of_any_naming_but_not_a_mere_extension_change(tmp_path):
    photos = tmp_path / "photos"
    for name in ("a.png", "out/a.png", "b.jpg", "b.png"):
        make_photo(photos / name, 8, 8)
    into_tree = BatchOptions(output=photos / "out")  # outputs inside the scanned tree
    plans = plan_outputs(collect_inputs([str(photos)], recursive=True), into_tree)
    assert [plan.item.relative.as_posix() for plan in plans] == ["a.png", "b.jpg", "b.png"]
    assert plans.notes == [
        "left out a file named as the output of another input (an earlier result?): "
        f"{photos / 'out' / 'a.png'}; to include one, name it on its own"
    ]
    renamed = BatchOptions(suffix="", format="png")  # b.jpg -> b.png: a conversion, not a run
    plans = plan_outputs(collect_inputs([str(photos)]), renamed)
    assert plans.notes == []
    failed = {plan.item.path.name: plan.error for plan in plans}
    assert failed["b.jpg"] == f"its output {photos / 'b.png'} is another input of this batch"


# --------------------------------------------------------------------------------------------
# What is decided before the work


def test_transparency_into_jpeg_fails_before_the_work(style_model, tmp_path, capsys, monkeypatch):
    rgba = np.full((16, 16, 4), 200, np.uint8)
    rgba[:4, :, 3] = 0
    Image.fromarray(rgba, "RGBA").save(tmp_path / "clear.png")
    make_photo(tmp_path / "solid.png", 16, 16)
    opaque = np.full((16, 16, 4), 255, np.uint8)  # an alpha channel that hides nothing
    Image.fromarray(opaque, "RGBA").save(tmp_path / "opaque.png")
    runs = []
    original = Stylizer.stylize_source

    def counting(self, source, *args, **kwargs):
        runs.append(source.path.name)
        return original(self, source, *args, **kwargs)

    monkeypatch.setattr(Stylizer, "stylize_source", counting)
    out = tmp_path / "out"
    code, stdout, err = stylize(capsys, style_model, tmp_path, "-o", out, "-f", "jpeg", "-q")
    assert code == 1
    assert sorted(runs) == ["opaque.png", "solid.png"]  # clear.png failed before any work
    assert err == (
        f"failed: {tmp_path / 'clear.png'}: JPEG cannot store its transparency; "
        "write it as png, webp or tiff (--format, or the -o name)\n"
    )
    assert files(out) == ["opaque.jpg", "solid.jpg"] and "stylized 2 images" in stdout


def test_max_side_0_is_full_size_as_in_the_filter(style_model, installed, tmp_path, capsys):
    photo = make_photo(tmp_path / "p.png", 40, 30)
    code, _, _ = stylize(capsys, style_model, photo, "--max-side", "0", "-o", tmp_path / "s.png")
    assert code == 0
    code, _, _ = run_cli(capsys, "filter", "stylize", photo, "-p", "max_side=0", "-q")
    assert code == 0
    for name in ("s.png", "p-stylize.png"):
        with Image.open(tmp_path / name) as image:
            assert image.size == (40, 30)
    code, _, err = stylize(capsys, style_model, photo, "--max-side", "-1", "-q")
    assert_one_line_error(code, err, "--max-side", "0 for full size")
    assert Stylizer(style_model).stylize(photo, max_side=0).size == (40, 30)  # and in Python


def test_output_names_a_file_by_its_image_extension(style_model, tmp_path, capsys):
    photo = make_photo(tmp_path / "p.png", 16, 16)
    code, _, err = stylize(capsys, style_model, photo, "-o", tmp_path / "out.xyz", "-q")
    assert_one_line_error(code, err, "-o", "'.xyz' is not an image file extension", "out.xyz/")
    assert not (tmp_path / "out.xyz").exists()
    code, _, _ = stylize(capsys, style_model, photo, "-o", f"{tmp_path / 'out.xyz'}/", "-q")
    assert code == 0 and files(tmp_path / "out.xyz") == ["p.png"]
    code, _, _ = stylize(capsys, style_model, photo, "-o", tmp_path / "plain", "-q")
    assert code == 0 and files(tmp_path / "plain") == ["p.png"]


def test_an_output_name_too_long_fails_only_that_item(style_model, tmp_path, capsys):
    folder = tmp_path / "in"
    long = make_photo(folder / ("n" * 250 + ".png"), 16, 16)  # 254 bytes; its output, 263
    make_photo(folder / "short.png", 16, 16)
    code, out, err = stylize(capsys, style_model, folder, "-q")
    assert code == 1
    assert err == (
        f"failed: {long}: its output's file name would be 263 bytes, over the 255-byte limit\n"
    )
    assert (folder / "short-stylized.png").is_file() and "stylized 1 image" in out


@pytest.mark.skipif(sys.platform == "win32", reason="Windows file names hold no controls")
def test_file_names_cannot_forge_lines(style_model, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "x\nfailed: forged.png: nothing.png").write_bytes(b"not an image")
    png16(folder / "deep\rnote.png", color_type=2)
    code, _, err = stylize(capsys, style_model, folder, "--format", "jpeg")
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 3, err  # the provider, one note, one failure
    assert lines[1] == f"note: {folder}/deep\\rnote.png: 16 bits per channel; JPEG holds 8, so the output has 8 bits per channel"  # fmt: skip
    assert lines[2].startswith(f"failed: {folder}/x\\nfailed: forged.png: nothing.png: ")


def test_16_bit_pngs_stay_16_bit_and_a_narrower_format_is_noted(style_model, tmp_path, capsys):
    rgb, grey = png16(tmp_path / "rgb.png", 2), png16(tmp_path / "grey.png", 0)
    code, _, err = stylize(capsys, style_model, rgb, grey, "-o", tmp_path / "out")
    assert code == 0
    assert not [line for line in err.splitlines() if line.startswith("note: ")]
    assert open_image(tmp_path / "out" / "rgb.png").rgb.dtype == np.uint16
    with Image.open(tmp_path / "out" / "grey.png") as image:
        assert image.mode.startswith("I;16")
    code, _, err = stylize(capsys, style_model, rgb, "-o", tmp_path / "jpeg", "--format", "jpeg")
    assert code == 0
    notes = [line for line in err.splitlines() if line.startswith("note: ")]
    assert notes == [
        f"note: {rgb}: 16 bits per channel; JPEG holds 8, so the output has 8 bits per channel"
    ]


# --------------------------------------------------------------------------------------------
# JSON on stdout, whatever onnxruntime prints

#: Run the CLI with an onnxruntime that prints, as onnxruntime-gpu does where CUDA libraries
#: are missing: from Python and from native code (file descriptor 1), while listing its
#: providers and preloading its GPU libraries.
NOISY_CLI = """
import importlib.machinery, os, sys

def noise():
    print("Failed to load libcublasLt.so.13: cannot open shared object file")
    sys.stdout.flush()
    os.write(1, b"native noise on stdout\\n")
    os.write(2, b"native noise on stderr\\n")

class NoisyOnnxruntime:
    def find_spec(self, name, path=None, target=None):
        if name != "onnxruntime":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            listed = module.get_available_providers

            def get_available_providers():
                noise()
                return listed()

            module.get_available_providers = get_available_providers
            module.preload_dlls = lambda *args, **kwargs: noise()

        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, NoisyOnnxruntime())
from style_plugin.cli import main
main(sys.argv[1:])
"""


@pytest.mark.parametrize("command", ["filters", "models"])
def test_json_commands_print_only_json_whatever_onnxruntime_prints(installed, command):
    result = subprocess.run(
        [sys.executable, "-c", NOISY_CLI, command, "--json"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["filters" if command == "filters" else "styles"]
    assert "noise" not in result.stderr


def test_importing_onnxruntime_through_the_runtime_prints_nothing():
    code = (
        "import importlib.machinery, os, sys\n"
        "class Noisy:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'onnxruntime':\n"
        "            print('python noise at import'); sys.stdout.flush()\n"
        "            os.write(1, b'native noise at import')\n"
        "        return None\n"
        "sys.meta_path.insert(0, Noisy())\n"
        "from style_plugin.runtime.providers import available_providers\n"
        "assert 'CPUExecutionProvider' in available_providers()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
