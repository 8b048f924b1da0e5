"""Colour profiles and colour spaces: which ICC profile an image may carry, CMYK to RGB.

LittleCMS (Pillow's `ImageCms`) is used where Pillow was built with it, and imported only
when a profile is met; without it, a profile's header decides and CMYK takes Pillow's formula.
"""

from __future__ import annotations

from io import BytesIO
from types import ModuleType

from PIL import Image

__all__ = ["GREY_MODES", "cmyk_to_rgb", "icc_fits"]

GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "F", "I;16", "I;16L", "I;16B", "I;16N"})
"""The Pillow modes that hold grey values (their ICC colour space is GRAY)."""
_RGB_MODES = frozenset({"RGB", "RGBA", "RGBX", "RGBa", "P", "PA"})
# ICC profile classes an image may embed (input, display, output, colour space); not abstract,
# device-link or named-colour profiles, which describe no image's colours.
_EMBEDDABLE_ICC = frozenset({"scnr", "mntr", "prtr", "spac"})


def _littlecms() -> ModuleType | None:
    """PIL.ImageCms, or None where Pillow was built without LittleCMS (imported when needed)."""
    try:
        from PIL import ImageCms
    except ImportError:
        return None
    return ImageCms


def cmyk_to_rgb(image: Image.Image) -> Image.Image:
    """CMYK -> RGB through the embedded ICC profile when LittleCMS can use it, else Pillow's formula."""
    icc = image.info.get("icc_profile")
    cms = _littlecms()
    if icc and cms is not None:
        try:
            return cms.profileToProfile(
                image,
                cms.ImageCmsProfile(BytesIO(icc)),
                cms.createProfile("sRGB"),
                outputMode="RGB",
            )
        except (OSError, ValueError, cms.PyCMSError):
            pass  # a damaged or unusable profile: fall back to Pillow's formula
    return image.convert("RGB")


def icc_fits(icc: bytes, mode: str) -> bool:
    """Whether an ICC profile may be embedded in an image of `mode`: it parses, an image may
    embed its class, and its colour space is the mode's (an abstract Lab profile never is)."""
    described = _icc_class_and_space(icc)
    return (
        described is not None
        and described[0] in _EMBEDDABLE_ICC
        and described[1] == _colour_space(mode)
    )


def _icc_class_and_space(icc: bytes) -> tuple[str, str] | None:
    """(device class, colour space) of an ICC profile, e.g. ("mntr", "RGB"), read by LittleCMS
    (from the header where Pillow lacks it); None if the profile cannot be parsed."""
    cms = _littlecms()
    if cms is None:
        if len(icc) < 128 or icc[36:40] != b"acsp":  # no ICC header
            return None
        return icc[12:16].decode("latin-1"), icc[16:20].decode("latin-1").strip()
    try:
        profile = cms.ImageCmsProfile(BytesIO(icc)).profile
    except (OSError, ValueError, TypeError, cms.PyCMSError):
        return None
    return profile.device_class, profile.xcolor_space.strip()


def _colour_space(mode: str) -> str | None:
    """The ICC colour space of images of `mode` ("RGB", "GRAY", "CMYK"), None for other modes."""
    if mode in GREY_MODES:
        return "GRAY"
    if mode in _RGB_MODES:
        return "RGB"
    return "CMYK" if mode == "CMYK" else None
