"""Stills for a blind test of the temporal mode: does holding strokes along the motion make a
single frame look worse than stylizing it alone?

For each style of the bundled model and each of several held-out photos, a slow pan with
camera-like noise (the clip of benchmarks/video.py) is stylized frame by frame and in the
temporal mode, and the last frame of each is written where `preference.py sheets` reads
outputs (OUT/STYLE/PHOTO_frame.jpg and PHOTO_temporal.jpg, with OUT/quality.json naming the
paintings and photos):

    python benchmarks/video_stills.py out/video-stills [--photos 3 --size 384 --frames 16]
    python benchmarks/preference.py sheets out/video-stills --pair temporal:frame \\
        --sheets out/blind/stills --key out/blind/stills-key.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gallery import resolve_painting  # benchmarks/ is not a package
from video import DATASET_PHOTOS, NOISE, load_photo, scene_transforms, stylized_clips

from style_plugin import Stylizer
from style_plugin.video.defaults import DEFAULT_HOLD


def pan(photo: np.ndarray, size: tuple[int, int], count: int, seed: int) -> list[np.ndarray]:
    """`count` frames (`size` (width, height)) of a slow pan over `photo`, each with its own
    camera-like noise."""
    rng = np.random.default_rng(seed)
    width, height = size
    frames = []
    for matrix in scene_transforms(count, width, zoom=False):
        frame = cv2.warpAffine(
            photo, matrix[:2], (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        )
        frame = frame + rng.normal(0, NOISE, frame.shape)
        frames.append(np.clip(np.rint(frame), 0, 255).astype(np.uint8))
    return frames


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--photos", type=int, default=3, help="held-out photos per style")
    parser.add_argument("--size", type=int, default=384, help="frame width (px)")
    parser.add_argument("--frames", type=int, default=16, help="frames before the still")
    parser.add_argument("--hold", type=float, default=DEFAULT_HOLD)
    args = parser.parse_args(argv)
    photos = sorted(DATASET_PHOTOS.glob("*0_*.jpg"))[: args.photos]
    if not photos:
        raise SystemExit(f"no held-out photos in {DATASET_PHOTOS}")
    stylizer = Stylizer(device="cpu")
    recorded = stylizer.model_for().training.get("styles") or {}
    paintings = {name: resolve_painting(path) for name, path in recorded.items()}
    width, height = args.size, args.size * 2 // 3
    for style, painting in paintings.items():
        if painting is None:
            raise SystemExit(f"no painting found for {style}")
        (args.out / style).mkdir(parents=True, exist_ok=True)
        for index, path in enumerate(photos):
            frames = pan(load_photo(path, width, height), (width, height), args.frames, index)
            own, held = stylized_clips(stylizer, style, frames, args.hold)
            for method, clip in (("frame", own), ("temporal", held)):
                Image.fromarray(clip[-1]).save(
                    args.out / style / f"{path.stem}_{method}.jpg", quality=92
                )
        print(f"{style}: {len(photos)} stills each way", flush=True)
    report = {
        "paintings": {k: str(v) for k, v in paintings.items()},
        "photos": [str(p) for p in photos],
    }
    (args.out / "quality.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
