"""The emulated robot's bed: where the phone lies, seeded, and the maps between bed millimetres and screen pixels.

A lab's phone holder never puts the phone exactly where a drawing says, so
the harness must calibrate; the emulated bed does the same on purpose. The
seed (``harness emulate --bench-seed N``, random when not given) picks the
phone's offset from the middle of the robot's travel (up to ``MAX_OFFSET_MM``)
and its rotation (up to ``MAX_ROTATION_DEG``), and the holder's shim under it
(the glass height varies a little). The seed and the placement are told only
through the control socket (``bench``, behind its token), never in the
JSON line the harness reads: a harness that knew them would not calibrate.

Frames: bed millimetres are the robot's machine frame after homing (X, Y in
``-travel..0``, Z up, the glass at ``glass_z``); the phone lies face up with
its top towards +Y. Screen pixels are the profile's (x right, y down); the
capacitive keys lie below the screen's bottom edge (``PhoneBody``).
One ``Bench`` per emulated phone (``bench_of``) is shared by the robot (its
contacts become touches) and the camera (it draws the phone where it lies).
"""

from __future__ import annotations

import math
import random
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable

from harness.emulator.transport_service import CommandHandler, takes
from harness.phone_body import KEY_RADIUS_MM, PhoneBody
from harness.profiles import Profile

MAX_OFFSET_MM = 10.0
MAX_ROTATION_DEG = 5.0
#: The middle of the emulated robot's travel ($130=150, $131=200): where a holder puts the phone's centre.
BED_CENTRE_MM = (-75.0, -100.0)
#: The top of the holder plate the phone lies on, and how much the shim under the phone may add.
BED_Z_MM = -48.0
MAX_SHIM_MM = 2.0

Point = tuple[float, float]


@dataclass
class Bench:
    """One phone on the bed: its body, its placement, and the maps between bed mm and screen px."""

    body: PhoneBody
    seed: int
    centre: Point          # the body's centre, bed mm
    angle_deg: float       # the body's rotation on the bed, counter-clockwise seen from above
    glass_z: float         # the top of the glass, bed mm
    #: Where the stylus tip is now (bed mm, x, y, z); the robot sets it, the camera draws it.
    stylus: Callable[[], tuple[float, float, float]] | None = field(default=None, repr=False)

    # ---------------------------------------------------------------- body mm (origin: body centre, v down)
    def _to_bed(self, u: float, v: float) -> Point:
        a = math.radians(self.angle_deg)
        # the phone's top is towards +Y: body v (down the screen) is bed -Y before the rotation
        x, y = u, -v
        return (self.centre[0] + x * math.cos(a) - y * math.sin(a), self.centre[1] + x * math.sin(a) + y * math.cos(a))

    def _to_body(self, bx: float, by: float) -> Point:
        a = math.radians(self.angle_deg)
        dx, dy = bx - self.centre[0], by - self.centre[1]
        x, y = dx * math.cos(a) + dy * math.sin(a), -dx * math.sin(a) + dy * math.cos(a)
        return x, -y

    def _screen_origin_body(self) -> Point:
        ox, oy = self.body.screen_origin_mm
        return ox - self.body.width_mm / 2, oy - self.body.height_mm / 2

    # ---------------------------------------------------------------- the maps
    def bed_mm(self, px: float, py: float) -> Point:
        """The bed point (mm) under screen pixel (px, py); pixels past the screen's edges extend the map."""
        ox, oy = self._screen_origin_body()
        k = self.body.mm_per_px
        return self._to_bed(ox + px * k, oy + py * k)

    def screen_px(self, x: float, y: float) -> Point:
        """The screen pixel (px, py) over bed point (x, y) mm (outside the screen when off it)."""
        u, v = self._to_body(x, y)
        ox, oy = self._screen_origin_body()
        k = self.body.mm_per_px
        return (u - ox) / k, (v - oy) / k

    def on_screen(self, px: float, py: float) -> bool:
        return 0 <= px < self.body.px_w and 0 <= py < self.body.px_h

    def key_at(self, x: float, y: float) -> str | None:
        """The capacitive key whose pad holds bed point (x, y) mm, if any."""
        px, py = self.screen_px(x, y)
        radius = KEY_RADIUS_MM / self.body.mm_per_px
        for name, (kx, ky) in self.body.keys_px().items():
            if abs(px - kx) <= radius and abs(py - ky) <= radius:
                return name
        return None

    def on_body(self, x: float, y: float) -> bool:
        u, v = self._to_body(x, y)
        return abs(u) <= self.body.width_mm / 2 and abs(v) <= self.body.height_mm / 2

    def screen_corners_mm(self) -> list[Point]:
        """The lit screen's corners on the bed: top-left, top-right, bottom-right, bottom-left."""
        w, h = self.body.px_w, self.body.px_h
        return [self.bed_mm(0, 0), self.bed_mm(w, 0), self.bed_mm(w, h), self.bed_mm(0, h)]

    def body_corners_mm(self) -> list[Point]:
        """The body's outline on the bed, in the same order."""
        hw, hh = self.body.width_mm / 2, self.body.height_mm / 2
        return [self._to_bed(-hw, -hh), self._to_bed(hw, -hh), self._to_bed(hw, hh), self._to_bed(-hw, hh)]

    def keys_mm(self) -> dict[str, Point]:
        return {name: self.bed_mm(px, py) for name, (px, py) in self.body.keys_px().items()}

    def describe(self) -> dict[str, Any]:
        """Everything about the placement, for the control socket (never for the harness)."""
        return {"seed": self.seed, "centre": [round(v, 4) for v in self.centre], "angle_deg": round(self.angle_deg, 4),
                "glass_z": round(self.glass_z, 4), "screen_mm": [round(v, 4) for v in self.body.screen_mm],
                "mm_per_px": self.body.mm_per_px,
                "screen_corners": [[round(v, 4) for v in p] for p in self.screen_corners_mm()],
                "keys": {k: [round(v, 4) for v in p] for k, p in self.keys_mm().items()}}


def place(profile: Profile, seed: int | None = None) -> Bench:
    """Lay ``profile``'s phone on the bed at the placement ``seed`` picks (a fresh random seed when None)."""
    if profile.body is None:
        raise ValueError(f"profile {profile.name} has no [body] table: it cannot lie on a robot's bed")
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)
    rng = random.Random(seed)
    r, t = MAX_OFFSET_MM * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    centre = (BED_CENTRE_MM[0] + r * math.cos(t), BED_CENTRE_MM[1] + r * math.sin(t))
    angle = rng.uniform(-MAX_ROTATION_DEG, MAX_ROTATION_DEG)
    glass_z = BED_Z_MM + rng.uniform(0, MAX_SHIM_MM) + profile.body.thickness_mm
    return Bench(profile.body, seed, centre, angle, glass_z)


_BENCHES: "weakref.WeakKeyDictionary[Any, Bench]" = weakref.WeakKeyDictionary()


def bench_of(phone: Any, options: dict[str, Any]) -> Bench:
    """The one bench of an emulated phone (made on first ask, seeded by the ``bench_seed`` option)."""
    bench = _BENCHES.get(phone)
    if bench is None:
        seed = options.get("bench_seed")
        bench = _BENCHES[phone] = place(phone.profile, None if seed is None else int(seed))
    return bench


class BenchService:
    """The ``bench`` control verb: the placement, for lab set-up and the emulator's own tests."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench

    def start(self) -> dict[str, Any]:
        return {}  # no endpoint: the placement is not announced

    def stop(self) -> None:
        pass

    def commands(self) -> dict[str, CommandHandler]:
        return {"bench": takes("")(lambda req: self.bench.describe())}


def bench_service(phone: Any, options: dict[str, Any]) -> BenchService | None:
    """Present when the phone lies on a bed: with ``--robot`` or ``--camera``."""
    if not (options.get("robot") or options.get("camera")):
        return None
    return BenchService(bench_of(phone, options))
