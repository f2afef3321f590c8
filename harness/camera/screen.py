"""A phone's screen through a camera: what a camera-and-robot handset takes its screenshots from.

``CameraScreen(url, profile)`` opens the camera, finds the screen's corners
in the first frame it needs (or takes them from a calibration), and gives
each screenshot as the profile's own size and orientation, RGB, like an
ADB screenshot: rectified, light and glare evened out. Every screenshot is
a frame that arrived at least the camera's ``latency`` after it was asked
for (a camera's picture reaches the host some tenths of a second after it
was exposed), so it shows the effect of the last tap; the homography from camera pixels to screen pixels is there for
calibration (where is the stylus tip on the screen?). With a ``Lens`` (``harness.camera.lens``, measured by
calibration from the phone's straight edges) camera pixels are undistorted first, so points between the
corners land where they are on the glass and screenshots are not bowed. A screen that ``follow``s a robot takes
the first frame after each of its moves from the frames themselves (``harness.camera.settle``): exposed after the
robot reported Idle, with the picture at rest, however long the camera's delay has grown on a loaded host.
"""

from __future__ import annotations

import time
from typing import Any

import cv2
import numpy as np

from harness.camera.capture import READ_TIMEOUT, Capture
from harness.camera.errors import CameraUnavailable
from harness.camera.finder import find_screen
from harness.camera.lens import Lens
from harness.camera.rectify import homography, normalise, rectify, rectify_mapped, to_screen
from harness.camera.settle import Delay, settled_after
from harness.deadline import left, within
from harness.profiles import Profile, load_profile

#: How long after its exposure a frame arrives, by default: a USB or IP camera's pipeline, with room to spare.
LATENCY = 0.25


class CameraScreen:
    """The screen of ``profile``'s phone in the camera at ``url``; ``open()``/``close()`` or ``with``.

    ``screen_corners`` (TL, TR, BR, BL in camera pixels, e.g. from a calibration) skips the search; ``top``
    says where the screen's top points in the frame when the search cannot tell (``auto``: the narrower bezel);
    ``latency`` is how long after it is exposed a frame arrives (a screenshot waits that long past its request);
    ``timeout`` bounds opening the camera and each frame.
    """

    def __init__(self, url: str, profile: Profile | str, screen_corners: np.ndarray | list | None = None,
                 top: str = "auto", timeout: float = READ_TIMEOUT, latency: float = LATENCY,
                 capture: Capture | None = None, lens: Lens | None = None) -> None:
        self.profile = profile if isinstance(profile, Profile) else load_profile(profile)
        # the camera opens within the same ``timeout`` as a frame (a handset's timeout), not Capture's default
        self.capture = capture or Capture(url, open_timeout=timeout)
        self.timeout = timeout
        self.delay = Delay(latency)
        self.robot: Any = None  # followed: frames after its moves are taken once it rests (``follow``)
        self._settled_move: float | None = None
        self.settled: dict[str, Any] = {}  # how the last frame after a move was chosen (settle.settled_after)
        self.top = top
        self.lens = lens
        self._maps: tuple[np.ndarray, np.ndarray] | None = None
        self._corners = None if screen_corners is None else np.asarray(screen_corners, np.float64).reshape(4, 2)
        self._h: np.ndarray | None = None if self._corners is None else self._homography(self._corners)

    @property
    def latency(self) -> float:
        """How long after it is exposed a frame arrives, as configured (or measured by calibration); the moves of a
        followed robot measure it anew (``delay.bound``)."""
        return self.delay.initial

    @latency.setter
    def latency(self, seconds: float) -> None:
        self.delay.initial = seconds

    def follow(self, robot: Any) -> None:
        """Take frames after ``robot``'s moves only once they show it at rest (its ``moved_at`` and ``idle_at``)."""
        self.robot = robot

    # ------------------------------------------------------------------ lifecycle
    def open(self) -> "CameraScreen":
        self.capture.open()
        return self

    def close(self) -> None:
        self.capture.close()

    def __enter__(self) -> "CameraScreen":
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ geometry
    @property
    def size(self) -> tuple[int, int]:
        """The screenshot's width and height: the profile's, portrait."""
        return self.profile.width, self.profile.height

    def _homography(self, corners: np.ndarray) -> np.ndarray:
        self._maps = None
        return homography(self._ideal(corners), *self.size)

    def _ideal(self, points: np.ndarray) -> np.ndarray:
        return np.asarray(points, np.float64).reshape(-1, 2) if self.lens is None else self.lens.undistort(points)

    def use_lens(self, lens: Lens | None, corners: np.ndarray | None = None) -> None:
        """Undistort camera pixels through ``lens`` from now on, with the screen's ``corners`` (camera pixels)
        when given (the ones found otherwise)."""
        self.lens = lens
        if corners is not None:
            self._corners = np.asarray(corners, np.float64).reshape(4, 2)
        if self._corners is not None:
            self._h = self._homography(self._corners)

    def find(self, frame: np.ndarray | None = None) -> np.ndarray:
        """Look for the screen again (in ``frame``, RGB, or a fresh one) and keep its corners."""
        image = self.frame() if frame is None else frame
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        self._corners = find_screen(gray, self.profile.width / self.profile.height, self.top)
        self._h = self._homography(self._corners)
        return self._corners

    @property
    def corners(self) -> np.ndarray:
        """The screen's corners in camera pixels (TL, TR, BR, BL of the screen as the phone shows it)."""
        if self._corners is None:
            self.find()
        assert self._corners is not None
        return self._corners.copy()

    @property
    def homography(self) -> np.ndarray:
        """The 3x3 map from (undistorted, when there is a lens) camera pixels to screen pixels."""
        if self._h is None:
            self.find()
        assert self._h is not None
        return self._h.copy()

    def to_screen(self, points: np.ndarray | list) -> np.ndarray:
        """Camera pixels (N x 2) to screen pixels."""
        return to_screen(self.homography, self._ideal(np.asarray(points, np.float64)))

    def to_camera(self, points: np.ndarray | list) -> np.ndarray:
        """Screen pixels (N x 2) to camera pixels (through the lens, when there is one)."""
        ideal = to_screen(np.linalg.inv(self.homography), np.asarray(points, np.float64))
        return ideal if self.lens is None else self.lens.distort(ideal)

    # ------------------------------------------------------------------ frames
    def frame(self) -> np.ndarray:
        """The first raw camera frame (RGB) exposed after this call (arrived the camera's delay after it) and,
        after a move of the followed robot, after it reported Idle with the picture at rest; within ``timeout``."""
        end = time.monotonic() + (left(self.timeout) or 0.0)
        try:
            snap = self._next(end)
        except CameraUnavailable:
            # the stream ended (a camera that restarted, a dropped connection): open it again, once, in the time left
            self.capture.close()
            with within(max(0.0, end - time.monotonic())):
                self.capture.open()
            snap = self._next(end)
        return cv2.cvtColor(snap.image, cv2.COLOR_BGR2RGB)

    def _next(self, end: float) -> Any:
        asked = time.monotonic()
        robot = self.robot
        sent, idle = (getattr(robot, "moved_at", None), getattr(robot, "idle_at", None)) if robot else (None, None)
        if sent is not None and idle is not None and idle >= sent and sent != self._settled_move:
            snap = settled_after(self.capture, sent, idle, self.delay, max(0.0, end - time.monotonic()),
                                 not_before=asked + self.delay.bound, notes=self.settled)
            self._settled_move = sent
            return snap
        return self.capture.after(asked + self.delay.bound, max(0.0, end - time.monotonic()))

    def screenshot(self) -> np.ndarray:
        """The screen now: an RGB array of the profile's size, rectified and with light and glare evened out."""
        return self.rectified(self.frame())

    def rectified(self, frame: np.ndarray) -> np.ndarray:
        """``frame`` (RGB camera pixels) as a screenshot, through the corners found (or given)."""
        if self._h is None:
            self.find(frame)
        assert self._h is not None
        if self.lens is None:
            return normalise(rectify(frame, self._h, *self.size))
        if self._maps is None:  # for each screen pixel, the camera pixel it is seen at: once per corners and lens
            w, h = self.size
            ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
            cam = self.to_camera(np.column_stack([xs.ravel(), ys.ravel()])).astype(np.float32)
            self._maps = cv2.convertMaps(cam[:, 0].reshape(h, w), cam[:, 1].reshape(h, w), cv2.CV_16SC2)
        return normalise(rectify_mapped(frame, self._maps))
