"""`style-plugin stylize` (style_plugin/cli/stylize.py): batches, output naming, bad inputs,
exit codes. The batch runner on its own is test_batch.py; `models` and `doctor`,
test_inventory.py.

Images are small (at most 96 px a side, one 20000x1 strip) and the session-scoped two-style
model is reused, so the whole file runs in seconds on 2 cores.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from style_plugin.runtime.stylizer import Stylizer
from tests.support import assert_one_line_error, leftovers, make_photo, run_cli


def stylize(capsys, model: Path, *args: str) -> tuple[int, str, str]:
    return run_cli(capsys, "stylize", *args, "--model", str(model), "-q")


# --------------------------------------------------------------------------------------------
# Where outputs go


def test_single_file_to_named_file(style_model, tmp_path, capsys):
    photo = make_photo(tmp_path / "photo.png", 72, 56)
    out = tmp_path / "result" / "styled.png"
    code, stdout, _ = stylize(capsys, style_model, photo, "-o", out)
    assert code == 0
    assert "stylized 1 image in" in stdout
    with Image.open(out) as image:
        assert image.size == (72, 56) and image.mode == "RGB"
    assert leftovers(tmp_path) == []


def test_tile_size_and_exact_tiles_reach_the_stylizer(style_model, tmp_path, capsys):
    photo = make_photo(tmp_path / "photo.png", 240, 200)
    out = tmp_path / "exact.png"
    code, _, _ = stylize(
        capsys, style_model, photo, "-o", out, "--tile-size", "64", "--exact-tiles"
    )
    assert code == 0
    stylizer = Stylizer(style_model, device="cpu", tile_size=64, exact_tiles=True)
    with Image.open(photo) as source, Image.open(out) as written:
        rgb, exact = np.asarray(source.convert("RGB")), np.asarray(written)
    np.testing.assert_array_equal(exact, stylizer.stylize_array(rgb))
    plain = Stylizer(style_model, device="cpu", tile_size=64).stylize_array(rgb)
    assert not np.array_equal(plain, exact)  # not what the default tiles give


def test_folder_recursive_mirrors_the_tree(style_model, tree, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, _ = stylize(capsys, style_model, tree, "-o", out, "--recursive")
    assert code == 0, stdout
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert written == ["a.png", "b.png", "sub/c.png", "sub/deeper/d.png"]
    with Image.open(out / "sub" / "c.png") as image:
        assert image.size == (48, 64)
    assert "stylized 4 images" in stdout


def test_folder_without_recursive_takes_only_its_own_files(style_model, tree, tmp_path, capsys):
    out = tmp_path / "out"
    (tree / ".cache").mkdir()  # hidden: never searched, so nothing to tell
    code, _, err = run_cli(capsys, "stylize", tree, "-o", out, "--model", style_model)
    assert code == 0
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == ["a.png", "b.png"]
    note = f"note: {tree}: 1 sub-folder not searched (pass --recursive to look in sub-folders)"
    assert note in err.splitlines(), err
    code, _, err = run_cli(
        capsys, "stylize", tree, "-o", out, "-m", style_model, "-r", "--overwrite"
    )
    assert code == 0 and "not searched" not in err


def test_glob_input_mirrors_below_the_fixed_folders(style_model, tree, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, _ = stylize(capsys, style_model, f"{tree}/**/*.png", "-o", out)
    assert code == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert written == ["a.png", "b.png", "sub/c.png", "sub/deeper/d.png"]


def test_glob_matching_nothing_is_a_reported_failure(style_model, tree, tmp_path, capsys):
    code, stdout, err = stylize(capsys, style_model, f"{tree}/*.png", f"{tree}/*.tga")
    assert code == 1
    assert "*.tga: matches no files" in err
    assert "stylized 2 images" in stdout and "failed 1" in stdout


def test_default_output_is_beside_the_input_with_a_suffix(style_model, tree, capsys):
    code, _, _ = stylize(capsys, style_model, tree / "a.png", tree / "sub" / "c.png")
    assert code == 0
    assert (tree / "a-stylized.png").is_file()
    assert (tree / "sub" / "c-stylized.png").is_file()
    code, _, _ = stylize(capsys, style_model, tree / "b.png", "--suffix", "_v2")
    assert code == 0 and (tree / "b_v2.png").is_file()


def test_format_jpeg_and_quality(style_model, tree, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, _ = stylize(capsys, style_model, tree / "a.png", "-o", f"{out}/", "--format", "jpeg")
    assert code == 0
    code, _, _ = stylize(
        capsys, style_model, tree / "a.png", "-o", out, "--format", "jpg", "--quality", "20",
        "--suffix", "-q20",
    )  # fmt: skip
    assert code == 0
    high, low = out / "a.jpg", out / "a-q20.jpg"
    with Image.open(high) as a, Image.open(low) as b:
        assert a.format == b.format == "JPEG"
        assert a.size == b.size == (96, 80)
    assert low.stat().st_size < high.stat().st_size


def test_an_animation_asked_for_as_a_png_is_its_first_frame_with_a_note(
    style_model, tmp_path, capsys
):
    frames = [Image.new("RGB", (32, 24), color) for color in ("red", "green", "blue")]
    gif = tmp_path / "anim.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100, loop=0)
    out = tmp_path / "anim-stylized.png"
    code, _, err = run_cli(capsys, "stylize", gif, "--model", style_model, "-o", out)
    assert code == 0
    assert f"{gif}: 3 frames; stylized the first only" in err
    with Image.open(tmp_path / "anim-stylized.png") as image:
        assert image.format == "PNG" and image.size == (32, 24)


def test_alpha_comes_back_exactly(style_model, tmp_path, capsys):
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, (40, 56, 4), dtype=np.uint8)
    rgba[:5, :, 3] = 0
    rgba[-5:, :, 3] = 255
    source = tmp_path / "alpha.png"
    Image.fromarray(rgba, "RGBA").save(source)
    out = tmp_path / "alpha-out.png"
    code, _, _ = stylize(capsys, style_model, source, "-o", out)
    assert code == 0
    with Image.open(out) as image:
        assert image.mode == "RGBA"
        assert np.array_equal(np.asarray(image)[..., 3], rgba[..., 3])


def test_two_inputs_mapping_to_one_output_fail_the_second(style_model, tmp_path, capsys):
    make_photo(tmp_path / "x.png", 32, 32)
    Image.open(tmp_path / "x.png").convert("RGB").save(tmp_path / "x.jpg")
    out = tmp_path / "out"
    code, stdout, err = stylize(
        capsys, style_model, tmp_path / "x.png", tmp_path / "x.jpg", "-o", out, "--format", "png"
    )
    assert code == 1
    assert "x.jpg: its output" in err and "also the output of" in err
    assert [p.name for p in out.iterdir()] == ["x.png"]
    assert "stylized 1 image" in stdout and "failed 1" in stdout


def test_output_file_name_with_several_inputs_is_refused(style_model, tree, tmp_path, capsys):
    code, _, err = stylize(capsys, style_model, tree, "-o", tmp_path / "one.png")
    assert_one_line_error(code, err, "names one file", "give a folder")
    assert not (tmp_path / "one.png").exists()


# --------------------------------------------------------------------------------------------
# Existing outputs and inputs


def test_existing_output_fails_that_item_and_the_rest_go_on(style_model, tree, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"keep me")
    code, stdout, err = stylize(capsys, style_model, tree, "-o", out)
    assert code == 1
    assert (
        f"failed: {tree / 'a.png'}: {out / 'a.png'} exists; pass --overwrite or --skip-existing"
        in err
    )
    assert (out / "a.png").read_bytes() == b"keep me"
    assert (out / "b.png").is_file()
    assert "stylized 1 image" in stdout and "failed 1" in stdout


def test_skip_existing_counts_skipped(style_model, tree, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"keep me")
    code, stdout, _ = stylize(capsys, style_model, tree, "-o", out, "--skip-existing")
    assert code == 0
    assert (out / "a.png").read_bytes() == b"keep me"
    assert "stylized 1 image" in stdout and "skipped 1" in stdout


def test_overwrite_replaces(style_model, tree, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"old")
    code, _, _ = stylize(capsys, style_model, tree, "-o", out, "--overwrite")
    assert code == 0
    with Image.open(out / "a.png") as image:
        assert image.size == (96, 80)
    assert leftovers(out) == []


def test_overwrite_and_skip_existing_together_are_refused(style_model, tree, capsys):
    code, _, err = stylize(capsys, style_model, tree, "--overwrite", "--skip-existing")
    assert_one_line_error(code, err, "--overwrite", "--skip-existing")


def test_never_writes_onto_an_input(style_model, tree, capsys):
    photo = tree / "a.png"
    before = photo.read_bytes()
    code, _, err = stylize(capsys, style_model, photo, "-o", photo, "--overwrite")
    assert code == 1
    assert "refusing to write onto the input" in err
    code, _, err = stylize(capsys, style_model, photo, "--suffix", "", "--overwrite")
    assert code == 1
    assert "refusing to write onto the input" in err
    assert photo.read_bytes() == before


# --------------------------------------------------------------------------------------------
# Bad inputs: reported, the rest go on, no partial files


def test_bad_files_are_reported_and_the_rest_are_written(style_model, tree, tmp_path, capsys):
    (tree / "empty.png").write_bytes(b"")
    (tree / "text.jpg").write_text("not a picture")
    data = (tree / "a.png").read_bytes()
    (tree / "corrupt.png").write_bytes(data[:40] + b"\x00" * 200 + data[240:])
    out = tmp_path / "out"
    code, stdout, err = stylize(capsys, style_model, tree, "-o", out)
    assert code == 1
    assert f"failed: {tree / 'empty.png'}: is empty (0 bytes)" in err
    assert f"failed: {tree / 'text.jpg'}: is not an image" in err
    assert f"failed: {tree / 'corrupt.png'}:" in err
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]
    assert "stylized 2 images" in stdout and "failed 3" in stdout
    assert leftovers(tmp_path) == []


def test_missing_input_is_reported(style_model, tree, tmp_path, capsys):
    code, stdout, err = stylize(capsys, style_model, tmp_path / "nope.png", tree / "a.png")
    assert code == 1
    assert f"failed: {tmp_path / 'nope.png'}: no such file or folder" in err
    assert "stylized 1 image" in stdout


def test_non_image_named_explicitly_is_tried_and_reported(style_model, tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    code, _, err = stylize(capsys, style_model, notes)
    assert code == 1
    assert "notes.txt: is not an image Pillow can read" in err


def test_truncated_jpeg_is_reported(style_model, tmp_path, capsys):
    photo = make_photo(tmp_path / "p.png")
    full = tmp_path / "full.jpg"
    Image.open(photo).save(full, quality=95)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    code, _, err = stylize(capsys, style_model, cut, "-o", tmp_path / "out.png")
    assert code == 1
    assert "cut.jpg: is truncated or corrupt" in err
    assert not (tmp_path / "out.png").exists()
    assert leftovers(tmp_path) == []


def test_decompression_bomb_needs_allow_large(style_model, tmp_path, capsys, monkeypatch):
    photo = make_photo(tmp_path / "big.png", 96, 80)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    code, _, err = stylize(capsys, style_model, photo, "-o", tmp_path / "a.png")
    assert code == 1
    assert "decompression-bomb" in err and "--allow-large" in err
    code, _, _ = stylize(capsys, style_model, photo, "-o", tmp_path / "b.png", "--allow-large")
    assert code == 0
    assert Image.MAX_IMAGE_PIXELS == 1000  # the guard is back for everyone else
    monkeypatch.undo()
    with Image.open(tmp_path / "b.png") as image:
        assert image.size == (96, 80)


def test_the_cli_adds_flag_advice_to_runtime_reasons(
    style_model, tree, tmp_path, capsys, monkeypatch
):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = stylize(capsys, style_model, empty)
    assert code == 1
    assert f"failed: {empty}: no image files in it (pass --recursive to look in sub-folders)" in err

    def no_memory(self, *args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(Stylizer, "stylize_source", no_memory)
    code, _, err = stylize(capsys, style_model, tree / "a.png", "-o", tmp_path / "a.png")
    assert code == 1
    assert "a.png: out of memory (try --max-side or a smaller --tile-size)" in err


@pytest.mark.parametrize("size", [(1, 1), (20000, 1)])
def test_tiny_and_extreme_sizes_keep_their_size(style_model, tmp_path, capsys, size):
    source = tmp_path / "odd.png"
    Image.new("RGB", size, (200, 120, 40)).save(source)
    code, _, _ = stylize(capsys, style_model, source, "-o", tmp_path / "odd-out.png")
    assert code == 0
    with Image.open(tmp_path / "odd-out.png") as image:
        assert image.size == size


# --------------------------------------------------------------------------------------------
# Bad options and models: one line, non-zero exit


def test_model_that_is_not_onnx(tmp_path, tree, capsys):
    fake = tmp_path / "fake.onnx"
    fake.write_text("definitely not a protobuf")
    code, _, err = run_cli(capsys, "stylize", tree / "a.png", "--model", fake)
    assert_one_line_error(code, err, "fake.onnx", "not an ONNX model")


def test_onnx_model_lacking_the_contract_inputs(tmp_path, tree, capsys):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "not-a-style-model",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4, 4])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "identity.onnx"
    onnx.save(model, path)
    code, _, err = run_cli(capsys, "stylize", tree / "a.png", "--model", path)
    assert_one_line_error(code, err, "is not a style model", "'image'", "'style_weights'")


def test_unknown_style_lists_the_known_ones(style_model, tree, capsys):
    code, _, err = stylize(capsys, style_model, tree / "a.png", "--style", "mona-lisa")
    assert_one_line_error(code, err, "mona-lisa", "starry-night, the_scream")
    assert not (tree / "a-stylized.png").exists()


def test_unknown_style_among_installed_models(style_model, user_models_dir, tree, capsys):
    user_models_dir.mkdir(parents=True)
    shutil.copy(style_model, user_models_dir / "two.onnx")
    code, _, err = run_cli(capsys, "stylize", tree / "a.png", "--style", "nope")
    assert_one_line_error(code, err, "nope", "starry-night, the_scream")
    code, _, _ = run_cli(capsys, "stylize", tree / "a.png", "--style", "the_scream", "-q")
    assert code == 0 and (tree / "a-stylized.png").is_file()


@pytest.mark.parametrize("value", ["1.5", "-0.1", "nan"])
def test_strength_outside_0_1(style_model, tree, capsys, value):
    code, _, err = stylize(capsys, style_model, tree / "a.png", f"--strength={value}")
    assert_one_line_error(code, err, "--strength", "between 0 and 1")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--format", "gif"], "unknown --format 'gif'"),
        (["--quality", "0", "--format", "jpeg"], "--quality"),
        (["--jobs", "0"], "--jobs"),
        (["--device", "tpu"], "unknown device 'tpu'"),
        (["--max-side", "-1"], "--max-side"),
        (["--tile-size", "8"], "tile size"),
    ],
)
def test_bad_options_give_one_line(style_model, tree, capsys, args, needle):
    code, _, err = stylize(capsys, style_model, tree / "a.png", *args)
    assert_one_line_error(code, err, needle)


def test_style_mix_and_strength_and_colors(style_model, tree, tmp_path, capsys):
    out = tmp_path / "out"
    runs = {
        "pure": ["--style", "starry-night"],
        "mix": ["--style", "starry-night=0.7,the_scream=0.3"],
        "half": ["--style", "starry-night", "--strength", "0.5", "--preserve-colors"],
    }
    for name, extra in runs.items():
        code, _, _ = stylize(capsys, style_model, tree / "a.png", "-o", out / f"{name}.png", *extra)
        assert code == 0
    pure, mix, half = (np.asarray(Image.open(out / f"{n}.png"), dtype=np.int16) for n in runs)
    assert np.abs(pure - mix).mean() > 0.5
    assert np.abs(pure - half).mean() > 0.5


def test_provider_line_comes_first_on_stderr(style_model, tree, capsys):
    code, _, err = run_cli(capsys, "stylize", tree / "a.png", "--model", style_model)
    assert code == 0
    assert err.splitlines()[0].startswith("provider: ")
    assert "libcublas" not in err and "[E:onnxruntime" not in err


def test_exit_codes_through_the_console_script(style_model, tree, tmp_path):
    script = Path(sys.executable).parent / "style-plugin"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "style_plugin"]
    ok = subprocess.run(
        [*command, "stylize", str(tree / "a.png"), "--model", str(style_model), "-q"],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("stylized 1 image")
    bad = subprocess.run(
        [*command, "stylize", str(tmp_path / "missing.png"), "--model", str(style_model), "-q"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1
    assert bad.stderr.strip() == f"failed: {tmp_path / 'missing.png'}: no such file or folder"
    assert "Traceback" not in bad.stderr


# --------------------------------------------------------------------------------------------
# Ctrl-C


def test_ctrl_c_exits_130_and_leaves_no_partial_files(
    style_model, tree, tmp_path, capsys, monkeypatch
):
    original = Stylizer.stylize_source
    calls = []

    def interrupt_second(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Stylizer, "stylize_source", interrupt_second)
    out = tmp_path / "out"
    code, _, err = stylize(capsys, style_model, tree, "-o", out, "-r")
    assert code == 130
    assert "interrupted: stylized 1 image" in err
    assert [p.name for p in out.rglob("*") if p.is_file()] == ["a.png"]
    assert leftovers(tmp_path) == []
