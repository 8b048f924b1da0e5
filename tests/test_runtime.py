"""The torch-free runtime: loading style models, providers, the Python API, and tiling."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from PIL import Image

import style_plugin
from style_plugin.bundled import sample_photos_dir
from style_plugin.errors import Cancelled, ModelError, StylePluginError
from style_plugin.runtime.images import to_batch
from style_plugin.runtime.model import load_model, parse_style_mix
from style_plugin.runtime.providers import ProviderReport, explain_cuda_failure
from style_plugin.runtime.session import open_session
from style_plugin.runtime.statistics import EXACT_LAYERS, whole_image_statistics
from style_plugin.runtime.store import bundled_model_files, find_model, list_styles
from style_plugin.runtime.stylizer import Stylizer, _infer, _probe
from style_plugin.runtime.tiling import THUMBNAIL_SCALE, TileSettings, stylize_tiled, tile_spans
from style_plugin.runtime.truncate import truncated_model

# -- loading and the contract ------------------------------------------------------------


def test_load_model_reads_the_metadata(style_model):
    model = load_model(style_model, device="cpu")
    assert model.style_names == ["starry-night", "the_scream"]
    assert [s.label for s in model.styles] == ["Starry Night", "The Scream"]
    assert (model.preset, model.precision, model.min_side) == ("fast", "fp32", 5)
    assert model.tiling and model.format_version == 1
    assert model.training["steps"] == 40 and model.training["seed"] == 3
    meta = model.metadata
    assert meta["provider"] == "cpu" and meta["seamless_tiling"] is True
    assert style_plugin.load_model(style_model).path == style_model  # the public name


def _contract_breaker(path: Path) -> Path:
    """A valid ONNX model that is not a style model: y = Identity(x)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, path)
    return path


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda p: p, "does not exist"),
        (lambda p: (p.write_bytes(b""), p)[1], "is empty (0 bytes)"),
        (lambda p: (p.write_text("not a model"), p)[1], "is not an ONNX model"),
        (lambda p: (p.mkdir(), p)[1], "is a folder"),
        (_contract_breaker, "lacks input 'image', input 'style_weights', output 'stylized'"),
    ],
)
def test_bad_model_files_are_one_line_errors(tmp_path, make, needle):
    path = make(tmp_path / "model.onnx")
    with pytest.raises(ModelError) as info:
        load_model(path)
    assert needle in str(info.value) and "\n" not in str(info.value)
    assert "onnxruntime_src" not in str(info.value)


def test_unsupported_onnx_versions_are_explained(tmp_path):
    path = _contract_breaker(tmp_path / "new.onnx")
    model = onnx.load(path)
    model.ir_version = 99
    onnx.save(model, path)
    with pytest.raises(ModelError, match=r"not an ONNX model .*\(.*IR version"):
        load_model(path)


def test_style_mixes(style_model):
    model = load_model(style_model)
    assert model.style_weights(None).tolist() == [1.0, 0.0]
    assert model.style_weights("the_scream").tolist() == [0.0, 1.0]
    np.testing.assert_allclose(model.style_weights("starry-night=3,the_scream=1"), [0.75, 0.25])
    np.testing.assert_allclose(model.style_weights({"the_scream": 2.0}), [0.0, 1.0])
    assert parse_style_mix(" a = 0.5 , b=0.5") == {"a": 0.5, "b": 0.5}
    with pytest.raises(ModelError, match=r"unknown style 'mosaic'.*starry-night, the_scream"):
        model.style_weights("mosaic")
    for bad in ("a=-1", "a=x", "a=0", "=1", "a,,b"):
        with pytest.raises(ModelError):
            parse_style_mix(bad)


def test_sessions_are_cached_and_reloaded_when_the_file_changes(style_model, tmp_path):
    copy = tmp_path / "copy.onnx"
    shutil.copy(style_model, copy)
    first = open_session(copy)
    assert open_session(copy) is first
    shutil.copy(style_model, copy)  # same bytes, new modification time
    assert open_session(copy) is not first


# -- providers --------------------------------------------------------------------------


def test_cuda_failures_are_explained_in_one_sentence():
    raw = (
        "\x1b[1;31m2026-11-25 [E:onnxruntime:Default, provider_bridge_ort.cc:2458 operator()] "
        "Failed to load library libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: "
        "cannot open shared object file: No such file or directory\x1b[m"
    )
    assert explain_cuda_failure(raw) == (
        "the CUDA and cuDNN libraries onnxruntime-gpu needs are not installed"
    )
    assert explain_cuda_failure("CUDA failure 100: no CUDA-capable device is detected") == (
        "no NVIDIA GPU found"
    )
    odd = explain_cuda_failure("[E:onnxruntime:x] Failed to frobnicate")
    assert odd == "CUDA could not start: Failed to frobnicate"
    report = ProviderReport("auto", "cpu", "no NVIDIA GPU found")
    assert report.describe() == "provider: cpu (cuda not used: no NVIDIA GPU found)"
    assert ProviderReport("cpu", "cpu").describe() == "provider: cpu"


def test_asking_for_cuda_without_a_gpu_falls_back_with_a_reason_and_no_raw_errors(
    style_model, tmp_path
):
    code = (
        "from style_plugin.runtime.model import load_model\n"
        f"m = load_model({str(style_model)!r}, device='cuda')\n"
        "print(m.session.provider.describe())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    if "provider: cuda" in line:
        pytest.skip("this machine has a working CUDA provider")
    assert line.startswith("provider: cpu (cuda not used: ") and line.count("\n") == 0
    assert "[E:onnxruntime" not in result.stderr and "libcublas" not in result.stderr


# -- the Python API ---------------------------------------------------------------------


def _photo(width: int = 96, height: int = 64) -> Image.Image:
    with Image.open(sample_photos_dir() / "chelsea.jpg") as image:
        return image.convert("RGB").resize((width, height), Image.Resampling.BILINEAR)


def test_stylize_takes_paths_pil_images_and_arrays_alike(style_model, tmp_path):
    photo = _photo()
    photo.save(tmp_path / "photo.png")
    by_path = style_plugin.stylize(tmp_path / "photo.png", model=style_model)
    by_pil = style_plugin.stylize(photo, model=style_model)
    by_array = style_plugin.stylize(np.asarray(photo), model=style_model)
    assert by_path.mode == "RGB" and by_path.size == photo.size
    assert np.array_equal(np.asarray(by_path), np.asarray(by_pil))
    assert np.array_equal(np.asarray(by_pil), np.asarray(by_array))
    assert np.abs(np.asarray(by_pil, np.float32) - np.asarray(photo)).mean() > 10  # changed


def test_styles_differ_and_a_mix_lies_between(style_model):
    stylizer = Stylizer(style_model)
    photo = np.asarray(_photo())
    a = stylizer.stylize_array(photo, "starry-night").astype(np.float32)
    b = stylizer.stylize_array(photo, "the_scream").astype(np.float32)
    mix = stylizer.stylize_array(photo, "starry-night=1,the_scream=1").astype(np.float32)
    assert np.abs(a - b).mean() > 5
    assert np.abs(mix - a).mean() < np.abs(b - a).mean()
    assert np.abs(mix - b).mean() < np.abs(b - a).mean()


def test_strength_blends_with_the_original(style_model):
    stylizer = Stylizer(style_model)
    photo = np.asarray(_photo())
    full = stylizer.stylize_array(photo).astype(np.float32)
    assert np.array_equal(stylizer.stylize_array(photo, strength=0.0), photo)
    half = stylizer.stylize_array(photo, strength=0.5).astype(np.float32)
    np.testing.assert_allclose(half, (full + photo) / 2, atol=1.0)
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(StylePluginError, match="strength must be between 0 and 1"):
            stylizer.stylize_array(photo, strength=bad)


def _chroma(rgb: np.ndarray) -> np.ndarray:
    r, g, b = np.moveaxis(rgb.astype(np.float32), -1, 0)
    y = 0.299 * r + 0.587 * g + 0.114 * b
    return np.stack([b - y, r - y])


def test_preserve_colors_keeps_the_photos_colours(style_model):
    stylizer = Stylizer(style_model)
    photo = np.asarray(_photo())
    plain = stylizer.stylize_array(photo)
    kept = stylizer.stylize_array(photo, preserve_colors=True)
    assert (
        np.abs(_chroma(kept) - _chroma(photo)).mean()
        < 0.3 * np.abs(_chroma(plain) - _chroma(photo)).mean()
    )


def test_alpha_greyscale_and_16_bit_keep_their_kind(style_model):
    stylizer = Stylizer(style_model)
    rgba = _photo().convert("RGBA")
    alpha = np.tile(np.arange(96, dtype=np.uint8)[None, :] * 2, (64, 1))
    rgba.putalpha(Image.fromarray(alpha))
    out = stylizer.stylize(rgba)
    assert out.mode == "RGBA" and np.array_equal(np.asarray(out)[..., 3], alpha)
    assert stylizer.stylize(_photo().convert("L")).mode == "L"
    grey16 = Image.fromarray(np.asarray(_photo().convert("L"), np.uint16) * 257)
    out16 = stylizer.stylize(grey16)
    assert out16.mode.startswith("I;16") and np.asarray(out16).max() > 255


@pytest.mark.parametrize("size", [(1, 1), (1, 20000), (7, 5), (3, 300)])
def test_any_size_works_even_below_the_models_minimum(style_model, size):
    height, width = size
    rgb = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    out = Stylizer(style_model).stylize(rgb)
    assert out.size == (width, height)


def test_max_side_scales_down_first(style_model):
    out = Stylizer(style_model).stylize(_photo(96, 64), max_side=48)
    assert out.size == (48, 32)


def test_installed_styles_are_found_by_name(style_model, user_models_dir):
    with pytest.raises(ModelError, match="no style model installed"):
        find_model("the_scream")
    user_models_dir.mkdir()
    shutil.copy(style_model, user_models_dir / "two.onnx")
    (user_models_dir / "broken.onnx").write_text("nope")
    assert find_model("the_scream").path == user_models_dir / "two.onnx"
    with pytest.raises(ModelError, match="known styles: starry-night, the_scream"):
        find_model("mosaic")
    listing = list_styles()
    assert [entry.path.name for entry, _ in listing.models] == ["two.onnx"]
    assert [entry.path.name for entry, _ in listing.broken] == ["broken.onnx"]
    out = style_plugin.stylize(np.asarray(_photo()), style="the_scream")
    assert out.size == (96, 64)


def test_one_stylizer_serves_many_threads(style_model):
    stylizer = Stylizer(style_model, tile_size=64, overlap=16)
    photos = [np.asarray(_photo(80 + 8 * i, 72)) for i in range(4)]
    expected = [stylizer.stylize_array(p, "the_scream") for p in photos]
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        results[i] = stylizer.stylize_array(photos[i], "the_scream")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(np.array_equal(results[i], expected[i]) for i in range(4))


def test_runtime_does_not_import_torch(style_model):
    code = (
        "import sys, numpy as np, style_plugin\n"
        f"style_plugin.stylize(np.zeros((8, 8, 3), np.uint8), model={str(style_model)!r})\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('torch', 'onnx')]\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# -- tiling -----------------------------------------------------------------------------


def test_tile_spans_cover_overlap_and_align():
    assert tile_spans(100, 128, 32) == [(0, 100)]
    assert tile_spans(131, 128, 32) == [(0, 131)]  # within ALIGN-1 of a tile: one run
    for length, tile, overlap in [(300, 128, 32), (1000, 256, 64), (8192, 1024, 128)]:
        spans = tile_spans(length, tile, overlap)
        assert spans[0][0] == 0 and spans[-1][1] == length
        assert all(start % 4 == 0 for start, _ in spans)
        assert all(end - start <= tile + 3 for start, end in spans)
        pairs = itertools.pairwise(spans)
        assert all(b[0] < a[1] and a[1] - b[0] >= overlap - 4 for a, b in pairs)


def _naive_tiles(stylizer: Stylizer, rgb: np.ndarray, tile: int) -> np.ndarray:
    """Independent tiles, no overlap, each normalised with its own statistics."""
    out = np.empty_like(rgb)
    for y in range(0, rgb.shape[0], tile):
        for x in range(0, rgb.shape[1], tile):
            part = np.ascontiguousarray(rgb[y : y + tile, x : x + tile])
            out[y : y + tile, x : x + tile] = stylizer.stylize_array(part)
    return out


def _border_step(image: np.ndarray, rows: list[int], cols: list[int]) -> float:
    """Mean absolute difference between neighbouring pixels across the given borders."""
    image = image.astype(np.float32)
    steps = [np.abs(image[y] - image[y - 1]).mean() for y in rows]
    steps += [np.abs(image[:, x] - image[:, x - 1]).mean() for x in cols]
    return float(np.mean(steps))


def _tile_borders(length: int, tile: int, overlap: int) -> list[int]:
    spans = tile_spans(length, tile, overlap)
    return sorted({s for s, _ in spans[1:]} | {e for _, e in spans[:-1]})


@pytest.mark.parametrize("photo", ["coffee.jpg", "chelsea.jpg"])
def test_tiles_with_whole_image_statistics_match_the_untiled_result(style_model, photo):
    with Image.open(sample_photos_dir() / photo) as image:
        rgb = np.asarray(image.convert("RGB").resize((384, 256), Image.Resampling.BILINEAR))
    untiled = Stylizer(style_model).stylize_array(rgb).astype(np.float32)
    model = load_model(style_model, device="cpu")
    real = _infer(model, model.style_weights(None))
    _, exact = real(to_batch(rgb), None)

    def exact_statistics(batch, stats):  # the whole image's own statistics for every tile
        return real(batch, None if stats is None else exact)

    tiled = stylize_tiled(rgb, exact_statistics, TileSettings(128, 32)).astype(np.float32)
    naive = _naive_tiles(Stylizer(style_model), rgb, 128).astype(np.float32)
    tiled_error = np.abs(tiled - untiled).mean()
    naive_error = np.abs(naive - untiled).mean()
    assert tiled_error <= 3.0  # on the 0..255 scale
    assert naive_error >= 4 * tiled_error
    rows, cols = _tile_borders(256, 128, 32), _tile_borders(384, 128, 32)
    assert _border_step(tiled, rows, cols) <= 1.2 * _border_step(untiled, rows, cols)
    naive_rows, naive_cols = [128], [128, 256]
    assert _border_step(naive, naive_rows, naive_cols) > 1.2 * _border_step(
        untiled, naive_rows, naive_cols
    )


def _wide_photo(name: str, size: tuple[int, int]) -> np.ndarray:
    with Image.open(sample_photos_dir() / name) as image:
        return np.asarray(image.convert("RGB").resize(size, Image.Resampling.BICUBIC))


@pytest.mark.bundled
@pytest.mark.xfail(
    strict=True,
    reason="open: the 2026-12-03 bundled model's bolder strokes put 6-tiles-wide tiling 4.4-5.4 "
    "levels off its untiled result with four exact layers (nine give 2.3-2.9), and even "
    "--exact-tiles 1.3 off (was 0.02); docs/runtime.md",
)
@pytest.mark.parametrize("photo", ["coffee.jpg", "chelsea.jpg"])
def test_runtime_tiling_six_tiles_wide_meets_the_targets(photo):
    """The runtime's own tiling (thumbnail + exact early layers) on the bundled model, at 6
    tiles wide: the thumbnail is 2.4x smaller than the image, where it alone misses."""
    rgb = _wide_photo(photo, (768, 512))
    model = bundled_model_files()[0]
    untiled = Stylizer(model, device="cpu", tile_size=768).stylize_array(rgb).astype(np.float32)
    stylizer = Stylizer(model, device="cpu", tile_size=128, overlap=32)
    tiled = stylizer.stylize_array(rgb).astype(np.float32)
    stylizer.tiles = TileSettings(128, 32, exact_layers=0)
    thumbnail_only = stylizer.stylize_array(rgb).astype(np.float32)
    naive = _naive_tiles(Stylizer(model, device="cpu"), rgb, 128).astype(np.float32)
    error = np.abs(tiled - untiled).mean()
    assert error <= 3.0  # on the 0..255 scale
    assert np.abs(naive - untiled).mean() >= 4 * error
    assert error < 0.7 * np.abs(thumbnail_only - untiled).mean()  # the exact layers matter
    exact = Stylizer(model, device="cpu", tile_size=128, overlap=32, exact_tiles=True)
    assert np.abs(exact.stylize_array(rgb) - untiled).mean() < 0.4 * error  # every layer's
    rows, cols = _tile_borders(512, 128, 32), _tile_borders(768, 128, 32)
    assert _border_step(tiled, rows, cols) <= 1.2 * _border_step(untiled, rows, cols)


def test_exact_layer_passes_give_the_whole_image_statistics(style_model):
    rgb = np.asarray(_photo(200, 150))
    model = load_model(style_model, device="cpu")
    weights = model.style_weights(None)
    infer, probe = _infer(model, weights), _probe(model, weights)
    assert probe is not None and len(probe.channels) == 11  # fast: 2 + 4 x 2 + 1 layers
    _, exact = infer(to_batch(rgb), None)
    _, other = infer(to_batch(_wide_photo("coffee.jpg", (200, 150))), None)
    assert exact is not None and other is not None
    half = exact.shape[1] // 2
    early = sum(probe.channels[:3])
    columns = np.r_[0:early, half : half + early]
    later = np.r_[early:half, half + early : 2 * half]

    def wrong_thumbnail(batch, stats):  # the thumbnail run gives another image's statistics
        return (None, other) if stats is None else infer(batch, stats)

    # one piece, the whole image: layers 0-2 come out exact whatever the thumbnail said
    stats = whole_image_statistics(rgb, wrong_thumbnail, 200, probe, exact_layers=3)
    assert stats is not None
    np.testing.assert_allclose(stats[0, columns], exact[0, columns], atol=1e-5)
    np.testing.assert_array_equal(stats[0, later], other[0, later])
    # 4 x 3 pieces of at most 64 px: only the pixels at the pieces' borders see padding
    thumbnail = whole_image_statistics(rgb, infer, 64, exact_layers=0)
    pieces = whole_image_statistics(rgb, infer, 64, probe, exact_layers=3)
    assert thumbnail is not None and pieces is not None
    thumbnail_error = np.abs(thumbnail[0, columns] - exact[0, columns]).mean()
    assert np.abs(pieces[0, columns] - exact[0, columns]).mean() < 0.2 * thumbnail_error


def test_a_truncated_model_runs_only_what_one_output_needs(style_model):
    full = onnx.load(str(style_model))
    cut = onnx.load_from_string(truncated_model(style_model, "layer_norm_stats_1"))
    assert [o.name for o in cut.graph.output] == ["layer_norm_stats_1"]
    assert len(cut.graph.node) < len(full.graph.node) / 4
    batch = np.random.default_rng(0).random((1, 3, 40, 56), dtype=np.float32)
    feeds = {"image": batch, "style_weights": np.array([[0.3, 0.7]], np.float32)}
    (reference,) = open_session(style_model).run(["layer_norm_stats_1"], feeds)
    cut_session = open_session(style_model, until="layer_norm_stats_1")
    np.testing.assert_allclose(cut_session.run(["layer_norm_stats_1"], feeds)[0], reference)
    with pytest.raises(ValueError, match="no output 'nothing'"):
        truncated_model(style_model, "nothing")


def test_a_model_without_layer_outputs_tiles_with_the_thumbnail_alone(style_model, tmp_path):
    model = onnx.load(str(style_model))
    keep = [o for o in model.graph.output if not o.name.startswith("layer_norm_stats_")]
    del model.graph.output[:]
    model.graph.output.extend(keep)
    older = tmp_path / "older.onnx"
    onnx.save(model, older)
    loaded = load_model(older, device="cpu")
    assert loaded.tiling and loaded.layer_channels == ()
    calls: list[tuple[int, int]] = []
    rgb = np.asarray(_photo(200, 150))
    Stylizer(loaded, tile_size=64, overlap=16).stylize_array(
        rgb, progress=lambda done, total: calls.append((done, total))
    )
    tiles = len(tile_spans(150, 64, 16)) * len(tile_spans(200, 64, 16))
    assert calls[-1] == (tiles + 1, tiles + 1)  # the thumbnail and the tiles, no passes


def test_downscaled_thumbnail_statistics_beat_naive_tiles(style_model):
    with Image.open(sample_photos_dir() / "coffee.jpg") as image:
        rgb = np.asarray(image.convert("RGB").resize((384, 256), Image.Resampling.BILINEAR))
    untiled = Stylizer(style_model).stylize_array(rgb).astype(np.float32)
    stylizer = Stylizer(style_model, tile_size=128, overlap=32)
    stylizer.tiles = TileSettings(128, 32, thumbnail_side=128)  # 3x down
    tiled = stylizer.stylize_array(rgb).astype(np.float32)
    naive = _naive_tiles(Stylizer(style_model), rgb, 128).astype(np.float32)
    assert np.abs(tiled - untiled).mean() < 0.75 * np.abs(naive - untiled).mean()


def test_tiling_keeps_16_bit_precision_and_reports_progress(style_model):
    rgb = (np.asarray(_photo(200, 150), np.uint16) * 257).astype(np.uint16)
    calls: list[tuple[int, int]] = []
    stylizer = Stylizer(style_model, tile_size=64, overlap=16)
    out = stylizer.stylize_array(rgb, progress=lambda done, total: calls.append((done, total)))
    assert out.dtype == np.uint16 and out.shape == rgb.shape
    assert len(np.unique(out)) > 256 * 4  # not an 8-bit result scaled up
    tiles = len(tile_spans(150, 64, 16)) * len(tile_spans(200, 64, 16))
    # + the thumbnail (160 px) + a pass per exact layer over 2 pieces of at most 160 px
    total = tiles + 1 + EXACT_LAYERS * 2
    assert calls == [(i, total) for i in range(1, total + 1)]


def test_cancel_stops_between_tiles(style_model):
    stylizer = Stylizer(style_model, tile_size=64, overlap=16)
    done: list[int] = []
    with pytest.raises(Cancelled):
        stylizer.stylize_array(
            np.asarray(_photo(200, 150)),
            progress=lambda d, t: done.append(d),
            cancel=lambda: len(done) >= 2,
        )
    assert done == [1, 2]


def test_an_image_no_bigger_than_its_thumbnail_runs_whole(style_model):
    rgb = np.asarray(_photo(150, 100))  # 3 x 2 tiles of 64 px, thumbnail side 160
    calls: list[tuple[int, int]] = []
    tiled = Stylizer(style_model, tile_size=64, overlap=16).stylize_array(
        rgb, progress=lambda done, total: calls.append((done, total))
    )
    assert calls == [(1, 1)]
    np.testing.assert_array_equal(tiled, Stylizer(style_model).stylize_array(rgb))


def test_the_statistics_thumbnail_is_two_and_a_half_tiles(style_model):
    model = load_model(style_model, device="cpu")
    real = _infer(model, np.array([1.0, 0.0], dtype=np.float32))
    shapes: list[tuple[int, int, bool]] = []

    def recording(batch, stats):
        shapes.append((*batch.shape[2:], stats is None))
        return real(batch, stats)

    rgb = np.asarray(_photo(400, 300))
    stylize_tiled(rgb, recording, TileSettings(64, 16))
    # the first run is the thumbnail (own statistics), longer side THUMBNAIL_SCALE x 64
    assert THUMBNAIL_SCALE == 2.5 and shapes[0] == (120, 160, True)
    assert all(not own for *_, own in shapes[1:])  # every tile uses the thumbnail's
