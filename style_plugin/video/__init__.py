"""Video clips and numbered frame sequences, stylized without flicker.

`stylize_clip` turns one clip into a stylized one (PyAV: frames streamed, audio copied,
frame times and rotation kept, written to a temporary file and renamed at the end);
`TemporalBlend` holds strokes from frame to frame along the optical flow (OpenCV's DIS),
with fresh strokes where the motion is unreliable and after a scene cut; `sequence_job`
does the same over a folder's numbered frames in a batch. PyAV and OpenCV come with the
`video` extra and are imported only when used. No torch here: this sits on the runtime.
"""

from __future__ import annotations

from style_plugin.lazy import lazy_attributes

__all__ = [
    "CLIP_SUFFIXES",
    "DEFAULT_CRF",
    "DEFAULT_HOLD",
    "ClipError",
    "TemporalBlend",
    "is_clip",
    "sequence_job",
    "stylize_clip",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "CLIP_SUFFIXES": "style_plugin.video.defaults",
        "ClipError": "style_plugin.video.clips",
        "is_clip": "style_plugin.video.defaults",
        "DEFAULT_CRF": "style_plugin.video.defaults",
        "DEFAULT_HOLD": "style_plugin.video.defaults",
        "TemporalBlend": "style_plugin.video.sequence",
        "sequence_job": "style_plugin.video.frames",
        "stylize_clip": "style_plugin.video.render",
    },
)
