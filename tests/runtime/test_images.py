"""The image pipeline: every mode in and out, metadata, bad inputs, atomic saves, colour helpers."""

from __future__ import annotations

import io
import os
import stat
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from style_plugin.errors import ImageError, StylePluginError
from style_plugin.runtime.pixels import (
    blend,
    fit_max_side,
    from_float,
    preserve_colors,
    resize_rgb,
    restore,
    to_float,
)
from style_plugin.runtime.reading import SourceImage, open_image
from style_plugin.runtime.writing import save_image
from tests.support import make_photo

RNG = np.random.default_rng(0)
ORIENTATION = 0x0112


def _photo_array(height: int = 20, width: int = 30) -> np.ndarray:
    return RNG.integers(0, 256, (height, width, 3), dtype=np.uint8)


def _save(image: Image.Image, path: Path, **params) -> Path:
    image.save(path, **params)
    return path


def _srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ---- float conversion helpers ---------------------------------------------------------------


def test_to_float_and_back_is_exact_for_every_8_and_16_bit_value():
    bytes_ = np.arange(256, dtype=np.uint8)
    words = np.arange(65536, dtype=np.uint16)
    assert to_float(bytes_).dtype == np.float32
    assert np.array_equal(from_float(to_float(bytes_), np.uint8), bytes_)
    assert np.array_equal(from_float(to_float(words), np.uint16), words)
    assert to_float(words).max() == 1.0


def test_from_float_rounds_half_to_even_and_clips_and_works_on_slices():
    values = np.array([0.5, 1.5, 2.5, -30.0, 300.0], dtype=np.float32) / 255
    assert from_float(values, np.uint8).tolist() == [0, 2, 2, 0, 255]
    assert from_float(np.array([-0.5, 0.25, 1.5], np.float32), np.float32).tolist() == [0, 0.25, 1]
    rgb = _photo_array(10, 12)
    tile = rgb[2:7:2, 3:9]  # a non-contiguous slice, as tiling passes
    assert np.array_equal(from_float(to_float(tile), np.uint8), tile)


# ---- modes in and out ------------------------------------------------------------------------


def test_rgb_round_trip(tmp_path):
    path = make_photo(tmp_path / "photo.png")
    source = open_image(path)
    expected = np.asarray(Image.open(path))
    assert (source.kind, source.mode, source.format, source.path) == ("rgb", "RGB", "PNG", path)
    assert source.rgb.dtype == np.uint8 and source.alpha is None
    assert np.array_equal(source.rgb, expected)
    assert source.size == (96, 80) and (source.width, source.height) == (96, 80)
    out = restore(source, source.rgb)
    assert out.mode == "RGB" and np.array_equal(np.asarray(out), expected)


def test_rgba_alpha_comes_back_bit_exact(tmp_path):
    rgba = np.dstack([_photo_array(), RNG.integers(0, 256, (20, 30), dtype=np.uint8)])
    rgba[0, :4, 3] = [0, 1, 254, 255]
    path = _save(Image.fromarray(rgba), tmp_path / "in.png")
    source = open_image(path)
    assert source.alpha is not None and np.array_equal(source.alpha, rgba[..., 3])
    out = restore(source, 255 - source.rgb)  # a "stylized" result that differs everywhere
    assert out.mode == "RGBA"
    assert np.array_equal(np.asarray(out)[..., 3], rgba[..., 3])
    assert np.array_equal(np.asarray(out)[..., :3], 255 - rgba[..., :3])
    written = save_image(out, tmp_path / "out.png", source=source)
    assert np.array_equal(np.asarray(Image.open(written))[..., 3], rgba[..., 3])


def test_la_stays_la_with_exact_alpha(tmp_path):
    la = RNG.integers(0, 256, (15, 25, 2), dtype=np.uint8)
    path = _save(Image.fromarray(la), tmp_path / "la.png")
    source = open_image(path)
    assert (source.kind, source.mode) == ("grey", "LA")
    assert np.array_equal(source.rgb, np.repeat(la[..., :1], 3, axis=2))
    out = restore(source, source.rgb)
    assert out.mode == "LA" and np.array_equal(np.asarray(out), la)


def test_l_stays_l_and_colour_results_become_pillow_luminance(tmp_path):
    grey = RNG.integers(0, 256, (15, 25), dtype=np.uint8)
    source = open_image(_save(Image.fromarray(grey), tmp_path / "grey.png"))
    assert source.kind == "grey" and source.rgb.shape == (15, 25, 3)
    identity = restore(source, source.rgb)
    assert identity.mode == "L" and np.array_equal(np.asarray(identity), grey)
    colour = _photo_array(15, 25)
    expected = np.asarray(Image.fromarray(colour).convert("L"))
    assert np.array_equal(np.asarray(restore(source, colour)), expected)


def test_palette_with_transparency_keeps_its_alpha(tmp_path):
    indices = RNG.integers(0, 4, (10, 12), dtype=np.uint8)
    image = Image.fromarray(indices, mode="P")
    image.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9])
    image.info["transparency"] = 2
    path = _save(image, tmp_path / "p.png", transparency=2)
    source = open_image(path)
    assert (source.mode, source.kind) == ("P", "rgb")
    assert np.array_equal(source.alpha, np.where(indices == 2, 0, 255))
    out = restore(source, source.rgb)
    assert out.mode == "RGBA"
    assert np.array_equal(np.asarray(out), np.asarray(Image.open(path).convert("RGBA")))
    gif = open_image(_save(image, tmp_path / "p.gif"))
    assert np.array_equal(gif.alpha, np.where(indices == 2, 0, 255))
    plain = Image.fromarray(indices, mode="P")
    plain.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9])
    assert open_image(plain).alpha is None


def test_cmyk_becomes_rgb(tmp_path):
    cmyk = Image.fromarray(RNG.integers(0, 256, (12, 16, 4), dtype=np.uint8), mode="CMYK")
    path = _save(cmyk, tmp_path / "cmyk.tif")
    source = open_image(path)
    assert (source.mode, source.kind) == ("CMYK", "rgb")
    assert np.array_equal(source.rgb, np.asarray(cmyk.convert("RGB")))
    assert restore(source, source.rgb).mode == "RGB"


def test_cmyk_with_an_unusable_profile_falls_back_and_drops_it():
    cmyk = Image.fromarray(RNG.integers(0, 256, (12, 16, 4), dtype=np.uint8), mode="CMYK")
    cmyk.info["icc_profile"] = _srgb_icc()  # an RGB profile cannot describe CMYK data
    source = open_image(cmyk)
    assert np.array_equal(source.rgb, np.asarray(cmyk.convert("RGB")))
    assert "icc_profile" not in source.info


@pytest.mark.parametrize("mode", ["1", "YCbCr", "HSV", "LAB", "RGBX"])
def test_other_modes_open(mode):
    image = Image.fromarray(_photo_array()).convert(mode if mode != "LAB" else "RGB")
    if mode == "LAB":
        image = Image.new("LAB", (30, 20), (128, 128, 128))
    source = open_image(image)
    assert source.kind == ("grey" if mode == "1" else "rgb")
    assert source.rgb.shape == (20, 30, 3) and source.rgb.dtype == np.uint8
    assert restore(source, source.rgb).mode == ("L" if mode == "1" else "RGB")


def test_16_bit_grey_png_round_trips_exactly(tmp_path):
    values = RNG.integers(0, 65536, (9, 11), dtype=np.uint16)
    values[0, :4] = [0, 1, 257, 65535]
    path = _save(Image.fromarray(values), tmp_path / "deep.png")
    source = open_image(path)
    assert source.mode.startswith("I;16") and source.kind == "grey"
    assert source.rgb.dtype == np.uint16 and np.array_equal(source.rgb[..., 1], values)
    out = restore(source, source.rgb)
    assert out.mode == "I;16" and np.array_equal(np.asarray(out), values)
    reread = Image.open(save_image(out, tmp_path / "out.png", source=source))
    assert np.array_equal(np.asarray(reread).astype(np.uint16), values)


def test_big_endian_16_bit_grey_is_read_natively():
    values = np.array([[1, 300], [65535, 4096]], dtype=">u2")
    image = Image.frombytes("I;16B", (2, 2), values.tobytes())
    source = open_image(image)
    assert source.rgb.dtype == np.dtype(np.uint16) and source.rgb[..., 0].tolist() == [
        [1, 300],
        [65535, 4096],
    ]


def test_mode_i_within_16_bits_becomes_i16_and_other_ranges_scale_back():
    small = RNG.integers(0, 65536, (6, 7)).astype(np.int32)
    source = open_image(Image.fromarray(small))
    assert source.rgb.dtype == np.uint16 and source.value_range is None
    assert np.array_equal(np.asarray(restore(source, source.rgb)), small)

    wide = RNG.integers(-100_000, 300_000, (6, 7)).astype(np.int32)
    source = open_image(Image.fromarray(wide))
    assert source.rgb.dtype == np.float32 and source.value_range == (wide.min(), wide.max())
    assert source.rgb.min() == 0 and source.rgb.max() == 1
    out = restore(source, source.rgb)
    assert out.mode == "I" and np.array_equal(np.asarray(out), wide)


def test_mode_f_in_unit_range_passes_through_and_others_scale_back():
    unit = RNG.random((6, 7), dtype=np.float32)
    source = open_image(Image.fromarray(unit))
    assert (source.kind, source.rgb.dtype, source.value_range) == ("grey", np.float32, None)
    out = restore(source, source.rgb)
    assert out.mode == "F" and np.array_equal(np.asarray(out), unit)

    depth = (unit * 40 - 10).astype(np.float32)
    source = open_image(Image.fromarray(depth))
    assert source.value_range is not None
    assert np.allclose(np.asarray(restore(source, source.rgb)), depth, atol=1e-5)
    with pytest.raises(ImageError, match="NaN"):
        open_image(Image.fromarray(np.full((2, 2), np.nan, np.float32)))


def test_restore_converts_other_result_dtypes_and_checks_the_shape(tmp_path):
    source = open_image(make_photo(tmp_path / "p.png"))
    assert np.array_equal(np.asarray(restore(source, to_float(source.rgb))), source.rgb)
    with pytest.raises(ValueError, match="shape"):
        restore(source, source.rgb[:10])


def test_16_bit_and_float_colour_arrays_come_back_as_8_bit_rgb():
    deep = RNG.integers(0, 65536, (5, 6, 4), dtype=np.uint16)
    source = open_image(deep)
    assert (source.mode, source.kind, source.rgb.dtype) == ("RGBA", "rgb", np.uint16)
    out = restore(source, source.rgb)
    assert out.mode == "RGBA"
    assert np.array_equal(np.asarray(out), from_float(to_float(deep), np.uint8))


def test_alpha_on_16_bit_grey_becomes_8_bit_la():
    grey = np.repeat(np.array([[0, 65535]], np.uint16)[..., None], 3, axis=2)
    source = SourceImage(grey, np.array([[0, 65535]], np.uint16), "I;16", "grey")
    out = restore(source, source.rgb)
    assert out.mode == "LA" and np.asarray(out).tolist() == [[[0, 0], [255, 255]]]


# ---- metadata ---------------------------------------------------------------------------------


def _oriented_jpeg(path: Path) -> Path:
    """40 wide x 20 high, left half red; EXIF says: rotate 90 degrees clockwise to display."""
    pixels = np.zeros((20, 40, 3), np.uint8)
    pixels[:, :20] = (255, 0, 0)
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0x010F] = "test camera"
    Image.fromarray(pixels).save(path, exif=exif.tobytes(), quality=95)
    return path


def test_exif_orientation_is_applied_and_reset(tmp_path):
    source = open_image(_oriented_jpeg(tmp_path / "rotated.jpg"))
    assert source.size == (20, 40)
    red = source.rgb[..., 0].astype(int)
    assert red[:20].mean() > 200 and red[20:].mean() < 50  # left half is now on top
    exif = Image.Exif()
    exif.load(source.info["exif"])
    assert exif.get(ORIENTATION, 1) == 1 and exif[0x010F] == "test camera"
    written = save_image(restore(source, source.rgb), tmp_path / "out.jpg", source=source)
    with Image.open(written) as reread:
        assert reread.size == (20, 40)
        assert reread.getexif().get(ORIENTATION, 1) == 1
        assert reread.getexif()[0x010F] == "test camera"


def test_pil_input_is_transposed_without_changing_the_callers_image(tmp_path):
    with Image.open(_oriented_jpeg(tmp_path / "rotated.jpg")) as image:
        source = open_image(image)
        assert image.size == (40, 20)
    assert source.size == (20, 40) and source.format == "JPEG" and source.path is None


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif", ".webp"])
def test_icc_profile_and_dpi_survive_restore_and_save(tmp_path, suffix):
    icc = _srgb_icc()
    path = _save(
        Image.fromarray(_photo_array()), tmp_path / "in.png", icc_profile=icc, dpi=(300, 300)
    )
    source = open_image(path)
    assert source.info["icc_profile"] == icc and np.allclose(source.info["dpi"], 300, atol=0.01)
    written = save_image(restore(source, source.rgb), tmp_path / f"out{suffix}", source=source)
    with Image.open(written) as reread:
        assert reread.info["icc_profile"] == icc
        if suffix != ".webp":  # WebP stores no DPI
            assert np.allclose(reread.info["dpi"], 300, atol=0.01)


def _grey_icc() -> bytes:
    """The smallest grey display profile LittleCMS parses: a v4 header and no tags."""
    header = bytearray(132)
    header[0:4] = len(header).to_bytes(4, "big")
    header[8:24] = bytes([4, 0x30, 0, 0]) + b"mntrGRAYXYZ "
    header[36:40] = b"acsp"
    return bytes(header)


def test_a_grey_profile_is_not_put_on_rgb_webp(tmp_path):
    fake_grey_profile = _grey_icc()
    image = Image.fromarray(RNG.integers(0, 256, (8, 8), dtype=np.uint8))
    image.info["icc_profile"] = fake_grey_profile
    with Image.open(save_image(image, tmp_path / "grey.webp")) as reread:
        assert "icc_profile" not in reread.info
    with Image.open(save_image(image, tmp_path / "grey.png")) as reread:
        assert reread.info["icc_profile"] == fake_grey_profile


# ---- bad inputs -------------------------------------------------------------------------------


def test_missing_directory_and_empty_files_are_clear_errors(tmp_path):
    with pytest.raises(ImageError, match=r"^no such file: .*nothing\.png$"):
        open_image(tmp_path / "nothing.png")
    with pytest.raises(ImageError, match="is a directory"):
        open_image(tmp_path)
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(ImageError, match=r"empty.jpg is empty \(0 bytes\)$"):
        open_image(tmp_path / "empty.jpg")
    (tmp_path / "notes.png").write_text("not an image at all\n")
    with pytest.raises(ImageError, match=r"notes\.png is not an image Pillow can read$"):
        open_image(str(tmp_path / "notes.png"))
    assert issubclass(ImageError, StylePluginError)


def test_truncated_jpeg_is_reported(tmp_path):
    path = tmp_path / "cut.jpg"
    Image.fromarray(RNG.integers(0, 256, (200, 240, 3), dtype=np.uint8)).save(path, quality=90)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match=r"cut\.jpg is truncated or corrupt: .*truncated") as info:
        open_image(path)
    assert "\n" not in str(info.value)


def test_decompression_bomb_warning_and_error_become_clear_errors(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    warned = _save(Image.new("RGB", (40, 40)), tmp_path / "warned.png")  # 1600 > 1000
    bomb = _save(Image.new("RGB", (50, 50)), tmp_path / "bomb.png")  # 2500 > 2 * 1000
    for path, pixels in ((warned, "1,600"), (bomb, "2,500")):
        with pytest.raises(ImageError, match=f"has {pixels} pixels.*--allow-large"):
            open_image(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no DecompressionBombWarning escapes either
        assert open_image(bomb, allow_large=True).size == (50, 50)
        assert open_image(warned, allow_large=True).size == (40, 40)
    assert Image.MAX_IMAGE_PIXELS == 1000
    with pytest.raises(ImageError, match="1,600 pixels"):
        open_image(warned)


def test_a_jpeg_is_decoded_small_for_a_small_draft_side(tmp_path):
    path = tmp_path / "big.jpg"
    Image.fromarray(_photo_array(1500, 2400)).save(path, quality=80)
    drafted = open_image(path, draft_side=500)
    assert drafted.size == (600, 375)  # 1/4 scale: the smallest that keeps a 500 px long side
    assert fit_max_side(drafted, 500).size == fit_max_side(open_image(path), 500).size
    assert open_image(path, draft_side=3000).size == (2400, 1500)
    png = _save(Image.fromarray(_photo_array(100, 160)), tmp_path / "big.png")
    assert open_image(png, draft_side=20).size == (160, 100)  # only JPEG decodes smaller


def test_animated_gif_gives_its_first_frame(tmp_path):
    frames = [Image.new("RGB", (8, 6), colour) for colour in ("red", "lime", "blue")]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50)
    source = open_image(path)
    assert source.frames_dropped == 2
    assert source.rgb[0, 0].tolist() == [255, 0, 0]
    assert open_image(make_photo(tmp_path / "still.png")).frames_dropped == 0


@pytest.mark.parametrize("size", [(1, 1), (20000, 1), (1, 20000)])
def test_tiny_and_extreme_aspect_images_open(tmp_path, size):
    source = open_image(_save(Image.new("RGB", size, (10, 20, 30)), tmp_path / "odd.png"))
    assert source.size == size and source.rgb.shape == (size[1], size[0], 3)


# ---- numpy input ------------------------------------------------------------------------------


def test_numpy_inputs():
    grey = open_image(RNG.integers(0, 256, (4, 5), dtype=np.uint8))
    assert (grey.kind, grey.mode, grey.rgb.shape) == ("grey", "L", (4, 5, 3))
    deep = open_image(RNG.integers(0, 65536, (4, 5, 3), dtype=np.uint16))
    assert (deep.kind, deep.rgb.dtype, deep.alpha) == ("rgb", np.uint16, None)
    values = RNG.random((4, 5, 4))
    floats = open_image(values)
    assert floats.rgb.dtype == np.float32 and floats.alpha.dtype == np.float32
    assert np.allclose(floats.alpha, values[..., 3])
    assert open_image(values[..., 0].astype(np.float32)).mode == "F"
    array = RNG.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    source = open_image(array)
    array[:] = 0
    assert source.rgb.any()  # a copy: the caller's array is theirs to change


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((4, 5), np.int32), "dtype int32"),
        (np.zeros((4, 5, 2), np.uint8), r"shape \(4, 5, 2\)"),
        (np.zeros((1, 4, 5, 3), np.uint8), "shape"),
        (np.zeros((0, 5), np.uint8), "shape"),
        (np.full((2, 2), 1.5), r"\[0, 1\]"),
        (np.full((2, 2), np.nan, np.float32), r"\[0, 1\]"),
        (np.zeros((2, 2), bool), "dtype bool"),
    ],
)
def test_numpy_rejections(array, message):
    with pytest.raises(ImageError, match=message):
        open_image(array)


def test_other_inputs_are_a_type_error():
    with pytest.raises(TypeError, match="int"):
        open_image(3)  # type: ignore[arg-type]


# ---- saving -----------------------------------------------------------------------------------


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path):
    out = tmp_path / "out"
    written = save_image(Image.fromarray(_photo_array()), out / "a.png")
    assert written == out / "a.png" and _files(out) == ["a.png"]
    with pytest.raises(ImageError, match=r"cannot write .*b\.bmp as BMP: cannot write mode LA"):
        save_image(Image.new("LA", (4, 4)), out / "b.bmp")
    assert _files(out) == ["a.png"]


def test_save_refuses_existing_targets_and_the_source(tmp_path):
    path = make_photo(tmp_path / "in.png")
    original = path.read_bytes()
    source = open_image(path)
    image = restore(source, 255 - source.rgb)
    target = save_image(image, tmp_path / "out.png")
    with pytest.raises(ImageError, match=r"out.png exists; pass --overwrite to replace it$"):
        save_image(image, target)
    assert save_image(image, target, overwrite=True) == target
    (tmp_path / "link.png").symlink_to(path)
    for onto in (path, tmp_path / "sub" / ".." / "in.png", tmp_path / "link.png"):
        with pytest.raises(ImageError, match="refusing to write onto the input"):
            save_image(image, onto, source=source, overwrite=True)
    assert path.read_bytes() == original


def test_saved_files_get_ordinary_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        written = save_image(Image.fromarray(_photo_array()), tmp_path / "out.png")
    finally:
        os.umask(old)
    assert stat.S_IMODE(written.stat().st_mode) == 0o644
    written.chmod(0o640)
    save_image(Image.fromarray(_photo_array()), written, overwrite=True)
    assert stat.S_IMODE(written.stat().st_mode) == 0o640


def test_jpeg_refuses_real_transparency_and_drops_opaque_alpha(tmp_path):
    rgba = np.dstack([_photo_array(), np.full((20, 30), 255, np.uint8)])
    with Image.open(save_image(Image.fromarray(rgba), tmp_path / "opaque.jpg")) as reread:
        assert reread.mode == "RGB"
    rgba[3, 4, 3] = 254
    with pytest.raises(ImageError, match="JPEG cannot store transparency"):
        save_image(Image.fromarray(rgba), tmp_path / "clear.jpg")
    la = Image.fromarray(np.full((4, 4, 2), 255, np.uint8))
    with Image.open(save_image(la, tmp_path / "grey.jpg")) as reread:
        assert reread.mode == "L"
    assert _files(tmp_path) == ["grey.jpg", "opaque.jpg"]


def test_quality_and_format_choice(tmp_path):
    image = Image.fromarray(RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    low = save_image(image, tmp_path / "low.jpg", quality=20)
    default = save_image(image, tmp_path / "default.jpg")
    high = save_image(image, tmp_path / "high.jpg", quality=95)
    assert low.stat().st_size < high.stat().st_size
    assert default.read_bytes() == high.read_bytes()
    webp_low = save_image(image, tmp_path / "low.webp", quality=10)
    webp_high = save_image(image, tmp_path / "high.webp", quality=90)
    assert webp_low.stat().st_size < webp_high.stat().st_size
    forced = save_image(image, tmp_path / "picture.out", format="jpg")
    with Image.open(forced) as reread:
        assert reread.format == "JPEG"
    with pytest.raises(ImageError, match=r"suffix '\.xyz'; use \.png, \.jpg"):
        save_image(image, tmp_path / "picture.xyz")
    with pytest.raises(ImageError, match="unknown image format 'nope'"):
        save_image(image, tmp_path / "picture.png", format="nope")
    with pytest.raises(ValueError, match="quality"):
        save_image(image, tmp_path / "q.jpg", quality=0)


def test_high_bit_grey_is_adapted_to_the_format(tmp_path):
    deep = Image.fromarray(np.array([[0, 257, 32896, 65535]], np.uint16))
    with Image.open(save_image(deep, tmp_path / "deep.jpg")) as reread:
        assert reread.mode == "L"
        assert np.abs(np.asarray(reread).astype(int) - [0, 1, 128, 255]).max() <= 1
    floats = Image.fromarray(np.array([[0.0, 0.5, 1.0]], np.float32))
    with Image.open(save_image(floats, tmp_path / "floats.png")) as reread:
        assert reread.mode.startswith("I;16")
        assert np.asarray(reread).astype(int).tolist() == [[0, 32768, 65535]]
    with Image.open(save_image(floats, tmp_path / "floats.tif")) as reread:
        assert reread.mode == "F" and np.asarray(reread).tolist() == [[0.0, 0.5, 1.0]]


# ---- colour helpers and resizing --------------------------------------------------------------


def test_blend_is_exact_at_both_ends():
    original = RNG.random((5, 6, 3), dtype=np.float32)
    stylized = RNG.random((5, 6, 3), dtype=np.float32)
    assert np.array_equal(blend(original, stylized, 0.0), original)
    assert np.array_equal(blend(original, stylized, 1), stylized)
    quarter = blend(original, stylized, 0.25)
    assert quarter.dtype == np.float32
    assert np.allclose(quarter, original + 0.25 * (stylized - original), atol=1e-6)
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="strength"):
            blend(original, stylized, bad)


def _ycbcr(rgb: np.ndarray) -> np.ndarray:
    matrix = np.array(
        [[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]]
    )
    return rgb.astype(np.float64) @ matrix.T


def test_preserve_colors_takes_luminance_from_stylized_and_chroma_from_original():
    original = RNG.uniform(0.3, 0.7, (8, 9, 3)).astype(np.float32)
    stylized = np.clip(original + RNG.uniform(-0.2, 0.2, (8, 9, 3)), 0, 1).astype(np.float32)
    result = preserve_colors(original, stylized)
    assert result.dtype == np.float32 and result.shape == original.shape
    assert np.allclose(_ycbcr(result)[..., 0], _ycbcr(stylized)[..., 0], atol=1e-5)
    assert np.allclose(_ycbcr(result)[..., 1:], _ycbcr(original)[..., 1:], atol=1e-5)
    extreme = preserve_colors(np.zeros((2, 2, 3), np.float32), np.ones((2, 2, 3), np.float32))
    assert extreme.min() >= 0 and extreme.max() <= 1


def test_fit_max_side_scales_down_only(tmp_path):
    rgba = np.dstack([_photo_array(60, 100), np.full((60, 100), 77, np.uint8)])
    source = open_image(rgba)
    small = fit_max_side(source, 50)
    assert small.size == (50, 30) and small.alpha.shape == (30, 50)
    assert np.all(small.alpha == 77) and small.rgb.dtype == np.uint8
    assert small.mode == source.mode and source.size == (100, 60)
    for limit in (None, 0, 100, 500):  # None and 0: full size
        assert fit_max_side(source, limit) is source
    deep = open_image(RNG.integers(0, 65536, (40, 10, 3), dtype=np.uint16))
    assert (
        fit_max_side(deep, 8).rgb.shape == (8, 2, 3)
        and fit_max_side(deep, 8).rgb.dtype == np.uint16
    )
    with pytest.raises(ValueError, match="max_side"):
        fit_max_side(source, -1)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_resize_rgb_keeps_dtype_and_flat_colours(dtype):
    top = {np.uint8: 255, np.uint16: 65535, np.float32: 1.0}[dtype]
    flat = np.empty((30, 40, 3), dtype)
    flat[...] = np.array([0.2, 0.5, 1.0]) * top
    resized = resize_rgb(flat, (13, 7))
    assert resized.shape == (7, 13, 3) and resized.dtype == dtype
    assert np.allclose(resized.astype(float), flat[0, 0].astype(float), atol=top * 1e-3)
    noisy = to_float(np.asarray(Image.fromarray(_photo_array(30, 40))))
    shrunk = resize_rgb(noisy.astype(np.float32), (10, 10))
    assert shrunk.min() >= 0 and shrunk.max() <= 1
    with pytest.raises(ValueError, match="HxWx3"):
        resize_rgb(flat[..., 0], (5, 5))


def test_source_image_is_a_plain_dataclass():
    rgb = np.zeros((2, 3, 3), np.uint8)
    source = SourceImage(rgb, None, "RGB", "rgb")
    assert (source.height, source.width, source.info, source.frames_dropped) == (2, 3, {}, 0)


def test_in_memory_png_without_path(tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(_photo_array()).save(buffer, "PNG")
    buffer.seek(0)
    with Image.open(buffer) as image:
        source = open_image(image)
    assert source.path is None and source.format == "PNG" and source.size == (30, 20)
