"""The live preview of a run (RunOptions.live_preview): a photo of the user's choice drawn in
the styles being learnt, as often as asked and at the last step, and the speed a run reports
for the next estimate."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from style_plugin.training.run_setup import LivePreview
from style_plugin.training.trainer import Trainer
from style_plugin.training.watching import LIVE_PREVIEW_SIDE
from tests.support import leftovers, quiet_run, sample_photo, tiny_config

pytestmark = pytest.mark.train


def test_the_photo_is_drawn_in_each_style_at_its_cadence_and_at_the_last_step(
    photos, paintings, tmp_path
):
    photo = tmp_path / "photo.jpg"
    sample_photo(1200, 400).save(photo)  # 3:1, larger than a preview
    out = tmp_path / "previews" / "live.png"
    drawn: list[tuple[int, bytes]] = []
    options = quiet_run(
        live_preview=LivePreview(photo, out, every=2),
        on_live_preview=lambda step, path: drawn.append((step, path.read_bytes())),
    )
    summary = Trainer(tiny_config(photos, paintings, steps=3), tmp_path / "run", options).run()
    assert [step for step, _ in drawn] == [2, 3]
    assert drawn[0][1] != drawn[1][1]  # redrawn as the styles are learnt
    with Image.open(out) as image:
        assert image.format == "PNG"
        # the two styles side by side, each the photo's aspect with its long side 512
        assert image.size == (2 * LIVE_PREVIEW_SIDE, round(LIVE_PREVIEW_SIDE / 3))
        assert np.asarray(image).std() > 5  # a picture, not a blank
    assert leftovers(out.parent) == []
    assert summary.timed_steps == 2 and summary.steps_per_second > 0


def test_a_run_of_one_step_times_none(photos, paintings, tmp_path):
    summary = Trainer(tiny_config(photos, paintings, steps=1), tmp_path / "run", quiet_run()).run()
    assert summary.timed_steps == 0 and summary.steps_per_second is None
