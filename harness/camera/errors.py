"""The camera's typed errors: each one line saying what was expected and what was seen."""

from __future__ import annotations

from harness.errors import DeviceUnavailable, HarnessError, HarnessTimeout


class CameraError(HarnessError):
    """Base of the camera's errors."""


class CameraUnavailable(CameraError, DeviceUnavailable):
    """The camera could not be opened, or its stream ended (unplugged, server gone)."""


class StaleFrame(CameraError, HarnessTimeout):
    """The newest frame is older than the caller allows (the stream stalled), or none came in time."""


class FrameTooLarge(CameraError, ValueError):
    """The stream announces (or sends) frames larger than the reader accepts."""


class ScreenNotFound(CameraError, LookupError):
    """The phone's lit screen could not be found in a camera frame."""


class BadFrame(CameraError, ValueError):
    """A frame the camera sent that does not decode (a corrupt or truncated JPEG)."""
