"""The camera that looks at a phone's screen: frames from OpenCV's VideoCapture, the screen found and rectified.

``capture.py`` (newest-frame reader over V4L2, MJPEG over HTTP, RTSP),
``finder.py`` (the screen's corners in a frame), ``rectify.py`` (the
homography, the warp, light and glare evened out), ``screen.py``
(``CameraScreen``: screenshots at the profile's size for a handset).
"""

from harness.camera.capture import Capture, Snapshot
from harness.camera.errors import CameraError, CameraUnavailable, FrameTooLarge, ScreenNotFound, StaleFrame
from harness.camera.finder import find_screen
from harness.camera.rectify import homography, normalise, rectify
from harness.camera.screen import CameraScreen

__all__ = ["Capture", "Snapshot", "CameraError", "CameraUnavailable", "FrameTooLarge", "ScreenNotFound", "StaleFrame",
           "find_screen", "homography", "normalise", "rectify", "CameraScreen"]
