"""Seeded perturbations of screenshots: what a frame from another phone, a camera or a busy screen looks like.

Used by the vision tests and ``benchmarks/bench_vision.py`` to check that
recognition holds on frames it was not recorded from. Every perturbation
takes the image and a ``numpy`` generator, so a failure reproduces from
its seed.

- ``jpeg``: JPEG quality 25;
- ``noise``: Gaussian noise, sigma 12 grey levels;
- ``blur``: Gaussian blur, sigma 0.5 to 2 device pixels;
- ``brightness``: every channel times 0.7 to 1.3;
- ``shift``: the picture moved 6 pixels (each direction -6..6, at least one at 6);
- ``scale``: the frame resized by 0.8 to 1.2 (a panel of another resolution);
- ``banner``: a notification band of any colour, dark or light, with text, over up to the top quarter;
- ``finger``: a fingertip or stylus blob over part of the screen;
- ``volume``: the volume overlay (a dark band with a slider) over the top.
"""

from __future__ import annotations

import io
import zlib
from itertools import combinations
from typing import Callable

import cv2
import numpy as np
from PIL import Image

Perturbation = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def jpeg(image: np.ndarray, rng: np.random.Generator, quality: int = 25) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image[:, :, :3])).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


def noise(image: np.ndarray, rng: np.random.Generator, sigma: float = 12.0) -> np.ndarray:
    return np.clip(image.astype(np.float32) + rng.normal(0, sigma, image.shape).astype(np.float32), 0, 255).astype(np.uint8)


def blur(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return cv2.GaussianBlur(image, (0, 0), float(rng.uniform(0.5, 2.0)))


def brightness(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    gain = float(rng.choice([rng.uniform(0.7, 0.85), rng.uniform(1.15, 1.3)]))
    return np.clip(image.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def shift_by(image: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """The picture moved by (dx, dy) pixels, the edge pixels repeated into the gap (a camera framing it off-centre)."""
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(image, m, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REPLICATE)


def shift(image: np.ndarray, rng: np.random.Generator, pixels: int = 6) -> np.ndarray:
    dx, dy = (int(v) for v in rng.integers(-pixels, pixels + 1, 2))
    if max(abs(dx), abs(dy)) < pixels:
        dx = pixels if dx >= 0 else -pixels
    return shift_by(image, dx, dy)


def scale_by(image: np.ndarray, factor: float) -> np.ndarray:
    """The frame resized by ``factor`` (a panel of another resolution); a point (x, y) goes to (x, y) * factor."""
    h, w = image.shape[:2]
    return cv2.resize(image, (round(w * factor), round(h * factor)), interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)


def scale(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return scale_by(image, float(rng.uniform(0.8, 1.2)))


def _ink_for(colour: np.ndarray) -> tuple[int, int, int]:
    return (255, 255, 255) if colour.mean() < 140 else (20, 20, 20)


def banner(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A notification of any colour over the top (a quarter of the screen at most), with two lines of text."""
    out = image.copy()
    h, w = out.shape[:2]
    band = int(h * rng.uniform(0.06, 0.25))
    colour = rng.integers(0, 256, 3)
    out[:band] = colour
    ink = _ink_for(colour)
    words = ["New message", "Calendar", "Battery saver is on", "Update ready", "3 missed calls", "Wi-Fi networks"]
    for i in range(max(1, min(3, band // max(1, int(w * 0.08))))):
        text = " ".join(rng.choice(words, 2))
        size = w / 480 * float(rng.uniform(0.6, 0.9))
        cv2.putText(out, text, (int(w * 0.05), int(band * (i + 1) / 4 + w * 0.03)), cv2.FONT_HERSHEY_SIMPLEX, size, ink,
                    max(1, round(w / 480 * 1.5)), cv2.LINE_AA)
    return out


def finger(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A fingertip (skin tone) or a stylus tip (dark) over a random part of the screen."""
    out = image.copy()
    h, w = out.shape[:2]
    cx, cy = int(rng.uniform(0.1, 0.9) * w), int(rng.uniform(0.15, 0.95) * h)
    axes = (int(w * rng.uniform(0.07, 0.13)), int(w * rng.uniform(0.10, 0.18)))
    colour = tuple(int(v) for v in (rng.choice([[224, 172, 140], [141, 85, 60], [40, 40, 45], [250, 220, 200]])))
    cv2.ellipse(out, (cx, cy), axes, float(rng.uniform(-30, 30)), 0, 360, colour, -1, cv2.LINE_AA)
    cv2.rectangle(out, (cx - axes[0], cy), (cx + axes[0], h), colour, -1)  # the finger goes on to the edge
    return out


def volume(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Windows Phone's volume overlay: a dark band over the top with a label and a slider."""
    out = image.copy()
    h, w = out.shape[:2]
    band = int(w * rng.uniform(0.22, 0.30))
    grey = int(rng.integers(20, 70))
    out[:band] = grey
    s = w / 480
    cv2.putText(out, f"ringer {int(rng.integers(0, 30))}", (int(24 * s), int(50 * s)), cv2.FONT_HERSHEY_SIMPLEX,
                0.8 * s, (255, 255, 255), max(1, round(1.5 * s)), cv2.LINE_AA)
    level = rng.uniform(0.1, 0.9)
    y = int(band * 0.7)
    cv2.rectangle(out, (int(24 * s), y), (int(w - 24 * s), y + int(6 * s)), (120, 120, 120), -1)
    cv2.rectangle(out, (int(24 * s), y), (int(24 * s + (w - 48 * s) * level), y + int(6 * s)), (255, 255, 255), -1)
    return out


PERTURBATIONS: dict[str, Perturbation] = {
    "jpeg": jpeg, "noise": noise, "blur": blur, "brightness": brightness, "shift": shift, "scale": scale,
    "banner": banner, "finger": finger, "volume": volume,
}
#: Each alone, then every pair (applied left to right; a geometric change last, as a camera sees a covered screen).
ORDERED = ["banner", "finger", "volume", "brightness", "blur", "noise", "jpeg", "shift", "scale"]
PAIRS = [f"{a}+{b}" for a, b in combinations(ORDERED, 2)]
#: What lies over the page (the rest change the page itself).
OVERLAYS = ("banner", "finger", "volume")


def frame_rng(*key: object) -> np.random.Generator:
    """The generator one frame's perturbation is drawn from, seeded from its key (seed, font, profile, theme,
    screen, perturbation): a frame found wrong in a sweep reproduces on its own."""
    return np.random.default_rng(zlib.crc32("/".join(map(str, key)).encode()))


def apply(image: np.ndarray, name: str, rng: np.random.Generator) -> np.ndarray:
    """``image`` under ``name`` ("clean", one perturbation, or "a+b")."""
    if name == "clean":
        return image
    for part in name.split("+"):
        image = PERTURBATIONS[part](image, rng)
    return image
