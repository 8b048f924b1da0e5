"""style_plugin/runtime/scale.py: strokes relative to the image, the photo's detail kept."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from style_plugin.errors import StylePluginError
from style_plugin.runtime import scale as scale_module
from style_plugin.runtime.scale import enlarge_with_detail, shrink, working_size
from style_plugin.runtime.stylizer import Stylizer
from tests.support import make_photo, run_cli


@pytest.mark.parametrize(
    ("size", "scale", "working"),
    [
        ((4000, 6000), 1.0, (683, 1024)),
        ((6000, 4000), 2.0, (512, 341)),
        ((3000, 3000), 0.5, (2048, 2048)),
        ((1024, 700), 1.0, None),  # never enlarged
        ((800, 600), 0.5, None),
        ((8000, 6000), 0.0, None),  # 0: full resolution
    ],
)
def test_the_working_size(size, scale, working):
    assert working_size(*size, scale) == working


def test_enlarging_in_bands_is_seamless_and_keeps_the_photos_detail(monkeypatch):
    rng = np.random.default_rng(0)
    photo = (rng.random((300, 420, 3)) * 255).astype(np.uint8)  # detail in every pixel
    small = shrink(photo, (75, 105))
    painted = np.clip(small * 0.5 + 0.25, 0, 1).astype(np.float32)  # a stand-in "style"
    whole = enlarge_with_detail(photo, small, painted)
    monkeypatch.setattr(scale_module, "BAND_ROWS", 7)
    assert np.abs(enlarge_with_detail(photo, small, painted).astype(int) - whole).max() <= 1
    plain = np.asarray(
        Image.fromarray((painted * 255).round().astype(np.uint8)).resize((420, 300), Image.BICUBIC)
    )
    luma = np.array([0.299, 0.587, 0.114])
    # The pixel-scale detail follows the photo's; a plain enlargement has none of it.
    detail = (photo - photo.mean()) @ luma
    added = (whole.astype(float) - plain) @ luma
    assert np.corrcoef(added.ravel(), detail.ravel())[0, 1] > 0.8


def test_scale_sets_the_stroke_size_relative_to_the_image(style_model, tmp_path):
    stylizer = Stylizer(style_model, device="cpu")
    photo = np.asarray(Image.open(make_photo(tmp_path / "p.png", 1600, 1200, seed=3)))
    default = stylizer.stylize_array(photo, "the_scream", strength=1.0)  # the model alone
    assert default.shape == photo.shape and default.dtype == np.uint8
    # The generator saw the photo at 1024 px; the photo's finer detail was added back.
    small = shrink(photo, (768, 1024))
    painted = stylizer.stylize_array(small, "the_scream", strength=1.0, scale=0)
    assert np.array_equal(default, enlarge_with_detail(photo, small, painted))
    full = stylizer.stylize_array(photo, "the_scream", strength=1.0, scale=0)
    assert not np.array_equal(default, full)
    deep = (photo.astype(np.uint16) * 257).astype(np.uint16)
    assert stylizer.stylize_array(deep, "the_scream").dtype == np.uint16
    with pytest.raises(StylePluginError, match="scale must be 0"):
        stylizer.stylize_array(photo, "the_scream", scale=-1)


def test_the_cli_takes_scale(style_model, tmp_path, capsys):
    photo = make_photo(tmp_path / "in.png", 1300, 900)
    for value, name in (("2", "big.png"), ("0", "full.png")):
        code, _, err = run_cli(
            capsys,
            "stylize",
            photo,
            "-m",
            style_model,
            "--scale",
            value,
            "-o",
            tmp_path / name,
            "-q",
        )
        assert code == 0, err
    big, full = (np.asarray(Image.open(tmp_path / n), np.int16) for n in ("big.png", "full.png"))
    assert big.shape == full.shape == (900, 1300, 3) and np.abs(big - full).mean() > 2
    code, _, err = run_cli(capsys, "stylize", photo, "-m", style_model, "--scale", "-1")
    assert code != 0 and "--scale must be 0" in err


def test_the_cli_notes_a_scale_that_changes_nothing(style_model, tmp_path, capsys):
    photo = make_photo(tmp_path / "in.png", 200, 150)
    for value, notes in (("0.5", 1), ("1", 0)):
        out = tmp_path / f"scale-{value}.png"
        args = ("stylize", photo, "-m", style_model, "--scale", value, "-o", out)
        code, _, err = run_cli(capsys, *args)
        assert code == 0, err
        note = f"note: {photo}: scale 0.5 has no effect at 200 px: any scale up to 5.12 runs it"
        assert err.count(note) == notes, err
    same = (np.asarray(Image.open(tmp_path / f"scale-{v}.png")) for v in ("0.5", "1"))
    assert np.array_equal(*same)  # what the note says
