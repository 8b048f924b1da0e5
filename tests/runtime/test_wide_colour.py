"""16 bits per colour channel: 16-bit colour PNGs and TIFFs are read, stylized and written at
16 bits (runtime/wide_colour.py), with metadata, orientation and alpha as for 8-bit images."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image, ImageCms

from style_plugin.errors import ImageError
from style_plugin.runtime.batch import run_batch
from style_plugin.runtime.inputs import collect_inputs
from style_plugin.runtime.jobs import stylize_job
from style_plugin.runtime.options import BatchOptions
from style_plugin.runtime.outputs import plan_outputs
from style_plugin.runtime.pixels import restore, wide_values
from style_plugin.runtime.reading import open_image, reads_16_bit_colour
from style_plugin.runtime.stylizer import Stylizer
from style_plugin.runtime.writing import save_image

RNG = np.random.default_rng(7)
ORIENTATION = 0x0112
#: PNG colour types by channels: grey and alpha, RGB, RGBA.
_COLOUR_TYPES = {2: 4, 3: 2, 4: 6}


def _values(height: int, width: int, channels: int) -> np.ndarray:
    """Random 16-bit values whose low bytes differ from their high bytes (no 8-bit shortcut)."""
    values = RNG.integers(0, 65536, (height, width, channels), dtype=np.uint16)
    values[0, 0] = [0, 1, 65535, 257][:channels]
    return values


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png16(path: Path, values: np.ndarray, *extra: tuple[bytes, bytes]) -> Path:
    """A 16-bit PNG of HxWxC `values` written by hand (Pillow cannot write one), each row
    with PNG's Sub filter, whose decoding needs the right bytes per pixel; `extra` chunks go
    before the pixels."""
    height, width, channels = values.shape
    rows = values.astype(">u2").reshape(height, -1).view(np.uint8)
    step = 2 * channels  # bytes per pixel
    filtered = rows.copy()
    filtered[:, step:] -= rows[:, :-step]  # wraps around modulo 256, as PNG's Sub filter does
    data = np.hstack([np.ones((height, 1), np.uint8), filtered]).tobytes()
    header = struct.pack(">IIBBBBB", width, height, 16, _COLOUR_TYPES[channels], 0, 0, 0)
    chunks = [_chunk(b"IHDR", header), *(_chunk(kind, body) for kind, body in extra)]
    chunks += [_chunk(b"IDAT", zlib.compress(data)), _chunk(b"IEND", b"")]
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"".join(chunks))
    return path


def tiff16(path: Path, values: np.ndarray, **params: object) -> Path:
    """A 16-bit RGB or RGBA TIFF written by tifffile."""
    alpha = ("unassalpha",) if values.shape[2] == 4 else None
    tifffile.imwrite(path, values, photometric="rgb", extrasamples=alpha, **params)
    return path


def _reread(path: Path) -> np.ndarray:
    """A written file's values: RGB(A) for colour, grey and alpha for grey with alpha."""
    source = open_image(path)
    planes = [source.rgb if source.kind == "rgb" else source.rgb[..., :1]]
    if source.alpha is not None:
        planes.append(source.alpha[..., None])
    assert source.rgb.dtype == np.uint16, f"{path} was read at {source.rgb.dtype}"
    return np.concatenate(planes, axis=2)


# ---- reading ----------------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [3, 4])
def test_16_bit_colour_pngs_are_read_to_the_last_bit(tmp_path, channels):
    values = _values(9, 13, channels)
    source = open_image(png16(tmp_path / "deep.png", values))
    assert (source.kind, source.format, source.rgb.dtype) == ("rgb", "PNG", np.uint16)
    assert np.array_equal(source.rgb, values[..., :3])
    if channels == 4:
        assert source.alpha.dtype == np.uint16 and np.array_equal(source.alpha, values[..., 3])
    else:
        assert source.alpha is None


def test_16_bit_grey_with_alpha_stays_grey_at_16_bits(tmp_path):
    values = _values(7, 5, 2)
    source = open_image(png16(tmp_path / "grey.png", values))
    assert (source.kind, source.rgb.dtype) == ("grey", np.uint16)
    assert np.array_equal(source.rgb, np.repeat(values[..., :1], 3, axis=2))
    assert np.array_equal(source.alpha, values[..., 1])
    assert np.array_equal(
        _reread(save_image(restore(source, source.rgb), tmp_path / "o.png")), values
    )


@pytest.mark.parametrize("compression", [None, "zlib"])  # Pillow's own reader, and libtiff
@pytest.mark.parametrize("channels", [3, 4])
def test_16_bit_colour_tiffs_are_read_to_the_last_bit(tmp_path, channels, compression):
    values = _values(11, 6, channels)
    source = open_image(tiff16(tmp_path / "deep.tif", values, compression=compression))
    assert source.rgb.dtype == np.uint16 and np.array_equal(source.rgb, values[..., :3])
    if channels == 4:
        assert np.array_equal(source.alpha, values[..., 3])


def test_a_transparent_colour_is_matched_at_16_bits(tmp_path):
    values = _values(4, 6, 3)
    key = values[1, 2].copy()
    values[3, 0] = key
    almost = key.copy()
    almost[0] ^= 1  # the same high bytes: an 8-bit comparison would match it too
    values[2, 2] = almost
    transparency = (b"tRNS", struct.pack(">HHH", *key.tolist()))
    source = open_image(png16(tmp_path / "keyed.png", values, transparency))
    expected = np.full((4, 6), 65535, np.uint16)
    expected[1, 2] = expected[3, 0] = 0
    assert np.array_equal(source.alpha, expected)


def test_exif_orientation_turns_16_bit_pixels_too(tmp_path):
    values = _values(4, 6, 3)
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # rotate 90 degrees clockwise to display
    exif[0x010F] = "test camera"
    path = png16(tmp_path / "turned.png", values, (b"eXIf", exif.tobytes()[6:]))
    source = open_image(path)
    assert np.array_equal(source.rgb, np.rot90(values, -1))
    written = save_image(restore(source, source.rgb), tmp_path / "out.png", source=source)
    assert np.array_equal(_reread(written), np.rot90(values, -1))
    with Image.open(written) as reread:
        assert reread.getexif().get(ORIENTATION, 1) == 1
        assert reread.getexif()[0x010F] == "test camera"


def test_the_size_limit_applies_before_16_bit_pixels_are_decoded(tmp_path, monkeypatch):
    path = png16(tmp_path / "big.png", _values(40, 40, 3))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500)  # 1600 > 2 * 500: refused unread
    with pytest.raises(ImageError, match=r"has 1,600 pixels.*--allow-large"):
        open_image(path)
    assert open_image(path, allow_large=True).rgb.dtype == np.uint16


def test_a_truncated_16_bit_png_is_one_clear_line(tmp_path):
    path = png16(tmp_path / "cut.png", _values(60, 80, 4))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match=r"cut\.png is truncated or corrupt: ") as info:
        open_image(path)
    assert "\n" not in str(info.value)


def test_the_header_says_which_files_are_read_at_16_bits(tmp_path):
    assert reads_16_bit_colour(png16(tmp_path / "rgb.png", _values(3, 3, 3)))
    assert reads_16_bit_colour(tiff16(tmp_path / "rgb.tif", _values(3, 3, 4)))
    Image.fromarray(_values(3, 3, 1)[..., 0]).save(tmp_path / "grey.png")  # I;16: Pillow's own
    Image.new("RGB", (3, 3)).save(tmp_path / "narrow.png")
    (tmp_path / "junk.png").write_bytes(b"\x89PNG\r\n\x1a\n junk")
    for name in ("grey.png", "narrow.png", "junk.png", "missing.png"):
        assert not reads_16_bit_colour(tmp_path / name)


# ---- writing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("channels", [3, 4])
def test_16_bit_colour_is_written_at_16_bits_with_its_profile_and_dpi(tmp_path, suffix, channels):
    values = _values(8, 10, channels)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    density = struct.pack(">IIB", 11811, 11811, 1)  # 300 dpi in pixels per metre
    profile = (b"iCCP", b"sRGB\0\0" + zlib.compress(icc))
    path = png16(tmp_path / "in.png", values, profile, (b"pHYs", density))
    source = open_image(path)
    result = restore(source, source.rgb)
    assert result.mode == ("RGBA" if channels == 4 else "RGB")  # what Pillow can hold
    written = save_image(result, tmp_path / f"out{suffix}", source=source)
    assert np.array_equal(_reread(written), values)
    with Image.open(written) as reread:
        assert reread.info["icc_profile"] == icc
        assert np.allclose(reread.info["dpi"], 300, atol=0.01)


@pytest.mark.parametrize("suffix", [".jpg", ".webp"])
def test_formats_of_8_bits_get_the_8_bit_rendering_and_the_plan_says_so(tmp_path, suffix):
    values = _values(8, 10, 3)
    path = png16(tmp_path / "in.png", values)
    source = open_image(path)
    written = save_image(restore(source, source.rgb), tmp_path / f"out{suffix}")
    with Image.open(written) as reread:
        assert reread.mode == "RGB"
    fmt = {".jpg": "jpeg", ".webp": "webp"}[suffix]
    options = BatchOptions(output=tmp_path / "out", format=fmt)
    plan = plan_outputs(collect_inputs([str(path)]), options)
    name = {".jpg": "JPEG", ".webp": "WEBP"}[suffix]
    note = f"{path}: 16 bits per channel; {name} holds 8, so the output has 8 bits per channel"
    assert plan.notes == [note]
    kept = plan_outputs(collect_inputs([str(path)]), BatchOptions(output=tmp_path / "out"))
    assert kept.notes == []  # PNG holds 16 bits


def test_an_image_edited_after_restore_is_written_as_it_now_is(tmp_path):
    source = open_image(png16(tmp_path / "in.png", _values(6, 6, 3)))
    result = restore(source, source.rgb)
    assert wide_values(result) is not None
    result.paste((255, 0, 0), (0, 0, 2, 2))
    assert wide_values(result) is None
    with Image.open(save_image(result, tmp_path / "out.png")) as reread:
        assert reread.mode == "RGB" and reread.getpixel((0, 0)) == (255, 0, 0)
    assert wide_values(restore(source, source.rgb).convert("RGBA")) is None


def test_16_bit_arrays_are_written_at_16_bits(tmp_path):
    values = _values(5, 7, 4)
    source = open_image(values)
    written = save_image(restore(source, source.rgb), tmp_path / "array.png")
    assert np.array_equal(_reread(written), values)


# ---- end to end -------------------------------------------------------------------------------


def test_stylizing_a_16_bit_png_gives_a_16_bit_png(style_model, tmp_path):
    height, width = 48, 64
    ramp = np.linspace(0, 65535, width * height * 3).reshape(height, width, 3).astype(np.uint16)
    path = png16(tmp_path / "in.png", ramp)
    stylizer = Stylizer(style_model)
    image = stylizer.stylize(path, strength=0.5)
    written = save_image(image, tmp_path / "out.png")
    values = _reread(written)
    assert values.shape == (height, width, 3)
    assert np.any(values % 257 != 0)  # not 8-bit values widened: the low bytes carry detail
    expected = stylizer.stylize_array(ramp, strength=0.5)  # the array API, at 16 bits
    assert np.array_equal(values, expected)

    report = run_batch(
        stylize_job(stylizer), collect_inputs([str(path)]), BatchOptions(output=tmp_path / "b")
    )
    assert len(report.done) == 1 and report.notes == []
    assert np.array_equal(_reread(tmp_path / "b" / "in.png"), stylizer.stylize_array(ramp))
