"""The quality benchmark's judges and its blind preference sheets (benchmarks/), on made-up
images: the palette-blind judges must not reward a palette shift, and must prefer the
painting's own brushwork to a photo."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.support import REPO

sys.path.insert(0, str(REPO / "benchmarks"))

import judges
import preference

pytestmark = pytest.mark.train  # the judges run the VGG network


def strokes(size: int, seed: int) -> np.ndarray:
    """A 'painting': many short curved strokes in a few colours on a dark ground."""
    from PIL import ImageDraw

    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (size, size), (20, 30, 70))
    draw = ImageDraw.Draw(image)
    palette = [(60, 90, 170), (230, 210, 90), (30, 50, 120), (200, 220, 240)]
    for _ in range(size * 2):
        x, y = rng.uniform(0, size, 2)
        radius = rng.uniform(6, 14)
        start = rng.uniform(0, 360)
        box = (x - radius, y - radius, x + radius, y + radius)
        colour = palette[rng.integers(len(palette))]
        draw.arc(box, start, start + rng.uniform(60, 160), fill=colour, width=3)
    return np.asarray(image).copy()


def photo(size: int) -> np.ndarray:
    """A 'photo': smooth gradients and two soft shapes, nothing like brushwork."""
    y, x = np.mgrid[0:size, 0:size] / size
    image = np.stack([0.3 + 0.5 * x, 0.6 - 0.3 * y, 0.4 + 0.2 * x * y], axis=-1)
    disc = np.exp(-((x - 0.3) ** 2 + (y - 0.6) ** 2) / 0.02)[..., None]
    image = image * (1 - disc) + np.array([0.8, 0.2, 0.1]) * disc
    image[int(size * 0.1) : int(size * 0.35), int(size * 0.55) : int(size * 0.9)] = (0.1, 0.5, 0.2)
    return (np.clip(image, 0, 1) * 255).astype(np.uint8)


@pytest.fixture(scope="module")
def judge_set():
    bench = judges.Judges("cpu")
    if bench.net is None:
        pytest.skip(f"no VGG19 weights: {bench.vgg_reason}")
    painting = strokes(160, seed=0)
    return bench, painting, bench.reference(painting)


def grade(judge_set, output: np.ndarray, content: np.ndarray) -> dict[str, float]:
    bench, _, reference = judge_set
    return bench.judge(output, content, bench.features(content), reference)


def test_the_painting_itself_is_at_distance_zero(judge_set):
    _, painting, _ = judge_set
    figures = grade(judge_set, painting, painting)
    assert figures["texture_blind"] < 1e-6
    assert figures["motif"] < 1e-4


def test_more_brushwork_beats_a_photo_and_a_palette_shift_buys_nothing(judge_set):
    _, painting, _ = judge_set
    content = photo(160)
    plain = grade(judge_set, content, content)
    shifted = grade(judge_set, judges.palette_matched(content, painting), content)
    brushwork = grade(judge_set, strokes(160, seed=1), content)  # same hand, another canvas

    assert shifted["colour"] < plain["colour"]  # the colour judge rewards a palette shift ...
    for key in ("texture_blind", "motif"):  # ... the palette-blind ones are not
        assert shifted[key] == pytest.approx(plain[key], rel=0.1)
        assert brushwork[key] < 0.6 * shifted[key]


def test_motif_distance_sees_both_ways():
    """A plain output whose few patches all occur in the painting still misses most of it."""
    import torch

    bank = torch.nn.functional.normalize(torch.eye(9 * 4)[:20], dim=1)  # 20 distinct patches
    one_patch = torch.zeros(1, 4, 3, 3)
    one_patch.view(-1)[0] = 1.0  # exactly bank[0]
    distance = judges.motif_distance(one_patch, bank)
    assert distance == pytest.approx(0.5 * (1 - 1 / 20))  # coherent, but 19 of 20 missed


def fake_results(folder: Path) -> None:
    """What quality.py leaves behind: quality.json and STYLE/PHOTO_METHOD.jpg outputs."""
    folder.mkdir()
    painting = folder / "painting.png"
    Image.fromarray(strokes(64, seed=0)).save(painting)
    photos = ["010_a.jpg", "020_b.jpg", "030_c.jpg"]
    for style in ("s1", "s2"):
        (folder / style).mkdir(parents=True)
        for name in photos:
            for shade, method in ((40, "ours"), (200, "rival")):
                Image.new("RGB", (48, 32), (shade,) * 3).save(
                    folder / style / f"{Path(name).stem}_{method}.jpg"
                )
    report = {"paintings": {"s1": str(painting), "s2": str(painting)}, "photos": photos}
    (folder / "quality.json").write_text(json.dumps(report))


def test_blind_sheets_hide_the_order_and_the_tally_undoes_it(tmp_path, capsys):
    results = tmp_path / "quality"
    fake_results(results)
    sheets, key_path = tmp_path / "sheets", tmp_path / "key.json"
    preference.main(
        [
            *("sheets", str(results), "--pair", "ours:rival", "--sheets", str(sheets)),
            *("--key", str(key_path), "--seed", "3"),
        ]
    )
    key = json.loads(key_path.read_text())
    assert sorted(p.name for p in sheets.iterdir()) == sorted(key) and len(key) == 6
    assert {item["A"] for item in key.values()} == {"ours", "rival"}  # both orders occur

    # The judge always picks the darker output (ours), read from the sheet's pixels alone.
    lines = ["sheet\tchoice\tstyle_A\tstyle_B\tcontent_A\tcontent_B"]
    for name in key:
        with Image.open(sheets / name) as image:
            grey = np.asarray(image.convert("L"), dtype=float)
        third = grey.shape[1] // 3
        a, b = grey[60:80, third + 20 : third + 40].mean(), grey[60:80, -40:-20].mean()
        choice = "A" if a < b else "B"
        lines.append(
            f"{name}\t{choice}\t{4 if choice == 'A' else 2}\t{2 if choice == 'A' else 4}\t5\t5"
        )
    answers = tmp_path / "answers.tsv"
    answers.write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    preference.main(["tally", str(key_path), str(answers)])
    table = capsys.readouterr().out
    assert "| ours vs rival | all | ours 6/6 (100%) | 4.0 vs 2.0 | 5.0 vs 5.0 | 0 vs 0 |" in table
    assert "| ours vs rival | s1 | ours 3/3 (100%)" in table

    # A second judge answers two of the sheets and names a flaw in the rival's output of one:
    # both judges' answers count, and the flaw is listed under the method that had it.
    first, second = list(key)[:2]
    side = "A" if key[first]["A"] == "rival" else "B"
    flaws = ("a dark strip on the right edge", "-") if side == "A" else ("-", "a seam")
    other = tmp_path / "answers-2.tsv"
    other.write_text(
        f"{first}\t{'B' if side == 'A' else 'A'}\t3\t3\t4\t4\t{flaws[0]}\t{flaws[1]}\n"
        f"{second}\tA\t3\t3\t4\t4\t-\tnone\n"
    )
    capsys.readouterr()
    preference.main(["tally", str(key_path), str(answers), str(other)])
    table = capsys.readouterr().out
    assert "8 answers in all" in table and "any flaw seen in it" in table
    assert "| ours vs rival | all | ours" in table and "/8 " in table
    assert "| 0 vs 1 |" in table
    named = flaws[0] if side == "A" else flaws[1]
    assert f"- rival, {key[first]['style']}, {key[first]['photo']}: {named}" in table
