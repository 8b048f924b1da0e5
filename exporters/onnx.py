"""Export a trained generator to an ONNX style model (the contract: style_plugin/contract.py).

The file has inputs `image` float32 [N,3,H,W] in [0,1] and `style_weights` float32 [N,S],
output `stylized` float32 [N,3,H,W], with N, H and W dynamic, and `style_plugin.*` metadata
(styles and labels, preset, minimum side, precision, training summary) so that a host can
show and run it without torch.

torch, onnx, onnxruntime and numpy are imported inside the functions: importing this module
(which registering the format does) must stay cheap for hosts that only stylize.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from style_plugin import __version__, contract
from style_plugin.atomic import atomic_path
from style_plugin.contract import IMAGE, IMAGE_NORM_STATS, STYLE_WEIGHTS, STYLIZED, ModelMetadata
from style_plugin.errors import ExportError, StylePluginError, one_line
from style_plugin.exporters.base import Exporter, ExportReport

if TYPE_CHECKING:
    import numpy as np

    from style_plugin.models.generator import Generator

__all__ = [
    "FP16_TOLERANCE",
    "FP32_TOLERANCE",
    "ONNX_EXPORTER",
    "VERIFY_SIZES",
    "default_label",
    "export_onnx",
]

#: Opsets the exporter accepts: 17 is the style-model contract's floor (every onnxruntime from
#: 1.17 on runs it); 20 is the newest the TorchScript-based exporter of torch 2.4-2.14 emits.
MIN_OPSET, MAX_OPSET = 17, 20
#: Largest |onnxruntime - PyTorch fp32| accepted by verification, per precision.
FP32_TOLERANCE = 1e-3
FP16_TOLERANCE = 2e-2
#: (height, width) sizes verification runs at: odd, square, and wider than tall.
VERIFY_SIZES: tuple[tuple[int, int], ...] = ((37, 53), (64, 64), (131, 200))


def default_label(name: str) -> str:
    """A display label from a style name: '-' and '_' become spaces, each word capitalised."""
    words = name.replace("-", " ").replace("_", " ").split()
    return " ".join(w[:1].upper() + w[1:] for w in words) or name


def export_onnx(
    source: str | Path,
    output: str | Path,
    *,
    opset: int = 17,
    fp16: bool = False,
    verify: bool = True,
    labels: dict[str, str] | None = None,
    overwrite: bool = False,
    styles: Sequence[str] | None = None,
) -> ExportReport:
    """Export the generator of a run folder or checkpoint file to an ONNX style model.

    The model is written to a temporary file beside `output`, checked with
    `onnx.checker`, and (with `verify`) run in onnxruntime against PyTorch on random images and
    a bundled photo at `VERIFY_SIZES`, with one-hot and mixed style weights. Only a model that
    passes is renamed onto `output`, so a failure never leaves a file behind.

    Styles keep the labels saved with the run (a run started from another model keeps
    that model's labels); `labels` adds or replaces some.

    `fp16` stores convolution weights in float16 (about half the file) and runs the trunk in
    float16, while the graph's inputs and outputs stay float32 and instance normalisation with
    its style affine runs in float32 (float16 InstanceNormalization is wrong in onnxruntime,
    issue 10079). Styles without a label get `default_label`. `styles` exports only those
    styles, in that order (default: all).
    Raises ExportError (one line) for bad input or a model that fails verification.
    """
    output = Path(output)
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ExportError(f"opset {opset} is not supported; use {MIN_OPSET} to {MAX_OPSET}")
    if output.is_dir():
        raise ExportError(f"output {output} is a folder; give a file name such as model.onnx")
    if output.exists() and not overwrite:
        raise ExportError(_exists(output))
    state, generator = _load_generator(source)
    generator, styles = _chosen_styles(generator, tuple(map(str, state["style_names"])), styles)
    saved = {k: v for k, v in state.get("style_labels", {}).items() if k in styles}
    style_labels = _labels(styles, {**saved, **(labels or {})})
    precision = "fp16" if fp16 else "fp32"
    metadata = ModelMetadata(
        format_version=contract.FORMAT_VERSION,
        styles=[{"name": n, "label": lb} for n, lb in zip(styles, style_labels, strict=True)],
        preset=generator.preset.name,
        min_side=generator.min_side,
        precision=precision,
        training=_training_summary(state),
        package_version=__version__,
        tiling=contract.TILING_SCHEME,
    )
    doc = (
        f"style-plugin style model: {len(styles)} style(s) ({', '.join(style_labels)}), "
        f"preset {generator.preset.name}, {precision}. Inputs: image float32 [N,3,H,W] RGB in "
        f"[0,1] with H, W >= {generator.min_side}; style_weights float32 [N,S], each row a "
        "convex mix of the styles. Output: stylized float32 [N,3,H,W] in [0,1]."
    )
    max_diff: float | None = None
    sizes: tuple[tuple[int, int], ...] = ()
    try:
        with atomic_path(output, overwrite=overwrite) as tmp:
            _export_graph(generator, tmp, opset=opset, fp16=fp16)
            _finish_model(tmp, metadata, doc)
            if verify:
                max_diff = _verify(tmp, generator)
                sizes = VERIFY_SIZES
                tolerance = FP16_TOLERANCE if fp16 else FP32_TOLERANCE
                if not max_diff <= tolerance:  # also catches NaN
                    raise ExportError(
                        f"verification failed: onnxruntime differs from PyTorch by up to "
                        f"{max_diff:.3g} ({precision} tolerance {tolerance:g}); nothing written"
                    )
    except FileExistsError:
        raise ExportError(_exists(output)) from None
    return ExportReport(
        output=output,
        size_bytes=output.stat().st_size,
        styles=styles,
        labels=tuple(style_labels),
        preset=generator.preset.name,
        precision=precision,
        opset=opset,
        max_abs_diff=max_diff,
        verified_sizes=sizes,
    )


def _exists(output: Path) -> str:
    return f"{output} already exists; pass --overwrite (overwrite=True) to replace it"


def _load_generator(source: str | Path) -> tuple[dict[str, Any], Generator]:
    """Read a checkpoint (file or run folder) and rebuild its generator in eval mode, fp32."""
    source = Path(source)
    if not source.exists():
        raise ExportError(f"source {source} does not exist; give a run folder or checkpoint file")
    from style_plugin.models.generator import Generator
    from style_plugin.training.checkpoint import load_checkpoint

    try:
        state = load_checkpoint(source)
    except StylePluginError as exc:
        raise ExportError(f"cannot export: {exc}") from None
    names = state.get("style_names")
    preset = state.get("preset") or state["config"].get("preset")
    if not names or not isinstance(names, list | tuple) or not preset:
        raise ExportError(f"{source} has no style names or generator preset; cannot export it")
    try:
        generator = Generator(len(names), preset)
        generator.load_state_dict(state["generator"])
    except (ValueError, RuntimeError) as exc:
        raise ExportError(f"the generator in {source} does not load: {one_line(exc)}") from None
    return state, generator.float().eval()


def _chosen_styles(
    generator: Generator, names: tuple[str, ...], chosen: Sequence[str] | None
) -> tuple[Generator, tuple[str, ...]]:
    """The generator and style names to export: all, or the `chosen` ones in that order."""
    if not chosen:
        return generator, names
    unknown = [name for name in chosen if name not in names]
    if unknown or len(set(chosen)) != len(chosen):
        problem = f"unknown style {unknown[0]!r}" if unknown else "a style named twice"
        raise ExportError(f"cannot export {problem}; the model's styles are {', '.join(names)}")
    return generator.with_styles([names.index(n) for n in chosen]), tuple(chosen)


def _labels(styles: tuple[str, ...], labels: dict[str, str]) -> list[str]:
    """Display labels in style order; a label for a style the model lacks is an error."""
    unknown = sorted(set(labels) - set(styles))
    if unknown:
        raise ExportError(
            f"label given for unknown style(s) {', '.join(unknown)}; "
            f"the model's styles are {', '.join(styles)}"
        )
    empty = sorted(name for name, label in labels.items() if not label.strip())
    if empty:
        raise ExportError(f"empty label for style(s) {', '.join(empty)}")
    for name, label in labels.items():
        problem = contract.style_problem(name, label.strip())
        if problem:
            raise ExportError(f"cannot label style {name!r}: a model may not hold a {problem}")
    return [labels[name].strip() if name in labels else default_label(name) for name in styles]


def _training_summary(state: dict[str, Any]) -> dict[str, Any]:
    """What the model was trained on and how far, for people inspecting the file later.

    Read through `TrainConfig` itself, so that a renamed option fails here instead of
    writing null."""
    from style_plugin.training.config import TrainConfig

    try:
        config = TrainConfig.from_dict(state["config"])
    except (KeyError, TypeError, StylePluginError):
        raise ExportError("the checkpoint has no complete training configuration") from None
    return {
        "steps": state.get("step"),
        "total_steps": config.steps,
        "losses": state.get("losses", {}),
        "seed": config.seed,
        "base": _file_name(config.base) if config.base else None,
        "content_dir": _file_name(config.content_dir),
        "styles": {name: _file_name(path) for name, path in config.styles.items()},
        "extra_real": {name: _file_name(path) for name, path in config.extra_real.items()},
        "loss_weights": {
            "content": config.content_weight,
            "style": config.style_weight,
            "adversarial": config.adv_weight,
            "tv": config.tv_weight,
        },
        "gan_loss": config.gan_loss,
        "content_layers": config.content_layers,
        "style_layers": config.style_layers,
        "crop_size": config.crop_size,
        "style_size": config.style_size,
        "batch_size": config.batch_size,
        "lr": config.lr,
        "style_lr_scale": config.style_lr_scale,
        "vgg_source": _shared_source(state.get("vgg_source")),
        "elapsed_s": state.get("elapsed_s"),
        "trained_with": state.get("package_version"),
    }


def _file_name(path: str) -> str:
    """The last part of a path: a shared model must not carry its trainer's folder layout."""
    return PurePath(path.replace("\\", "/")).name or path


def _shared_source(vgg_source: Any) -> Any:
    """The perceptual network's weights as a run saved them (models/vgg.py), a weights file
    by its name alone: 'file vgg19.pth' for 'file /home/me/weights/vgg19.pth'."""
    if isinstance(vgg_source, str) and vgg_source.startswith("file "):
        return "file " + _file_name(vgg_source.removeprefix("file "))
    return vgg_source


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Hide the exporter's warnings, log records and prints: users get one summary line."""
    torch_logger = logging.getLogger("torch.onnx")
    level = torch_logger.level
    torch_logger.setLevel(logging.ERROR)
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        torch_logger.setLevel(level)


def _export_graph(generator: Generator, path: Path, *, opset: int, fp16: bool) -> None:
    """Trace the generator, with open normalisation statistics, into an ONNX file at `path`."""
    import torch

    from style_plugin.exporters.tileable import (
        TileableGenerator,
        norm_channels,
        norm_layer_channels,
    )

    model = TileableGenerator(generator, half=fp16)
    layers = [contract.layer_stats_name(k) for k in range(len(norm_layer_channels(generator)))]
    stats = torch.zeros(1, 2 * norm_channels(generator))
    example = (torch.rand(2, 3, 37, 53), generator.one_hot(0, 2), stats, torch.zeros(1))
    dims = {0: "batch", 2: "height", 3: "width"}
    try:
        with _quiet(), torch.no_grad():
            torch.onnx.export(
                model,
                example,
                str(path),
                dynamo=False,
                input_names=[IMAGE, STYLE_WEIGHTS, contract.NORM_STATS, contract.NORM_STATS_MIX],
                output_names=[STYLIZED, IMAGE_NORM_STATS, *layers],
                dynamic_axes={
                    IMAGE: dims,
                    STYLE_WEIGHTS: {0: "batch"},
                    contract.NORM_STATS: {0: "stats_batch"},
                    STYLIZED: dims,
                    IMAGE_NORM_STATS: {0: "batch"},
                    **{name: {0: "batch"} for name in layers},
                },
                opset_version=opset,
                do_constant_folding=True,
            )
    except Exception as exc:  # the exporter raises many types; users need one line
        raise ExportError(f"ONNX export failed: {one_line(exc, limit=1000)}") from exc


def _finish_model(path: Path, metadata: ModelMetadata, doc: str) -> None:
    """Add metadata, producer and documentation to the ONNX file, check it, write it back."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    _store_tiling_defaults(model, np, numpy_helper)
    model.producer_name = "style-plugin"
    model.producer_version = __version__
    model.doc_string = doc
    model.graph.doc_string = doc
    del model.metadata_props[:]
    for key, value in metadata.to_properties().items():
        model.metadata_props.add(key=key, value=value)
    for value in (*model.graph.input, *model.graph.output):
        layer = value.name.startswith(contract.LAYER_STATS_PREFIX)
        value.doc_string = contract.LAYER_NOTE if layer else contract.IO_NOTES.get(value.name, "")
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as exc:
        reason = one_line(exc, limit=1000)
        raise ExportError(f"the exported model is not valid ONNX: {reason}") from None
    onnx.save(model, str(path))


def _store_tiling_defaults(model: Any, np: Any, numpy_helper: Any) -> None:
    """Give the tiling inputs stored defaults, so callers that know only the contract's two
    inputs can leave them out: mix 0 (own statistics) and zero statistics."""
    inputs = {value.name: value for value in model.graph.input}
    width = inputs[contract.NORM_STATS].type.tensor_type.shape.dim[1].dim_value
    defaults = {
        contract.NORM_STATS: np.zeros((1, width), dtype=np.float32),
        contract.NORM_STATS_MIX: np.zeros(1, dtype=np.float32),
    }
    for name, value in defaults.items():
        model.graph.initializer.append(numpy_helper.from_array(value, name))


def _verification_inputs(num_styles: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Per size in VERIFY_SIZES: a batch of 3 images (bundled photo, noise, photo) and weights.

    Rows are one-hot for two styles (cycling through all of them over the sizes) and one
    random convex mix, so every style and mixing are exercised with N > 1.
    """
    import numpy as np
    from PIL import Image

    from style_plugin.bundled import sample_photos_dir
    from style_plugin.runtime.reading import open_image

    rng = np.random.default_rng(0)
    photo = Image.fromarray(open_image(sample_photos_dir() / "coffee.jpg").rgb)
    eye = np.eye(num_styles, dtype=np.float32)
    for k, (height, width) in enumerate(VERIFY_SIZES):
        resized = photo.resize((width, height), Image.Resampling.BILINEAR)
        real = np.asarray(resized, dtype=np.float32).transpose(2, 0, 1) / 255.0
        noise = rng.random((3, height, width), dtype=np.float32)
        images = np.stack([real, noise, real])
        mix = rng.dirichlet(np.ones(num_styles)).astype(np.float32)
        weights = np.stack([eye[(2 * k) % num_styles], eye[(2 * k + 1) % num_styles], mix])
        yield images, weights


def _verify(path: Path, generator: Generator) -> float:
    """Largest |onnxruntime(CPU) - PyTorch fp32| over the verification inputs."""
    import numpy as np
    import onnxruntime as ort
    import torch

    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: no provider-assignment chatter
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    worst = 0.0
    for images, weights in _verification_inputs(generator.num_styles):
        (ours,) = session.run([STYLIZED], {IMAGE: images, STYLE_WEIGHTS: weights})
        with torch.no_grad():
            reference = generator(torch.from_numpy(images), torch.from_numpy(weights)).numpy()
        if ours.shape != reference.shape or ours.dtype != np.float32:
            raise ExportError(
                f"verification failed: output {ours.dtype}{list(ours.shape)} where PyTorch "
                f"gives float32{list(reference.shape)}; nothing written"
            )
        diff = float(np.max(np.abs(ours - reference)))
        if not np.isfinite(diff):
            return float("inf")
        worst = max(worst, diff)
    return worst


ONNX_EXPORTER = Exporter(
    name="onnx",
    suffix=".onnx",
    description="ONNX style model for onnxruntime (float32, or float16 weights with --fp16)",
    function=export_onnx,
)
