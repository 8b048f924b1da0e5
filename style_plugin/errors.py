"""Errors that users see as one clear line (the CLI prints them and exits non-zero)."""


class StylePluginError(Exception):
    """Base for errors caused by the user's input or environment, not by a bug."""


class DataError(StylePluginError):
    """An input image, folder or style specification cannot be used."""


class WeightsUnavailableError(StylePluginError):
    """No source of pretrained perceptual-network weights could be loaded."""


class TrainingError(StylePluginError):
    """Training cannot start or cannot go on (bad options, diverged losses, bad run folder)."""


class ExportError(StylePluginError):
    """A checkpoint cannot be exported, or the exported model does not match PyTorch."""


class ModelError(StylePluginError):
    """A style model cannot be found or loaded, breaks the contract, or lacks a style."""


class Cancelled(StylePluginError):
    """The caller asked to stop (a host's cancel button); nothing was written."""


class ImageError(StylePluginError):
    """An input image cannot be read or an output cannot be written."""


class FilterError(StylePluginError):
    """Bad parameters for a filter (unknown name, wrong type, out of range), or no such filter."""


def one_line(
    exc: BaseException, *, limit: int = 200, named: bool = False, last: bool = False
) -> str:
    """`exc`'s message as one short line: its first line (`last`: its last, where a library
    puts the cause), at most `limit` characters, or the exception's type when it says nothing.
    `named` puts the type in front ("ValueError: ..."), for errors of code that is not ours."""
    lines = str(exc).strip().splitlines()
    if not lines:
        return type(exc).__name__
    text = (lines[-1] if last else lines[0])[:limit]
    return f"{type(exc).__name__}: {text}" if named else text
