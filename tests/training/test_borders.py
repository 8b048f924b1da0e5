"""Frames, borders and margins are cut off paintings before training: made-up framed
paintings, paintings with no frame (left whole), the dataset's real ones, and the trainer's
painting loader with and without --keep-borders."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from style_plugin.training.borders import MAX_MARGIN, find_border, trim_border
from style_plugin.training.config import TrainConfig
from style_plugin.training.data import StyleImages
from tests.support import DATASETS


def painting(width: int = 320, height: int = 240, seed: int = 0) -> Image.Image:
    """A 'painting': short strokes of many colours in every direction, covering a ground of
    broad colour patches."""
    rng = np.random.default_rng(seed)
    patches = rng.integers(40, 220, size=(height // 40 + 1, width // 40 + 1, 3), dtype=np.uint8)
    image = Image.fromarray(patches).resize((width, height), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    ground = np.asarray(image, dtype=np.int64)
    for _ in range(width * height // 40):
        x, y = rng.integers(0, width), rng.integers(0, height)
        dx, dy = rng.integers(-14, 15, size=2)
        shade = ground[y, x] + rng.integers(-50, 51, size=3)
        colour = tuple(int(c) for c in np.clip(shade, 0, 255))
        draw.line((x, y, x + dx, y + dy), fill=colour, width=int(rng.integers(2, 5)))
    return image


def framed(inner: Image.Image, widths: tuple[int, int, int, int], fill) -> Image.Image:
    """`inner` inside a frame of (left, top, right, bottom) widths; `fill(x, y, w, h)` gives
    the frame's colour at each pixel of the framed image."""
    left, top, right, bottom = widths
    w, h = inner.width + left + right, inner.height + top + bottom
    frame = np.zeros((h, w, 3), np.uint8)
    ys, xs = np.mgrid[0:h, 0:w]
    frame[:] = fill(xs, ys, w, h)
    out = Image.fromarray(frame)
    out.paste(inner, (left, top))
    return out


def solid(colour):
    return lambda xs, ys, w, h: np.array(colour, np.uint8)


def gradient_frame(xs, ys, w, h):
    """A shaded (bevelled) frame: dark at the outside, lighter towards the picture."""
    depth = np.minimum.reduce([xs, ys, w - 1 - xs, h - 1 - ys]).astype(np.float32)
    shade = 40 + 6 * np.minimum(depth, 25)
    return np.stack([shade, shade * 0.8, shade * 0.5], axis=-1).astype(np.uint8)


def assert_cut_within(border, expected: tuple[int, int, int, int], slack: int = 4) -> None:
    """Every side cut at least its frame, and at most `slack` pixels more."""
    got = (border.left, border.top, border.right, border.bottom)
    for side, cut, frame in zip(("left", "top", "right", "bottom"), got, expected, strict=True):
        assert frame <= cut <= frame + slack, f"{side}: cut {cut} px of a {frame} px border {got}"


def test_a_painting_without_a_frame_is_left_whole():
    for seed in range(4):
        assert not find_border(painting(seed=seed)), seed


@pytest.mark.parametrize(
    ("widths", "fill"),
    [
        ((10, 10, 10, 10), solid((0, 0, 0))),  # a black frame all round
        ((0, 0, 14, 0), solid((200, 90, 40))),  # an orange board edge on one side
        ((6, 18, 6, 30), solid((245, 242, 236))),  # a paper margin, wider below
        ((20, 20, 20, 20), gradient_frame),  # a bevelled frame, shaded across its width
    ],
    ids=["black-frame", "one-side", "margin", "gradient-frame"],
)
def test_frames_and_margins_are_found(widths, fill):
    image = framed(painting(), widths, fill)
    trimmed, border = trim_border(image)
    assert_cut_within(border, widths)
    assert trimmed.size == (
        image.width - border.left - border.right,
        image.height - border.top - border.bottom,
    )


def test_a_thin_dark_line_inside_a_margin_is_cut_with_it():
    inner = framed(painting(), (2, 2, 2, 2), solid((25, 20, 15)))  # a 2 px line round it
    image = framed(inner, (8, 8, 8, 8), solid((240, 238, 230)))
    assert_cut_within(find_border(image), (10, 10, 10, 10))


def test_a_flat_area_of_the_painting_is_not_a_margin():
    """A dark background as wide as the widest margin looked for belongs to the painting."""
    image = painting()
    band = int(image.height * MAX_MARGIN) + 4
    image.paste((18, 16, 14), (0, 0, image.width, band))
    assert find_border(image).top == 0


def test_a_straight_line_in_the_painting_is_not_a_frame():
    """A horizon near the side, with painted texture on both sides of it, is kept."""
    image = painting(seed=3)
    draw = ImageDraw.Draw(image)
    draw.line((0, 9, image.width, 9), fill=(250, 250, 250), width=2)
    assert find_border(image).top == 0


@pytest.mark.skipif(not DATASETS.is_dir(), reason="the shared datasets folder is not here")
def test_the_dataset_paintings_frames():
    """The Starry Night's scan has a black frame all round and The Scream an orange board
    edge down its right side; The Great Wave and others have none."""

    def border_of(name: str):
        with Image.open(DATASETS / "styles" / name) as image:
            image = image.convert("RGB")
            image.thumbnail((512, 512))
            return find_border(image)

    starry = border_of("040_opencv-starrynight.jpg")
    assert min(starry.left, starry.top, starry.right, starry.bottom) >= 8
    scream = border_of("001_darknet-scream.jpg")
    assert scream.right >= 12 and scream.left == scream.top == scream.bottom == 0
    for name in (
        "015_gcompris-hokusai-greatwave.jpg",
        "007_gcompris-bruegel-harvesters.jpg",
        "022_gcompris-ladyunicorn-tapestry.jpg",
        "011_gcompris-gauguin-arearea.jpg",
    ):
        assert not border_of(name), name


def test_the_trainer_cuts_the_frame_unless_asked_to_keep_it(tmp_path):
    path = tmp_path / "framed.png"
    framed(painting(), (12, 12, 12, 12), solid((10, 10, 10))).save(path)
    cut = StyleImages({"framed": path}, style_size=512, crop_size=64)
    kept = StyleImages({"framed": path}, style_size=512, crop_size=64, keep_borders=True)
    assert kept.paintings[0].shape[1:] == (264, 344)
    assert cut.paintings[0].shape[1] <= 244 and cut.paintings[0].shape[2] <= 324
    assert set(cut.borders) == {"framed"} and not kept.borders


def test_runs_saved_before_border_cutting_resume_as_they_were():
    saved = TrainConfig(content_dir="photos", styles={"a": "a.jpg"}).to_dict()
    del saved["keep_borders"], saved["stability_weight"]
    config = TrainConfig.from_dict(saved)
    assert config.keep_borders and config.stability_weight == 0
