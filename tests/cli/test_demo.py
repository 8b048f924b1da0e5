"""`style-plugin demo` (style_plugin/cli/demo.py): every sample photo in every bundled style,
and a clear word when the install holds no bundled model."""

from __future__ import annotations

import pytest

from style_plugin.bundled import sample_photos
from style_plugin.runtime.model import load_model
from style_plugin.runtime.store import bundled_model_files
from tests.support import assert_one_line_error, run_cli


@pytest.mark.bundled
def test_demo_stylizes_every_sample_photo_in_every_style(tmp_path, capsys):
    out = tmp_path / "demo"
    code, printed, err = run_cli(capsys, "demo", "--out", out, "--device", "cpu")
    assert code == 0, err
    names = load_model(bundled_model_files()[0]).style_names
    expected = sorted(f"{p.stem}-{n}.jpg" for p in sample_photos() for n in names)
    assert sorted(p.name for p in out.iterdir()) == expected
    assert f"{len(sample_photos())} photo(s) x {len(names)} style(s) in {out}/" in printed
    assert "The Great Wave (Hokusai)" in printed


def test_demo_without_a_bundled_model_says_the_install_is_incomplete(tmp_path, capsys):
    code, _, err = run_cli(capsys, "demo", "--out", tmp_path / "demo")
    assert_one_line_error(code, err, "holds no bundled style model", "reinstall")
    assert not (tmp_path / "demo").exists()
