"""Where the emulated camera stands over the robot's bed, and how its lens bends the view: seeded.

A lab mounts a camera above the phone holder, roughly square-on but never
exactly, with the phone's long side along the frame's long side. The seed
picks the tilt from vertical (up to ``MAX_TILT_DEG``, any direction), the
distance (the phone filling a seeded share of the frame), the roll (the
phone's top to the frame's left or right, a few degrees off), a small aim
offset and the lens's barrel distortion. Frames: bed millimetres as the
robot's (X, Y on the bed, Z up); camera pixels x right, y down.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import cv2
import numpy as np

MAX_TILT_DEG = 15.0
#: Focal length as a share of the frame's width (a horizontal field of view of about 56 degrees).
FOCAL_SHARE = 0.95
#: The phone's long side fills this share of the frame's width.
FILL = (0.62, 0.78)
ROLL_JITTER_DEG = 4.0
AIM_JITTER_MM = 4.0
#: Radial distortion k1 (barrel: negative) and k2 ranges.
K1 = (-0.10, -0.03)
K2 = (0.0, 0.02)


@dataclass(frozen=True)
class CameraPose:
    """A pinhole camera with radial distortion looking at the bed."""

    width: int
    height: int
    matrix: np.ndarray      # 3x3 intrinsics
    dist: np.ndarray        # k1, k2, p1, p2, k3 (OpenCV's order)
    rvec: np.ndarray        # bed -> camera rotation (Rodrigues)
    tvec: np.ndarray        # bed -> camera translation (mm)
    tilt_deg: float
    distance_mm: float

    def project(self, points: np.ndarray, distorted: bool = True) -> np.ndarray:
        """Bed points (N x 3, mm) to camera pixels (N x 2), through the lens (``distorted``) or the ideal pinhole."""
        pts = np.asarray(points, np.float64).reshape(-1, 1, 3)
        dist = self.dist if distorted else np.zeros(5)
        out, _ = cv2.projectPoints(pts, self.rvec, self.tvec, self.matrix, dist)
        return out.reshape(-1, 2)

    def distortion_maps(self) -> tuple[np.ndarray, np.ndarray]:
        """For ``cv2.remap``: for each pixel of the camera's (distorted) frame, where it lies in the ideal one."""
        ys, xs = np.mgrid[0:self.height, 0:self.width].astype(np.float32)
        pts = np.stack([xs.ravel(), ys.ravel()], axis=1).reshape(-1, 1, 2)
        ideal = cv2.undistortPoints(pts, self.matrix, self.dist, P=self.matrix).reshape(self.height, self.width, 2)
        return cv2.convertMaps(ideal[..., 0].copy(), ideal[..., 1].copy(), cv2.CV_16SC2)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def camera_pose(seed: int, target: tuple[float, float, float], extent_mm: float, top_towards: tuple[float, float],
                size: tuple[int, int] = (1280, 720)) -> CameraPose:
    """The camera ``seed`` picks, aimed near ``target`` (bed mm), the phone's long side (``extent_mm``, its top
    pointing ``top_towards`` on the bed) along the frame's width."""
    rng = random.Random(f"camera/{seed}")
    width, height = size
    f = FOCAL_SHARE * width
    tilt = rng.uniform(0.0, MAX_TILT_DEG)
    azimuth = rng.uniform(0.0, 2 * math.pi)
    distance = f * extent_mm / (rng.uniform(*FILL) * width)
    aim = np.array(target, np.float64) + np.array([rng.uniform(-1, 1) * AIM_JITTER_MM,
                                                   rng.uniform(-1, 1) * AIM_JITTER_MM, 0.0])
    t, a = math.radians(tilt), azimuth
    centre = aim + distance * np.array([math.sin(t) * math.cos(a), math.sin(t) * math.sin(a), math.cos(t)])
    z_cam = _unit(aim - centre)
    roll = math.radians(rng.uniform(-ROLL_JITTER_DEG, ROLL_JITTER_DEG))
    sign = rng.choice((1.0, -1.0))  # the phone's top to the frame's right (+1) or left (-1)
    tx, ty = top_towards
    u = sign * np.array([tx * math.cos(roll) - ty * math.sin(roll), tx * math.sin(roll) + ty * math.cos(roll), 0.0])
    x_cam = _unit(u - (u @ z_cam) * z_cam)
    y_cam = np.cross(z_cam, x_cam)
    rot = np.stack([x_cam, y_cam, z_cam])
    rvec, _ = cv2.Rodrigues(rot)
    tvec = -rot @ centre
    matrix = np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]], np.float64)
    dist = np.array([rng.uniform(*K1), rng.uniform(*K2), 0.0, 0.0, 0.0])
    return CameraPose(width, height, matrix, dist, rvec.ravel(), tvec, tilt, distance)
