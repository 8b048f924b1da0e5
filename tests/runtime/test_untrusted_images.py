"""Untrusted images: only the formats style-plugin reads are decoded, temporary files
stay short and do not pile up, Pillow's warnings become per-file notes, ICC profiles must fit."""

from __future__ import annotations

import os
import struct
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import EpsImagePlugin, Image, ImageCms

from style_plugin.atomic import atomic_path, atomic_write_text
from style_plugin.errors import DataError, ImageError
from style_plugin.runtime import colour_profiles
from style_plugin.runtime.batch import run_batch
from style_plugin.runtime.inputs import collect_inputs
from style_plugin.runtime.options import BatchOptions
from style_plugin.runtime.pixels import restore
from style_plugin.runtime.reading import SourceImage, open_image
from style_plugin.runtime.report import BatchEvents
from style_plugin.runtime.writing import save_image
from style_plugin.training.data import load_image, scan_content_folder
from tests.support import make_photo

HOUR = 3600


def _eps_named_png(path: Path) -> Path:
    """An EPS file (what Pillow hands to Ghostscript) under an innocent image name."""
    Image.new("RGB", (40, 40), "red").save(path, format="EPS")
    return path


@pytest.fixture
def no_ghostscript(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every call Pillow makes to Ghostscript, which is then not run."""
    calls: list[object] = []

    def fake_ghostscript(*args: object, **kwargs: object) -> None:
        calls.append(args)
        raise RuntimeError("Ghostscript was run")

    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", fake_ghostscript)
    return calls


# ---- 1. only the formats style-plugin reads ----------------------------------------------------


def test_an_eps_named_png_is_refused_before_ghostscript_runs(tmp_path, no_ghostscript):
    path = _eps_named_png(tmp_path / "photo.png")
    with pytest.raises(
        ImageError, match=r"photo\.png is in EPS format, which style-plugin"
    ) as info:
        open_image(path)
    assert "\n" not in str(info.value) and no_ghostscript == []


def test_the_training_loader_refuses_an_eps_named_png(tmp_path, no_ghostscript):
    make_photo(tmp_path / "photos" / "a.png")
    eps = _eps_named_png(tmp_path / "photos" / "b.png")
    scan = scan_content_folder(tmp_path / "photos", min_side=8)
    assert scan.paths == [tmp_path / "photos" / "a.png"]
    assert dict(scan.skipped)[eps].startswith("is in EPS format, which style-plugin")
    with pytest.raises(DataError, match=r"style image .*b\.png: is in EPS format"):
        load_image(eps)
    assert no_ghostscript == []


def test_a_format_without_a_signature_is_named_by_its_suffix(tmp_path):
    path = tmp_path / "scan.tga"
    Image.new("RGB", (8, 8), "blue").save(path)
    with pytest.raises(ImageError, match=r"scan\.tga is in TGA format, which style-plugin"):
        open_image(path)


@pytest.mark.parametrize(
    ("name", "params", "expected"),
    [
        ("a.png", {}, "PNG"),
        ("a.jpg", {}, "JPEG"),
        ("a.webp", {}, "WEBP"),
        ("a.tif", {}, "TIFF"),
        ("a.bmp", {}, "BMP"),
        ("a.gif", {}, "GIF"),
        ("a.jpg", {"format": "MPO", "save_all": True}, "MPO"),  # cameras' multi-picture JPEG
    ],
)
def test_every_format_the_runtime_documents_still_opens(tmp_path, name, params, expected):
    image = Image.new("RGB", (12, 10), (200, 100, 50))
    if params.get("save_all"):
        params["append_images"] = [Image.new("RGB", (12, 10))]
    image.save(tmp_path / name, **params)
    source = open_image(tmp_path / name)
    assert source.format == expected and source.size == (12, 10)
    assert load_image(tmp_path / name).shape == (3, 10, 12)


def test_a_name_with_a_newline_is_shown_escaped_and_the_reason_is_kept(tmp_path):
    path = tmp_path / "bad\nname.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not a PNG after all")
    shown = str(path).replace("\n", "\\n")
    with pytest.raises(ImageError) as info:
        open_image(path)
    assert str(info.value) == f"{shown} is not an image Pillow can read"

    def identity(source: SourceImage, progress: object, cancel: object) -> Image.Image:
        return restore(source, source.rgb)

    options = BatchOptions(output=tmp_path / "out")
    report = run_batch(identity, collect_inputs([str(path)]), options)
    [(failed, reason)] = report.failed
    assert failed == path and "\n" not in reason
    assert reason.endswith("is not an image Pillow can read")


# ---- 2. temporary names near the 255-byte limit ---------------------------------------------


def test_temporary_names_stay_short_for_names_near_the_limit(tmp_path):
    longest = tmp_path / ("a" * 251 + ".png")  # 255 bytes: the longest name a folder holds
    written = save_image(Image.new("RGB", (4, 4)), longest)
    assert written.is_file() and sorted(p.name for p in tmp_path.iterdir()) == [longest.name]
    with atomic_path(tmp_path / "out.png") as tmp:
        assert tmp.name.startswith(".style-plugin-") and tmp.name.endswith(".part.png")
        assert len(tmp.name) < 40
    long_suffix = tmp_path / ("x." + "e" * 250)  # the suffix alone would not fit twice
    atomic_write_text(long_suffix, "kept")
    assert long_suffix.read_text() == "kept"


# ---- 3. what a killed write left behind -------------------------------------------------------


def _aged(path: Path, seconds: float) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)
    return path


def test_stale_temporary_files_of_ours_are_removed_on_the_next_write(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    stale = out / ".style-plugin-k9x_2abc.part.png"
    stale.write_bytes(b"half a PNG")
    _aged(stale, 2 * HOUR)
    fresh = out / ".style-plugin-abcd1234.part.png"  # a write under way in another process
    fresh.write_bytes(b"being written")
    folder = out / ".style-plugin-folder00.part"
    folder.mkdir()
    _aged(folder, 2 * HOUR)
    link = out / ".style-plugin-linklink.part.png"
    link.symlink_to(fresh)
    _aged(link, 2 * HOUR)
    others = [
        out / ".photo.png.abcd1234.part.png",  # not our pattern
        out / "notes.part.png",
        out / ".style-plugin-short.part.png",
        out / ".style-plugin-abcd1234.part.png.bak",
    ]
    for other in others:
        other.write_bytes(b"keep")
        _aged(other, 2 * HOUR)
    save_image(Image.new("RGB", (4, 4)), out / "new.png")
    assert not stale.exists()
    assert all(p.exists() or p.is_symlink() for p in [fresh, folder, link, *others])
    assert (out / "new.png").is_file()


# ---- 4. Pillow's warnings become per-file notes ------------------------------------------------


def _garbage_exif(path: Path) -> Path:
    """An image whose EXIF names a tag whose data lies beyond the end of the EXIF block."""
    ifd = b"II*\x00" + struct.pack("<IHHHIII", 8, 1, 0x010F, 2, 100, 9999, 0)
    Image.new("RGB", (8, 8), "red").save(path, exif=b"Exif\x00\x00" + ifd)
    return path


def test_pillow_warnings_become_notes_on_the_source(tmp_path):
    path = _garbage_exif(tmp_path / "camera.jpg")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        source = open_image(path)
    assert [str(w.message) for w in caught] == []
    assert source.notes == ["Pillow warned: Tag data larger than file. Skipping tag 271"]
    assert make_photo(tmp_path / "clean.png") and open_image(tmp_path / "clean.png").notes == []


def test_the_batch_reports_pillow_warnings_per_file(tmp_path):
    # PNGs: planning a JPEG output peeks at the input's header (inputs.has_transparency), which
    # parses JPEG EXIF outside the decode; this checks the decode's notes alone.
    paths = [_garbage_exif(tmp_path / name) for name in ("a.png", "b.png")]
    noted: list[str] = []

    class Events(BatchEvents):
        def note(self, message: str) -> None:
            noted.append(message)

    def identity(source: SourceImage, progress: object, cancel: object) -> Image.Image:
        return restore(source, source.rgb)

    options = BatchOptions(output=tmp_path / "out")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = run_batch(identity, collect_inputs([str(p) for p in paths]), options, Events())
    assert [str(w.message) for w in caught] == [] and len(report.done) == 2
    expected = [f"{p}: Pillow warned: Tag data larger than file. Skipping tag 271" for p in paths]
    assert noted == report.notes == expected


# ---- 5. an ICC profile only where it fits ------------------------------------------------------


def _saved_profile(tmp_path: Path, icc: bytes, suffix: str) -> bytes | None:
    """Open an RGB PNG tagged with `icc`, save it as `suffix`, and read back the profile kept."""
    path = tmp_path / "tagged.png"
    Image.fromarray(np.full((6, 8, 3), 90, np.uint8)).save(path, icc_profile=icc)
    source = open_image(path)
    written = save_image(restore(source, source.rgb), tmp_path / f"out{suffix}", overwrite=True)
    with Image.open(written) as reread:
        return reread.info.get("icc_profile")


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif", ".webp"])
def test_an_abstract_lab_profile_is_not_put_on_rgb_output(tmp_path, suffix):
    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    assert lab[12:20] == b"abstLab "
    assert _saved_profile(tmp_path, lab, suffix) is None


def test_a_profile_littlecms_cannot_parse_is_dropped(tmp_path):
    junk_rgb = bytes(12) + b"mntrRGB " + bytes(108)  # the header says RGB; the rest is junk
    assert _saved_profile(tmp_path, junk_rgb, ".png") is None
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    assert _saved_profile(tmp_path, srgb, ".png") == srgb


def test_without_littlecms_the_profile_header_decides(tmp_path, monkeypatch):
    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    monkeypatch.setattr(colour_profiles, "_littlecms", lambda: None)
    assert _saved_profile(tmp_path, srgb, ".png") == srgb
    assert _saved_profile(tmp_path, lab, ".png") is None
    assert _saved_profile(tmp_path, bytes(12) + b"mntrRGB " + bytes(108), ".png") is None
