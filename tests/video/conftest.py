"""The video tests need the video extra (PyAV, OpenCV)."""

import pytest

pytest.importorskip("av")
pytest.importorskip("cv2")
