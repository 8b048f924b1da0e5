"""Video: how much flicker the temporal mode removes, and how fast clips stylize.

    python benchmarks/video.py [--size 256] [--frames 24] [--hold 0.7]
                               [--timing-sizes 1280x720 1920x1080] [--timing-frames 24]
                               [--figure docs/images/video-flicker.jpg]

Flicker. A synthetic clip with exactly known motion: a slow pan over one held-out dataset
photo (../shared/datasets/content/*0_*.jpg; bundled sample photos without the dataset), a
scene cut, then a slow zoom into another, each frame with Gaussian noise like a camera's
(sigma 3 of 255). The warping error of a clip is the mean absolute difference (0..255)
between each frame and the previous one carried along the exact motion, over the pixels
seen in both; the input clip has one of its own (noise, resampling), so the figure is the
stylized clip's error beyond the input's. It is measured frame by frame and in the temporal
mode (`TemporalBlend`), over the whole clip, after the cut, and for the worst single frame;
the frame at the cut is left out (there is no motion across it). Also how far the temporal
output strays from each frame's own stylization (what holding strokes costs).

Speed. Frames per second of `stylize_clip` on a synthetic pan encoded as H.264, frame by
frame and temporal, at each of `--timing-sizes` (decode, model, flow, encode; the bundled
model on onnxruntime's CPU provider). `--timing-sizes none` leaves it out; a small size
(`--timing-sizes 128x72 --timing-frames 4`) is a smoke check, not a figure.

The section `video` of docs/results.md is rewritten with the figures.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import results  # noqa: E402  (benchmarks/ is not a package)
from inference_speed import BUNDLED_PHOTOS, DATASET_PHOTOS  # noqa: E402

from style_plugin.runtime.stylizer import Stylizer  # noqa: E402
from style_plugin.video.defaults import DEFAULT_HOLD  # noqa: E402
from style_plugin.video.sequence import TemporalBlend  # noqa: E402

#: Camera-like noise added to every frame (sigma, 0..255).
NOISE = 3.0
#: Motion per frame, relative to the frame width: the pan's step, and the zoom's growth.
PAN_STEP = 0.006
ZOOM_STEP = 0.006


def held_out_photos() -> list[Path]:
    """Two photos for the two scenes: held-out dataset photos, else bundled samples."""
    found = sorted(DATASET_PHOTOS.glob("*0_*.jpg")) if DATASET_PHOTOS.is_dir() else []
    if len(found) < 2:
        found = sorted(BUNDLED_PHOTOS.glob("*.jpg"))
    return [found[0], found[len(found) // 2]]


def load_photo(path: Path, width: int, height: int) -> np.ndarray:
    """The photo as float32 RGB, scaled to cover twice `width` x `height` (room to move)."""
    import cv2

    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    scale = max(2 * width / bgr.shape[1], 2 * height / bgr.shape[0])
    size = (round(bgr.shape[1] * scale), round(bgr.shape[0] * scale))
    return cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)[..., ::-1].astype(np.float32)


def scene_transforms(count: int, width: int, zoom: bool) -> list[np.ndarray]:
    """3x3 maps from frame pixels to the photo's: a pan to the right, or a zoom in."""
    maps = []
    for index in range(count):
        if zoom:
            scale = (1 + ZOOM_STEP) ** -index
            offset = width * (1 - scale)  # zoom towards the photo's middle area
            matrix = np.array([[scale, 0, offset], [0, scale, offset * 0.6], [0, 0, 1]])
        else:
            matrix = np.array([[1, 0, index * PAN_STEP * width], [0, 1, 0], [0, 0, 1]])
        maps.append(matrix.astype(np.float64))
    return maps


def synthetic_clip(
    width: int, height: int, count: int, seed: int = 0
) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """Frames (uint8) of a pan, a cut, then a zoom, and for each frame the exact map from its
    pixels to the previous frame's (None for the first frame and the frame at the cut)."""
    import cv2

    rng = np.random.default_rng(seed)
    first, second = (load_photo(path, width, height) for path in held_out_photos())
    cut = count // 2
    scenes = [(first, scene_transforms(cut, width, zoom=False))]
    scenes.append((second, scene_transforms(count - cut, width, zoom=True)))
    frames: list[np.ndarray] = []
    to_previous: list[np.ndarray | None] = []
    for photo, maps in scenes:
        for index, matrix in enumerate(maps):
            frame = cv2.warpAffine(
                photo, matrix[:2], (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
            )
            frame = frame + rng.normal(0, NOISE, frame.shape)
            frames.append(np.clip(np.rint(frame), 0, 255).astype(np.uint8))
            to_previous.append(np.linalg.inv(maps[index - 1]) @ matrix if index else None)
    return frames, to_previous


def motion_difference(
    frame: np.ndarray, previous: np.ndarray, to_previous: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The absolute difference (HxW, 0..255, mean over channels) of `frame` from `previous`
    carried along the exact motion `to_previous`, and where both frames saw the pixel."""
    import cv2

    height, width = frame.shape[:2]
    ys, xs = np.indices((height, width), dtype=np.float64)
    matrix = to_previous
    map_x = matrix[0, 0] * xs + matrix[0, 1] * ys + matrix[0, 2]
    map_y = matrix[1, 0] * xs + matrix[1, 1] * ys + matrix[1, 2]
    seen = (map_x >= 1) & (map_x <= width - 2) & (map_y >= 1) & (map_y <= height - 2)
    carried = cv2.remap(
        previous.astype(np.float32),
        map_x.astype(np.float32),
        map_y.astype(np.float32),
        cv2.INTER_LINEAR,
    )
    return np.abs(frame.astype(np.float32) - carried).mean(axis=-1), seen


def warping_errors(frames: list[np.ndarray], to_previous: list[np.ndarray | None]) -> list[float]:
    """Per frame (NaN where there is no motion to follow): the mean absolute difference from
    the previous frame carried along the exact motion, over pixels seen in both."""
    errors = []
    for index, matrix in enumerate(to_previous):
        if matrix is None:
            errors.append(float("nan"))
            continue
        difference, seen = motion_difference(frames[index], frames[index - 1], matrix)
        errors.append(float(difference[seen].mean()))
    return errors


def flicker_figure(
    path: Path,
    clips: dict[str, list[np.ndarray]],
    to_previous: list[np.ndarray | None],
    index: int,
) -> None:
    """A PNG: per mode, frames `index` - 1 and `index` and what changed between them beyond
    the motion (the difference after motion compensation, 4x brighter): what flickers."""
    from gallery import INK, centered_text, font
    from PIL import Image, ImageDraw

    matrix = to_previous[index]
    assert matrix is not None, "the figure's frame must follow a motion"
    rows = []
    for name, frames in clips.items():
        difference, seen = motion_difference(frames[index], frames[index - 1], matrix)
        change = np.where(seen, np.clip(difference * 4, 0, 255), 0).astype(np.uint8)
        cells = [frames[index - 1], frames[index], np.repeat(change[..., None], 3, axis=-1)]
        rows.append((name, np.concatenate(cells, axis=1)))
    label_w, gap = 150, 6
    height, width = rows[0][1].shape[:2]
    header = 28
    canvas = Image.new("RGB", (label_w + width, header + len(rows) * (height + gap)), "white")
    draw = ImageDraw.Draw(canvas)
    face = font(15)
    cell = width // 3
    for column, title in enumerate(("frame", "next frame", "change beyond the motion, 4x")):
        left = label_w + column * cell
        centered_text(draw, (left, 0, left + cell, header), title, face)
    for row, (name, strip) in enumerate(rows):
        top = header + row * (height + gap)
        centered_text(draw, (0, top, label_w, top + height), name, face)
        canvas.paste(Image.fromarray(strip), (label_w, top))
    draw.line([(label_w - 4, header), (label_w - 4, canvas.height)], fill=INK)
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path, quality=90)  # the quality applies to a .jpg
    print(f"wrote {path}", file=sys.stderr)


def stylized_clips(
    stylizer: Stylizer, style: str | None, frames: list[np.ndarray], hold: float
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The clip stylized frame by frame, and in the temporal mode (the same stylized frames,
    blended)."""
    blend = TemporalBlend(hold)
    own = [stylizer.stylize_array(frame, style) for frame in frames]
    return own, [blend.blend(frame, stylized) for frame, stylized in zip(frames, own, strict=True)]


def flicker_report(args: argparse.Namespace, stylizer: Stylizer, report: results.Report) -> None:
    """The warping-error table and its verdict."""
    height = args.size * 9 // 16 // 2 * 2
    frames, to_previous = synthetic_clip(args.size, height, args.frames)
    own, temporal = stylized_clips(stylizer, args.style, frames, args.hold)
    base = np.array(warping_errors(frames, to_previous))
    beyond = {
        "frame by frame": np.array(warping_errors(own, to_previous)) - base,
        f"temporal, hold {args.hold:g}": np.array(warping_errors(temporal, to_previous)) - base,
    }
    cut = args.frames // 2
    after_cut = np.arange(len(frames)) > cut
    fbf, tmp = beyond.values()
    rows = []
    for name, values in beyond.items():
        rows.append(
            (
                name,
                f"{np.nanmean(values):.2f}",
                f"{np.nanmean(values[after_cut]):.2f}",
                f"{np.nanmax(values):.2f}",
                f"{1 - np.nanmean(values) / np.nanmean(fbf):.0%}",
            )
        )
    strays = statistics.mean(
        float(np.abs(t.astype(np.float32) - o.astype(np.float32)).mean())
        for t, o in zip(temporal, own, strict=True)
    )
    report.add(
        f"{args.frames} frames of {args.size}x{height}: a pan ({PAN_STEP:.1%} of the width per "
        f"frame) over {held_out_photos()[0].name}, a cut at frame {cut}, a zoom "
        f"({ZOOM_STEP:.1%} per frame) into {held_out_photos()[1].name}; noise sigma {NOISE:g}. "
        f"Input's own warping error: {np.nanmean(base):.2f} (0..255). Style: "
        f"{args.style or 'the bundled model first'}."
    )
    report.table(
        ["mode", "beyond the input's", "after the cut", "worst frame", "cut vs frame by frame"],
        rows,
    )
    worse = int(np.sum(tmp > fbf + 1e-6))
    report.add(
        f"Temporal frames worse than frame by frame: {worse} of {int(np.sum(~np.isnan(fbf)))}. "
        f"The temporal output differs from each frame's own stylization by {strays:.1f} "
        "(mean absolute, 0..255) on average: the strokes it holds."
    )
    if args.figure:
        clips = {"input": frames, "frame by frame": own, "temporal": temporal}
        flicker_figure(args.figure, clips, to_previous, index=cut // 2)


def timing_clip(path: Path, width: int, height: int, count: int) -> Path:
    """A pan of `count` frames at `width` x `height`, written as H.264."""
    sys.path.insert(0, str(ROOT))
    import av

    frames, _ = synthetic_clip(width, height, count)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def timing_report(args: argparse.Namespace, stylizer: Stylizer, report: results.Report) -> None:
    """Frames per second of `stylize_clip`, both modes, at each size."""
    from style_plugin.video.render import stylize_clip

    paint = functools.partial(stylizer.stylize_array, style=args.style)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.timing_sizes:
            width, height = (int(side) for side in size.split("x"))
            source = timing_clip(Path(tmp) / f"{size}.mp4", width, height, args.timing_frames)
            speeds = []
            for hold in (None, args.hold):
                done = stylize_clip(source, Path(tmp) / "out.mp4", paint, hold=hold, overwrite=True)
                speeds.append(done.frames_per_second)
            rows.append((f"{width}x{height}", f"{speeds[0]:.2f}", f"{speeds[1]:.2f}"))
            print(f"  {size}: {speeds[0]:.2f} / {speeds[1]:.2f} frames/s", file=sys.stderr)
    report.add(
        f"Frames per second of `stylize_clip` ({args.timing_frames} frames, H.264 in and out, "
        "decode and encode included):"
    )
    report.table(["size", "frame by frame", "temporal"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="flicker clip width (px)")
    parser.add_argument("--frames", type=int, default=24, help="flicker clip length")
    parser.add_argument("--hold", type=float, default=DEFAULT_HOLD)
    parser.add_argument("--style", default=None, help="a style of the bundled model")
    parser.add_argument(
        "--timing-sizes", nargs="+", default=["1280x720", "1920x1080"], metavar="WxH"
    )
    parser.add_argument("--timing-frames", type=int, default=24)
    parser.add_argument(
        "--figure",
        type=Path,
        help="also draw two frames of the pan and their flicker (.jpg or .png)",
    )
    results.add_arguments(parser, "video", "Video")
    args = parser.parse_args()
    if args.timing_sizes == ["none"]:
        args.timing_sizes = []
    stylizer = Stylizer(device="cpu")
    report = results.Report()
    started = time.perf_counter()
    flicker_report(args, stylizer, report)
    if args.timing_sizes:
        timing_report(args, stylizer, report)
    print(f"took {time.perf_counter() - started:.0f} s", file=sys.stderr)
    results.publish(args, report)


if __name__ == "__main__":
    main()
