"""Seamless tiles (style_plugin/runtime/tiling.py) and the whole-image statistics they share
(style_plugin/runtime/statistics.py): tiled results match the untiled one, at bounded cost."""

from __future__ import annotations

import itertools

import numpy as np
import onnx
import pytest
from PIL import Image

from style_plugin import contract
from style_plugin.bundled import sample_photos_dir
from style_plugin.errors import Cancelled
from style_plugin.runtime.model import StyleModel, load_model
from style_plugin.runtime.pixels import to_batch
from style_plugin.runtime.reach import ALIGN, edge_reach
from style_plugin.runtime.session import open_session
from style_plugin.runtime.statistics import (
    EXACT_LAYERS,
    Infer,
    LayerProbe,
    exact_layer_count,
    whole_image_statistics,
)
from style_plugin.runtime.store import bundled_model_files
from style_plugin.runtime.stylizer import EDGE_MARGIN, Stylizer
from style_plugin.runtime.tiling import (
    THUMBNAIL_SCALE,
    TileSettings,
    stylize_tiled,
    tile_overlap,
    tile_spans,
)
from style_plugin.runtime.truncate import normalised_activation
from tests.support import make_checkpoint, sample_photo

#: `norm_stats_mix` 1: normalise with the given statistics.
ONE = np.ones(1, dtype=np.float32)


def model_run(model: StyleModel, weights: np.ndarray) -> Infer:
    """The whole model on one batch, normalising with the statistics given (if any): what
    `stylize_tiled` and `whole_image_statistics` call, built from the model's session."""
    style_weights = weights[None, :]

    def infer(batch: np.ndarray, stats: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        feeds = {contract.IMAGE: batch, contract.STYLE_WEIGHTS: style_weights}
        if stats is not None:
            feeds |= {contract.NORM_STATS: stats, contract.NORM_STATS_MIX: ONE}
        stylized, own = model.session.run([contract.STYLIZED, contract.IMAGE_NORM_STATS], feeds)
        return stylized, own

    return infer


def layer_probe(model: StyleModel, weights: np.ndarray) -> LayerProbe:
    """The model cut short at each normalisation layer's activation, as
    `whole_image_statistics` takes it."""
    style_weights = weights[None, :]

    def run(batch: np.ndarray, stats: np.ndarray, layer: int) -> np.ndarray:
        output = normalised_activation(model.path, contract.layer_stats_name(layer))
        session = open_session(model.path, model.session.settings, until=output)
        feeds = {
            contract.IMAGE: batch,
            contract.STYLE_WEIGHTS: style_weights,
            contract.NORM_STATS: stats,
            contract.NORM_STATS_MIX: ONE,
        }
        wanted = {name: value for name, value in feeds.items() if name in session.input_names}
        return session.run([output], wanted)[0]

    return LayerProbe(model.layer_channels, run)


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
            out[y : y + tile, x : x + tile] = stylizer.stylize_array(part, strength=1.0)
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
    model = load_model(style_model, device="cpu")
    real = model_run(model, model.style_weights(None))
    _, exact = real(to_batch(rgb), None)
    untiled = stylize_tiled(rgb, real, TileSettings(1024, 32)).astype(np.float32)  # one tile

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
@pytest.mark.parametrize("photo", ["coffee.jpg", "chelsea.jpg"])
def test_runtime_tiling_six_tiles_wide_meets_the_targets(photo):
    """The runtime's own tiling (thumbnail + exact early layers) on the bundled model, at 6
    tiles wide: the thumbnail is 2.4x smaller than the image, where it alone misses and
    eight layers are made exact."""
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
    rows, cols = _tile_borders(512, 128, 32), _tile_borders(768, 128, 32)
    assert _border_step(tiled, rows, cols) <= 1.2 * _border_step(untiled, rows, cols)


@pytest.mark.bundled
@pytest.mark.parametrize("photo", ["coffee.jpg", "chelsea.jpg"])
def test_exact_tiles_six_tiles_wide_give_the_untiled_result(photo):
    """`--exact-tiles` on the bundled model, whose strokes along image borders reach far into
    a tile from its cut edges."""
    rgb = _wide_photo(photo, (768, 512))
    model = bundled_model_files()[0]
    untiled = Stylizer(model, device="cpu", tile_size=768).stylize_array(rgb).astype(np.float32)
    exact = Stylizer(model, device="cpu", tile_size=128, overlap=32, exact_tiles=True)
    assert np.abs(exact.stylize_array(rgb) - untiled).mean() <= 0.1  # on the 0..255 scale


def test_a_far_reduced_thumbnail_gets_twice_the_exact_layers():
    assert exact_layer_count((600, 960), 640, EXACT_LAYERS) == EXACT_LAYERS  # 1.5x
    assert exact_layer_count((600, 964), 640, EXACT_LAYERS) == 2 * EXACT_LAYERS
    assert exact_layer_count((600, 4000), 640, 0) == 0  # the thumbnail alone, as asked
    assert exact_layer_count((600, 4000), 640, None) is None  # every layer


def test_exact_layer_passes_give_the_whole_image_statistics(style_model):
    rgb = np.asarray(sample_photo(200, 150))
    model = load_model(style_model, device="cpu")
    weights = model.style_weights(None)
    infer, probe = model_run(model, weights), layer_probe(model, weights)
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
    # pieces of at most 120 px with the model's reach around them: every layer exact
    reach = edge_reach(infer)
    pieces = whole_image_statistics(rgb, infer, 120, probe, exact_layers=None, reach=reach)
    assert pieces is not None
    np.testing.assert_allclose(pieces, exact, rtol=1e-3, atol=1e-5)


def test_a_cut_edge_changes_nothing_beyond_the_models_reach(style_model):
    infer = model_run(load_model(style_model, device="cpu"), np.array([1.0, 0.0], np.float32))
    reach = edge_reach(infer)
    assert reach % ALIGN == 0 and 0 < reach < 96
    batch = to_batch(_wide_photo("chelsea.jpg", (256, 192)))
    whole, stats = infer(batch, None)
    cut, _ = infer(np.ascontiguousarray(batch[..., :160]), stats)
    change = np.abs(cut - whole[..., :160]).max(axis=(0, 1, 2))  # per column
    assert change[: 160 - reach].max() < 1e-4  # beyond the reach: the uncut result
    assert change[160 - reach :].max() > 1e-3  # within it: the cut shows


@pytest.mark.parametrize("preset", ["fast", "johnson"])
def test_exact_tiles_reproduce_the_untiled_result(preset, tmp_path):
    """Tiles overlap by more than the model's reach and use only what lies beyond it, and the
    exact passes add up only the pieces' cores: every layer's statistics and every pixel
    come out as one untiled run's."""
    from style_plugin.exporters.onnx import export_onnx

    checkpoint = make_checkpoint(tmp_path / f"{preset}.pt", preset=preset)
    path = export_onnx(checkpoint, tmp_path / f"{preset}.onnx").output
    rgb = _wide_photo("chelsea.jpg", (384, 256))
    untiled = Stylizer(path, device="cpu", tile_size=384).stylize_array(rgb).astype(np.float32)
    exact = Stylizer(path, device="cpu", tile_size=128, overlap=32, exact_tiles=True)
    assert np.abs(exact.stylize_array(rgb) - untiled).mean() <= 0.1  # on the 0..255 scale


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
    rgb = np.asarray(sample_photo(200, 150))
    Stylizer(loaded, tile_size=64, overlap=16).stylize_array(
        rgb, progress=lambda done, total: calls.append((done, total))
    )
    overlap = tile_overlap(
        TileSettings(64, 16), edge_reach(model_run(loaded, loaded.style_weights(None)))
    )
    high, wide = 150 + 2 * EDGE_MARGIN, 200 + 2 * EDGE_MARGIN  # the picture mirrored around
    tiles = len(tile_spans(high, 64, overlap)) * len(tile_spans(wide, 64, overlap))
    assert calls[-1] == (tiles + 1, tiles + 1)  # the thumbnail and the tiles, no passes


def test_downscaled_thumbnail_statistics_beat_naive_tiles(style_model):
    with Image.open(sample_photos_dir() / "coffee.jpg") as image:
        rgb = np.asarray(image.convert("RGB").resize((384, 256), Image.Resampling.BILINEAR))
    untiled = Stylizer(style_model).stylize_array(rgb, strength=1.0).astype(np.float32)
    stylizer = Stylizer(style_model, tile_size=128, overlap=32)
    stylizer.tiles = TileSettings(128, 32, thumbnail_side=128)  # 3x down
    tiled = stylizer.stylize_array(rgb, strength=1.0).astype(np.float32)
    naive = _naive_tiles(Stylizer(style_model), rgb, 128).astype(np.float32)
    assert np.abs(tiled - untiled).mean() < 0.75 * np.abs(naive - untiled).mean()


def test_tiling_keeps_16_bit_precision_and_reports_progress(style_model):
    rgb = (np.asarray(sample_photo(200, 150), np.uint16) * 257).astype(np.uint16)
    calls: list[tuple[int, int]] = []
    stylizer = Stylizer(style_model, tile_size=64, overlap=16)
    out = stylizer.stylize_array(rgb, progress=lambda done, total: calls.append((done, total)))
    assert out.dtype == np.uint16 and out.shape == rgb.shape
    assert len(np.unique(out)) > 256 * 4  # not an 8-bit result scaled up
    model = load_model(style_model, device="cpu")
    reach = edge_reach(model_run(model, model.style_weights(None)))
    overlap = tile_overlap(TileSettings(64, 16), reach)
    high, wide = 150 + 2 * EDGE_MARGIN, 200 + 2 * EDGE_MARGIN  # the picture mirrored around
    tiles = len(tile_spans(high, 64, overlap)) * len(tile_spans(wide, 64, overlap))
    # + the thumbnail (160 px) + a pass per exact layer over pieces of at most 160 px, each a
    # core and the model's reach around it: rows and columns in cores of 160 - 2 x reach
    cores = -(-high // (160 - 2 * reach)) * -(-wide // (160 - 2 * reach))
    total = tiles + 1 + exact_layer_count((high, wide), 160, EXACT_LAYERS) * cores
    assert calls == [(i, total) for i in range(1, total + 1)]


def test_cancel_stops_between_tiles(style_model):
    stylizer = Stylizer(style_model, tile_size=64, overlap=16)
    done: list[int] = []
    with pytest.raises(Cancelled):
        stylizer.stylize_array(
            np.asarray(sample_photo(200, 150)),
            progress=lambda d, t: done.append(d),
            cancel=lambda: len(done) >= 2,
        )
    assert done == [1, 2]


def test_an_image_no_bigger_than_its_thumbnail_runs_whole(style_model):
    rgb = np.asarray(sample_photo(90, 60))  # 154 x 124 with the margins: 160 px thumbnail
    calls: list[tuple[int, int]] = []
    tiled = Stylizer(style_model, tile_size=64, overlap=16).stylize_array(
        rgb, progress=lambda done, total: calls.append((done, total))
    )
    assert calls == [(1, 1)]
    np.testing.assert_array_equal(tiled, Stylizer(style_model).stylize_array(rgb))


def test_the_statistics_thumbnail_is_two_and_a_half_tiles(style_model):
    model = load_model(style_model, device="cpu")
    real = model_run(model, np.array([1.0, 0.0], dtype=np.float32))
    shapes: list[tuple[int, int, bool]] = []

    def recording(batch, stats):
        shapes.append((*batch.shape[2:], stats is None))
        return real(batch, stats)

    rgb = np.asarray(sample_photo(400, 300))
    stylize_tiled(rgb, recording, TileSettings(64, 16))
    # the first run is the thumbnail (own statistics), longer side THUMBNAIL_SCALE x 64
    assert THUMBNAIL_SCALE == 2.5 and shapes[0] == (120, 160, True)
    assert all(not own for *_, own in shapes[1:])  # every tile uses the thumbnail's
