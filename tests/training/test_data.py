"""The trainer's inputs: folder scanning, deterministic crops and batches, style paintings."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from style_plugin.errors import DataError
from style_plugin.training.data import (
    ContentCrops,
    StepBatchSampler,
    StyleImages,
    centre_crops,
    load_image,
    parse_style_specs,
    sample_style_indices,
    scan_content_folder,
    step_generator,
)


def noise_image(path: Path, size: tuple[int, int], seed: int = 0, **save_kwargs) -> Path:
    """Save a random RGB image of ``size`` (w, h) to ``path``; noise makes every crop distinct."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, **save_kwargs)
    return path


def halves_image(path: Path, size: tuple[int, int], **save_kwargs) -> Path:
    """Save an image whose left half is red and right half blue."""
    w, h = size
    pixels = np.zeros((h, w, 3), dtype=np.uint8)
    pixels[:, : w // 2, 0] = 255
    pixels[:, w // 2 :, 2] = 255
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, **save_kwargs)
    return path


def one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


# --------------------------------------------------------------------------- step_generator


def test_step_generator_is_a_function_of_its_four_ints():
    def draw(*args):
        return torch.rand(4, generator=step_generator(*args))

    assert torch.equal(draw(1, 2, 3, 4), draw(1, 2, 3, 4))
    variants = [(1, 2, 3, 4), (2, 2, 3, 4), (1, 3, 3, 4), (1, 2, 4, 4), (1, 2, 3, 5), (2, 1, 3, 4)]
    draws = [draw(*v) for v in variants]
    for i in range(len(draws)):
        for j in range(i + 1, len(draws)):
            assert not torch.equal(draws[i], draws[j]), (variants[i], variants[j])
    assert step_generator(0, 0).device.type == "cpu"


def test_sample_style_indices_uniform_and_deterministic():
    a = sample_style_indices(3, 600, step_generator(0, 5, stream=1))
    b = sample_style_indices(3, 600, step_generator(0, 5, stream=1))
    assert a.dtype == torch.long and a.shape == (600,)
    assert torch.equal(a, b)
    counts = torch.bincount(a, minlength=3)
    assert counts.min() > 150


# --------------------------------------------------------------------------- scan


def test_scan_recursive_skips_bad_files_with_reasons(tmp_path):
    good = [
        noise_image(tmp_path / "b.jpg", (40, 36)),
        noise_image(tmp_path / "a" / "deep" / "c.PNG", (36, 50)),
        noise_image(tmp_path / "a" / "d.webp", (64, 64)),
    ]
    truncated = noise_image(tmp_path / "a" / "truncated.jpg", (200, 160), quality=95)
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    text = tmp_path / "notes.png"
    text.write_text("this is not a picture\n")
    small = noise_image(tmp_path / "small.png", (50, 20))
    (tmp_path / "README.txt").write_text("ignored")
    noise_image(tmp_path / ".hidden.jpg", (64, 64))
    noise_image(tmp_path / ".cache" / "thumb.jpg", (64, 64))

    scan = scan_content_folder(tmp_path, min_side=32)

    assert scan.paths == sorted(good)
    reasons = dict(scan.skipped)
    assert set(reasons) == {truncated, empty, text, small}
    assert "truncated" in reasons[truncated]
    assert reasons[empty] == "empty file"
    assert "not an image" in reasons[text]
    assert reasons[small] == "smaller than the crop (50x20 < 32)"
    assert all("\n" not in r for r in reasons.values())
    assert scan_content_folder(tmp_path, min_side=32, workers=1) == scan


def test_scan_errors_are_one_line(tmp_path):
    with pytest.raises(DataError) as exc:
        scan_content_folder(tmp_path / "missing", min_side=8)
    assert "not found" in one_line(exc) and "missing" in str(exc.value)

    file = noise_image(tmp_path / "photo.png", (16, 16))
    with pytest.raises(DataError) as exc:
        scan_content_folder(file, min_side=8)
    assert "not a folder" in one_line(exc)

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "README.txt").write_text("no pictures here")
    with pytest.raises(DataError) as exc:
        scan_content_folder(empty, min_side=8)
    assert "no image files" in one_line(exc) and str(empty) in str(exc.value)

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.jpg").write_bytes(b"")
    noise_image(bad / "b.png", (4, 4))
    with pytest.raises(DataError) as exc:
        scan_content_folder(bad, min_side=8)
    message = one_line(exc)
    assert "none of the 2 image files" in message and "2 skipped" in message
    assert "a.jpg: empty file" in message


# --------------------------------------------------------------------------- content crops


def test_content_crops_deterministic_shape_and_range(tmp_path):
    paths = [
        noise_image(tmp_path / "big.jpg", (300, 200), quality=90),  # JPEG draft path
        noise_image(tmp_path / "small.png", (40, 48), seed=1),
    ]
    crops = ContentCrops(paths, crop_size=32, scale=(1.0, 2.0))
    assert len(crops) == 2
    for index in range(2):
        a = crops[(index, 123)]
        assert a.shape == (3, 32, 32) and a.dtype == torch.float32
        assert a.min() >= 0.0 and a.max() <= 1.0
        assert torch.equal(a, crops[(index, 123)])
        assert not torch.equal(a, crops[(index, 124)])


def test_content_crops_upscales_image_below_crop(tmp_path):
    path = noise_image(tmp_path / "tiny.png", (20, 30))
    crop = ContentCrops([path], crop_size=32)[(0, 7)]
    assert crop.shape == (3, 32, 32)


def test_content_crops_apply_exif_orientation(tmp_path):
    # Stored 60x40 (wide), left half red; orientation 6 displays it 40x60 (tall), red on top.
    exif = Image.Exif()
    exif[0x0112] = 6
    path = halves_image(tmp_path / "rotated.jpg", (60, 40), quality=95, exif=exif)
    crops = ContentCrops([path], crop_size=40, scale=(1.0, 1.0))
    for seed in range(6):
        crop = crops[(0, seed)]
        top, bottom = crop[:, 0].mean(dim=1), crop[:, -1].mean(dim=1)
        assert top[0] > 0.8 and top[2] < 0.2, seed
        assert bottom[2] > 0.8 and bottom[0] < 0.2, seed


def test_content_crops_file_changed_after_scan(tmp_path):
    path = noise_image(tmp_path / "photo.jpg", (64, 64))
    crops = ContentCrops([path], crop_size=32)
    path.write_text("overwritten")
    with pytest.raises(DataError) as exc:
        crops[(0, 0)]
    assert str(path) in one_line(exc)


# --------------------------------------------------------------------------- batch sampler


def test_step_batch_sampler_deterministic_and_resumable():
    full = list(StepBatchSampler(7, 3, seed=5, start_step=0, end_step=12))
    assert len(full) == 12 and len(StepBatchSampler(7, 3, 5, 4, 12)) == 8
    assert all(len(batch) == 3 for batch in full)
    assert all(0 <= i < 7 and isinstance(s, int) for batch in full for i, s in batch)
    assert full == list(StepBatchSampler(7, 3, seed=5, start_step=0, end_step=12))
    for k in (1, 4, 11):
        assert list(StepBatchSampler(7, 3, seed=5, start_step=k, end_step=12)) == full[k:]
    other_rank = list(StepBatchSampler(7, 3, seed=5, start_step=0, end_step=12, rank=1))
    other_seed = list(StepBatchSampler(7, 3, seed=6, start_step=0, end_step=12))
    assert other_rank != full and other_seed != full
    # Each epoch of 7 consecutive picks visits every image once.
    picks = [i for batch in full for i, _ in batch]
    assert sorted(picks[:7]) == list(range(7)) and sorted(picks[7:14]) == list(range(7))


# --------------------------------------------------------------------------- styles


def test_parse_style_specs_order_and_errors():
    styles = parse_style_specs(["scream=a/scream.jpg", "Starry.Night-2=b.png", "x_1=c=d.jpg"])
    assert list(styles) == ["scream", "Starry.Night-2", "x_1"]
    assert styles["x_1"] == Path("c=d.jpg")
    for bad, words in [
        ("scream.jpg", "NAME=PATH"),
        ("=scream.jpg", "name and a path"),
        ("scream=", "name and a path"),
        ("-bad=x.jpg", "style name '-bad'"),
        ("sp ace=x.jpg", "style name 'sp ace'"),
    ]:
        with pytest.raises(DataError) as exc:
            parse_style_specs([bad])
        assert words in one_line(exc), bad
    with pytest.raises(DataError) as exc:
        parse_style_specs(["a=1.jpg", "b=2.jpg", "a=3.jpg"])
    assert "'a'" in one_line(exc) and "1.jpg" in str(exc.value) and "3.jpg" in str(exc.value)


def test_load_image(tmp_path):
    path = noise_image(tmp_path / "p.png", (80, 40))
    full = load_image(path)
    assert full.shape == (3, 40, 80) and full.dtype == torch.float32
    assert load_image(path, max_side=40).shape == (3, 20, 40)
    assert load_image(path, max_side=200).shape == (3, 40, 80)
    jpeg = noise_image(tmp_path / "p.jpg", (400, 300))
    assert load_image(jpeg, max_side=100).shape == (3, 75, 100)

    (tmp_path / "text.jpg").write_text("hello")
    (tmp_path / "empty.png").write_bytes(b"")
    for name in ["missing.png", "text.jpg", "empty.png"]:
        with pytest.raises(DataError) as exc:
            load_image(tmp_path / name)
        assert one_line(exc).startswith(f"cannot read style image {tmp_path / name}: ")


def test_style_images_real_crops(tmp_path):
    styles = {
        "big": noise_image(tmp_path / "big.png", (120, 90)),
        "tiny": noise_image(tmp_path / "tiny.png", (20, 12), seed=1),
    }
    images = StyleImages(styles, style_size=100, crop_size=32)
    assert images.names == ["big", "tiny"]
    assert [p.shape for p in images.paintings] == [(3, 75, 100), (3, 12, 20)]

    index = torch.tensor([0, 1, 1, 0, 1])
    a = images.real_crops(index, step_generator(3, 7, stream=2))
    b = images.real_crops(index, step_generator(3, 7, stream=2))
    c = images.real_crops(index, step_generator(3, 8, stream=2))
    assert a.shape == (5, 3, 32, 32) and a.dtype == torch.float32
    assert a.min() >= 0.0 and a.max() <= 1.0
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_style_images_extra_real_folder(tmp_path):
    # A black painting and a folder of white artworks: white crops can only come from the extras.
    painting = tmp_path / "black.png"
    Image.new("RGB", (40, 40)).save(painting)
    extras = tmp_path / "more"
    extras.mkdir()
    for i in range(2):
        Image.new("RGB", (48, 40), "white").save(extras / f"w{i}.png")
    (extras / "broken.jpg").write_bytes(b"")
    images = StyleImages({"s": painting}, style_size=64, crop_size=32, extra_real={"s": extras})
    assert images.num_sources(0) == 3
    assert [p for p, _ in images.extra_skipped] == [extras / "broken.jpg"]
    means = images.real_crops(torch.zeros(60, dtype=torch.long), step_generator(0, 0)).mean(
        dim=(1, 2, 3)
    )
    assert (means < 0.01).any() and (means > 0.99).any()

    with pytest.raises(DataError) as exc:
        StyleImages({"s": painting}, style_size=64, crop_size=32, extra_real={"nope": extras})
    assert "'nope'" in one_line(exc)
    with pytest.raises(DataError) as exc:
        StyleImages({"s": tmp_path / "missing.png"}, style_size=64, crop_size=32)
    assert "missing.png" in one_line(exc)


# --------------------------------------------------------------------------- untrusted inputs


@pytest.fixture
def ghostscript_calls(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every call Pillow makes to Ghostscript, which is then not run."""
    from PIL import EpsImagePlugin

    calls: list[object] = []

    def ghostscript(*args: object, **kwargs: object) -> None:
        calls.append(args)
        raise RuntimeError("Ghostscript was run")

    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", ghostscript)
    return calls


def test_preview_photos_swapped_for_an_eps_after_the_scan_are_refused(tmp_path, ghostscript_calls):
    for i in range(2):
        noise_image(tmp_path / "photos" / f"p{i}.png", (48, 40), seed=i)
    scan = scan_content_folder(tmp_path / "photos", min_side=32)
    assert centre_crops(scan.paths, 32).shape == (2, 3, 32, 32)
    Image.new("RGB", (40, 40), "red").save(scan.paths[1], format="EPS")
    with pytest.raises(DataError) as exc:
        centre_crops(scan.paths, 32)
    assert "p1.png: is in EPS format" in one_line(exc) and ghostscript_calls == []


@pytest.fixture
def pixel_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    """Pillow's decompression-bomb limit lowered, so a small image stands in for a huge one."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    return 10_000


@pytest.mark.parametrize("side", [120, 150])  # Pillow warns above the limit, refuses above 2x
def test_a_painting_over_the_pixel_limit_is_refused_like_the_runtime_does(
    tmp_path, pixel_limit, side
):
    painting = noise_image(tmp_path / "huge.png", (side, side))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(DataError) as exc:
            StyleImages({"huge": painting}, style_size=64, crop_size=32)
    message = one_line(exc)
    assert f"{side * side:,} pixels" in message and "--allow-large" in message
    assert [str(w.message) for w in caught] == []
    allowed = StyleImages({"huge": painting}, style_size=64, crop_size=32, allow_large=True)
    assert allowed.paintings[0].shape == (3, 64, 64)
    assert pixel_limit == Image.MAX_IMAGE_PIXELS  # lifted for that decode alone


def test_content_photos_over_the_pixel_limit_are_skipped_with_the_reason(tmp_path, pixel_limit):
    noise_image(tmp_path / "photos" / "small.png", (64, 64))
    noise_image(tmp_path / "photos" / "huge.png", (120, 120), seed=1)
    scan = scan_content_folder(tmp_path / "photos", min_side=32)
    assert [p.name for p in scan.paths] == ["small.png"]
    ((path, reason),) = scan.skipped
    assert path.name == "huge.png" and reason.startswith("has 14,400 pixels, more than")
