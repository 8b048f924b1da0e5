"""Stylizing without torch: onnxruntime sessions, the image pipeline, tiling, batches.

Nothing under this package imports torch, `exporters`, `hooks` or the CLI
(docs/architecture.md): a host that only stylizes needs onnxruntime, numpy and Pillow.
"""
