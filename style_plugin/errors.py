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
