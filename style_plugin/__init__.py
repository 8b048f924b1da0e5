"""style-plugin: neural style transfer for image editors, scripts and Python."""

__version__ = "0.1.0"
